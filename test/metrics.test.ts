/**
 * /metrics: guarded by METRICS_TOKEN on the public port, open on METRICS_PORT, and moved by known
 * traffic by exactly as much as that traffic was: requests per route and operation, errors by code,
 * subgraph fetches, subscriptions, chat tokens, ledger transfers and rate-limit refusals.
 */
import { newId } from '../lib';
import { ChatDocument, GrantCreditsDocument, MeDocument, MyMemoryEventsDocument } from './generated/graphql';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { subscribe } from './support/subscriptions';
import { registerAdmin } from './tasks.support';

const TOKEN = 'metrics-token-for-the-test';
const LIMIT = 30;

let llm: LlmDouble;
let t: TestPlatform;
let ada: User;
let admin: Client;

beforeAll(async () => {
  llm = await startLlmDouble();
  useUpstream(llm);
  t = await startTestPlatform({
    METRICS_TOKEN: TOKEN,
    METRICS_PORT: '0',
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
  });
  ada = await t.register('Ada');
  admin = await registerAdmin(t);
});
afterAll(async () => {
  await t.close();
  await llm.close();
});

type Figures = Map<string, number>;

/** Prometheus text as `name{labels}` → value. */
function parse(text: string): Figures {
  const figures: Figures = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    figures.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return figures;
}

/** The sum of a metric's series whose labels include all of `labels`. */
function sum(figures: Figures, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [series, value] of figures) {
    const match = /^([\w:]+)(?:\{(.*)\})?$/.exec(series);
    if (!match || match[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`));
    if (has) total += value;
  }
  return total;
}

async function scrape(): Promise<Figures> {
  const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parse(await response.text());
}

test('the public /metrics needs the token; the internal listener does not', async () => {
  expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
  const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer not-the-token!!' } });
  expect(wrong.status).toBe(401);
  expect((await wrong.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  const internal = await fetch(t.platform.router.metricsUrl!);
  expect(internal.status).toBe(200);
  expect(await internal.text()).toContain('agentry_http_requests_total');
});

test('requests, errors, subgraph fetches, chat tokens and transfers move by the traffic sent', async () => {
  const before = await scrape();
  for (let i = 0; i < 4; i++) await ada.data(MeDocument, {});
  for (let i = 0; i < 2; i++) expect((await fetch(`${t.url}/api/gateway-status`)).status).toBe(200);
  const missing = await fetch(`${t.url}/api/tasks/no-such-task`, {
    headers: { authorization: `Bearer ${ada.credential}` },
  });
  expect(missing.status).toBe(404);
  const bad = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${ada.credential}`,
    },
    body: JSON.stringify({ query: 'query Broken { me { noSuchField } }', operationName: 'Broken' }),
  });
  expect(bad.status).toBe(400);
  await ada.data(ChatDocument, { input: { content: 'Say hello' } });
  await admin.data(GrantCreditsDocument, {
    input: { id: newId('grant'), accountId: ada.id, asset: 'USD', amountMinor: '500' },
  });
  const after = await scrape();
  const moved = (name: string, labels: Record<string, string> = {}) =>
    sum(after, name, labels) - sum(before, name, labels);

  expect(moved('agentry_http_requests_total', { surface: 'graphql', route: 'Me', status: '200' })).toBe(4);
  expect(moved('agentry_http_request_duration_seconds_count', { surface: 'graphql', route: 'Me' })).toBe(4);
  expect(moved('agentry_http_requests_total', { route: 'Broken', status: '400' })).toBe(1);
  expect(
    moved('agentry_http_requests_total', { surface: 'rest', route: 'hermes GET /api/gateway-status' }),
  ).toBe(2);
  expect(moved('agentry_http_requests_total', { surface: 'rest', status: '404' })).toBe(1);
  expect(moved('agentry_errors_total', { surface: 'rest', code: 'NOT_FOUND' })).toBe(1);
  expect(moved('agentry_errors_total', { surface: 'graphql', code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
  // Me is answered by the accounts subgraph, one fetch per request.
  expect(
    moved('agentry_subgraph_request_duration_seconds_count', { subgraph: 'accounts' }),
  ).toBeGreaterThanOrEqual(4);
  expect(moved('agentry_chat_tokens_streamed_total', { subgraph: 'sessions' })).toBe(ANSWER.length);
  expect(sum(after, 'agentry_chat_streams_open')).toBe(0);
  expect(moved('agentry_ledger_transfers_total', { subgraph: 'wallet', kind: 'SINGLE' })).toBe(1);
  expect(moved('agentry_sql_statements_total', { subgraph: 'wallet' })).toBeGreaterThan(0);
  for (const subgraph of ['accounts', 'wallet'])
    expect(after.has(`agentry_db_pool_connections{subgraph="${subgraph}",state="used"}`)).toBe(true);
  expect(after.get('agentry_webhook_queue_depth{subgraph="tasks"}')).toBe(0);
});

test('open subscriptions are counted while they are open', async () => {
  const open = () => scrape().then((f) => sum(f, 'agentry_subscriptions_open'));
  const base = await open();
  const events = subscribe('graphql-ws', t.graphqlUrl, MyMemoryEventsDocument, {}, ada.credential);
  const first = events.next(3000).catch(() => undefined);
  let seen = base;
  for (let i = 0; i < 50 && seen === base; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await open();
  }
  expect(seen).toBe(base + 1);
  await events.close();
  await first;
  for (let i = 0; i < 50 && seen !== base; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await open();
  }
  expect(seen).toBe(base);
});

test('rate-limit refusals are counted one per refused request', async () => {
  const before = sum(await scrape(), 'agentry_rate_limit_refusals_total');
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 3; i++) statuses.push((await ada.request(MeDocument, {})).status);
  const refused = statuses.filter((status) => status === 429).length;
  expect(refused).toBeGreaterThan(0);
  expect(sum(await scrape(), 'agentry_rate_limit_refusals_total') - before).toBe(refused);
});
