/** Contract of the autx dialect (reference 003) at its default mount /autx/v1. */
import { CreateApiKeyDocument, OpenLedgerAccountDocument, StartSessionDocument } from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('Autx');
  api = rest(t, user.credential);
});
afterAll(() => t.close());

const AGENT = {
  id: expect.stringMatching(/^agt_/),
  name: 'Summarizer Pro',
  ticker: 'SUMM',
  description: 'Text summarization agent',
  category: null,
  service_price: '0.50',
  endpoint_url: null,
  status: 'active',
  auth_tier: 'jwt_default',
  manifest: null,
  total_requests: 0,
  total_revenue: '0.00',
};

describe('agents', () => {
  let id: string;

  test('POST /agents/ creates an agent: 201 and the agent object, money as a decimal string', async () => {
    const { status, headers, body } = await api('POST', '/autx/v1/agents/', {
      body: {
        name: 'Summarizer Pro',
        ticker: 'SUMM',
        description: 'Text summarization agent',
        category: 'Productivity',
        endpoint_url: 'https://summ.example.com/process',
        service_price: 0.5,
        auth_tier: 'jwt_default',
      },
    });
    expect(status).toBe(201);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual(AGENT);
    id = body.id;
  });

  test('service_price as a decimal string keeps every cent', async () => {
    const { status, body } = await api('POST', '/autx/v1/agents/', {
      body: { name: 'Precise', ticker: 'PRCS', service_price: '19.99' },
    });
    expect(status).toBe(201);
    expect(body.service_price).toBe('19.99');
  });

  test('GET /agents/ lists agents as an array of the same shape; GET /agents/{id} answers one', async () => {
    const list = await rest(t)('GET', '/autx/v1/agents/');
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.body).toContainEqual({ ...AGENT, id });
    const one = await rest(t)('GET', `/autx/v1/agents/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ ...AGENT, id });
  });

  test('a second agent with a taken ticker is 409 in {detail}', async () => {
    const { status, body } = await api('POST', '/autx/v1/agents/', {
      body: { name: 'Copy', ticker: 'SUMM' },
    });
    expect(status).toBe(409);
    expect(body).toEqual({ detail: expect.stringMatching(/ticker SUMM is taken/) });
  });

  test('an API key without the agents scope is 403; with it, the agent is created', async () => {
    const { createApiKey: narrow } = await user.data(CreateApiKeyDocument, {
      input: { name: 'orders only', scopes: ['orders'] },
    });
    const refused = await rest(t)('POST', '/autx/v1/agents/', {
      headers: { 'x-api-key': narrow.key },
      body: { name: 'Nope', ticker: 'NOPE' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: expect.any(String) });

    const { createApiKey: agents } = await user.data(CreateApiKeyDocument, {
      input: { name: 'agents', scopes: ['agents'] },
    });
    const created = await rest(t, agents.key)('POST', '/autx/v1/agents/', {
      body: { name: 'Keyed', ticker: 'KEYD' },
    });
    expect(created.status).toBe(201);
  });
});

test('GET /credits/balance answers the caller’s USD balance as decimal strings', async () => {
  const none = await api('GET', '/autx/v1/credits/balance');
  expect(none.status).toBe(200);
  expect(none.body).toEqual({ balance_usd: '0.00', reserved_usd: '0.00' });
  await user.data(OpenLedgerAccountDocument, { asset: 'USD' });
  expect((await api('GET', '/autx/v1/credits/balance')).body).toEqual({
    balance_usd: '0.00',
    reserved_usd: '0.00',
  });
  expect((await rest(t)('GET', '/autx/v1/credits/balance')).status).toBe(401);
});

describe('sessions', () => {
  test('GET /sessions lists the caller’s sessions; GET /sessions/{id} answers the documented object', async () => {
    const { id: agentId } = (await api('GET', '/autx/v1/agents/')).body.find(
      (a: { ticker: string }) => a.ticker === 'SUMM',
    );
    const { startSession } = await user.data(StartSessionDocument, { input: { agentId, title: 'Chat' } });
    await user.data(StartSessionDocument, { input: { title: 'No agent' } });

    const list = await api('GET', '/autx/v1/sessions');
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(2);
    const one = await api('GET', `/autx/v1/sessions/${startSession.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      id: startSession.id,
      agent_ticker: 'SUMM',
      status: 'active',
      message_count: 0,
      consumed_usd: '0.00',
      started_at: ISO,
      closed_at: null,
    });
    expect(list.body).toContainEqual(one.body);
    expect(list.body.find((s: { id: string }) => s.id !== startSession.id).agent_ticker).toBeNull();
  });

  test('another account’s session is 404 in {detail}', async () => {
    const stranger = await t.register('Stranger');
    const { startSession } = await stranger.data(StartSessionDocument, { input: { title: 'Private' } });
    const { status, body } = await api('GET', `/autx/v1/sessions/${startSession.id}`);
    expect(status).toBe(404);
    expect(body).toEqual({ detail: expect.any(String) });
  });
});

test('the dialect answers only below its mount, and its unknown routes are its 404s', async () => {
  expect((await rest(t)('GET', '/agents/')).status).toBe(404);
  const unknown = await rest(t)('GET', '/autx/v1/orders/');
  expect(unknown.status).toBe(404);
  expect(unknown.body).toEqual({ detail: expect.stringMatching(/no route/) });
});
