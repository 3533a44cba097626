/**
 * 000/001's `/v1/*` beyond chat and models: OpenAI-compatible calls passed to the provider of their
 * model (the LLM double speaking OpenAI's embeddings and completions protocols), answered as it
 * answered (streams passed through as its Server-Sent Events), each call authenticated, metered in
 * the sessions subgraph's relay_call table and, with BILLING=on as here, paid from credits: held
 * before the call, posted at the metered price or voided after.
 */
import {
  ANSWER,
  CONFIGURED_KEY,
  startLlmDouble,
  RESPONSE_USAGE,
  UNKNOWN_EMBEDDER,
  USAGE,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { sql } from '../tasks.support';
import { fundedUser, ledgerViolations, usdCredits, withDatabase } from '../wallet.support';
import { rest, type Rest } from './support';

/** One token per word at these prices: 1,000 µUSD per thousand tokens and 50 µUSD a call. */
const env = {
  BILLING: 'on',
  LLM_PRICE_PER_1K_TOKENS_MICRO_USD: '1000',
  LLM_PRICE_PER_CALL_MICRO_USD: '50',
};
/** What the double's completion costs: its 16 reported tokens and the flat fee. */
const COMPLETION_PRICE = 16n + 50n;
/** Plenty for every call here. */
const FUNDS = 1_000_000n;
let double: LlmDouble;
let t: TestPlatform;
let api: Rest;
let ownerId: string;
let credential: string;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, env);
  t = await startTestPlatform();
  const user = await fundedUser(t, FUNDS, 'Embedder');
  api = rest(t, user.credential);
  ownerId = user.id;
  credential = user.credential!;
});
afterAll(async () => {
  for (const name of Object.keys(env)) delete process.env[name];
  await t.close();
  await double.close();
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

interface RelayRow {
  endpoint: string;
  model: string;
  provider: string;
  status: number;
  prompt_tokens: number;
  price_micro_usd: string;
}

const meteredCalls = () =>
  withDatabase(t, async (client) => {
    const { rows } = await client.query<RelayRow>(
      `select "endpoint", "model", "provider", "status", "prompt_tokens", "price_micro_usd"
         from "sessions"."relay_call" where "owner_id" = $1 order by "created_at", "id"`,
      [ownerId],
    );
    return rows;
  });

test('embeddings go to the provider with its key, come back as it sent them, and are metered', async () => {
  const sent = { model: 'double-1', input: ['gaze at the screen', 'blink'] };
  const answer = await api('POST', '/v1/embeddings', { body: sent });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toContain('application/json');
  expect(answer.body).toEqual({
    object: 'list',
    model: 'double-1',
    data: [
      { object: 'embedding', index: 0, embedding: [0.18, 0.4, 0.103] },
      { object: 'embedding', index: 1, embedding: [0.05, 0.1, 0.098] },
    ],
    usage: { prompt_tokens: 5, total_tokens: 5 },
  });
  const upstream = double.requests.at(-1)!;
  expect(upstream.body).toEqual(sent);
  expect(upstream.authorization).toBe(`Bearer ${CONFIGURED_KEY}`);
  // 5 tokens at 1,000 per thousand round up to 5, plus 50 a call.
  expect(answer.headers.get('x-metered-price-micro-usd')).toBe('55');
  expect(answer.text).not.toContain(CONFIGURED_KEY);
  expect(await meteredCalls()).toEqual([
    {
      endpoint: 'embeddings',
      model: 'double-1',
      provider: 'default',
      status: 200,
      prompt_tokens: 5,
      price_micro_usd: '55',
    },
  ]);
});

test("a call naming no model goes to the default model; the provider's refusal passes through, unrecorded", async () => {
  const before = (await meteredCalls()).length;
  const defaulted = await api('POST', '/v1/embeddings', { body: { input: 'hello there' } });
  expect(defaulted.status).toBe(200);
  expect(double.requests.at(-1)!.model).toBe('default');

  const refused = await api('POST', '/v1/embeddings', { body: { model: UNKNOWN_EMBEDDER, input: 'x' } });
  expect(refused.status).toBe(404);
  expect(refused.body).toEqual({
    error: {
      message: `The model '${UNKNOWN_EMBEDDER}' does not exist`,
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
  });
  expect(refused.headers.get('x-metered-price-micro-usd')).toBe('0');
  const calls = (await meteredCalls()).slice(before);
  // The refused call used nothing and is not recorded.
  expect(calls.map(({ model, status, price_micro_usd }) => [model, status, price_micro_usd])).toEqual([
    ['default', 200, '52'],
  ]);
});

test('refusals in OpenAI’s error format: no credential, unknown endpoint, not JSON, bad bounds, stream of embeddings', async () => {
  const upstreamCalls = double.requests.length;
  const before = (await meteredCalls()).length;
  const anonymous = await rest(t)('POST', '/v1/embeddings', { body: { model: 'double-1', input: 'x' } });
  expect(anonymous.status).toBe(401);
  expect(anonymous.body).toEqual({
    error: { message: expect.any(String), type: 'authentication_error', code: expect.any(String) },
  });

  const unknown = await api('POST', '/v1/files', { body: { model: 'double-1' } });
  expect(unknown.status).toBe(404);
  expect(unknown.body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
  expect(unknown.body.error.message).toContain('/v1/files');

  for (const [options, field] of [
    [{ raw: 'input=hello', headers: { 'content-type': 'text/plain' } }, 'JSON object'],
    [{ body: ['a list'] }, 'JSON object'],
    [{ body: { model: 42, input: 'x' } }, 'model'],
    [{ body: { model: 'double-1', prompt: 'x', max_tokens: 0 } }, 'max_tokens'],
    [{ body: { model: 'double-1', prompt: 'x', n: 1.5, stream: true } }, 'n must be a whole number'],
  ] as const) {
    const refused = await api('POST', '/v1/completions', options);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'bad_user_input' });
    expect(refused.body.error.message).toContain(field);
  }
  const streamedEmbeddings = await api('POST', '/v1/embeddings', {
    body: { model: 'double-1', input: 'x', stream: true },
  });
  expect(streamedEmbeddings.status).toBe(400);
  expect(streamedEmbeddings.body.error.message).toContain('stream');
  expect(double.requests.length).toBe(upstreamCalls);
  expect((await meteredCalls()).length).toBe(before);
});

interface RelayCall {
  id: string;
  status: number;
  streamed: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  price_micro_usd: string;
  charged_micro_usd: string;
}

/** The newest relay call of an owner, once recorded (a stream the client left is metered after it). */
async function lastCall(owner: string, after = ''): Promise<RelayCall> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [row] = await sql<RelayCall>(
      t,
      `select "id", "status", "streamed", "prompt_tokens", "completion_tokens",
              "price_micro_usd"::text, "charged_micro_usd"::text
         from "sessions"."relay_call" where "owner_id" = $1 and "id" > $2 order by "id" desc limit 1`,
      [owner, after],
    );
    if (row || Date.now() > deadline) return row;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The wallet's view of a call's hold and how it was resolved (its ids derive from the call id). */
const transfersOf = (id: string) =>
  sql<{ id: string; kind: string; amount: string }>(
    t,
    `select "id", "kind", "amount"::text from "wallet"."transfer"
      where "id" = $1 or "pending_id" = $1 order by "created_at", "id"`,
    [id],
  );

/** The `data` of each event of a text/event-stream body, heartbeats (comments) left out. */
const dataOf = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    );

/** The id of the owner's newest relay call so far ('' for none): later calls sort after it. */
const lastId = async () => {
  const [row] = await sql<{ id: string }>(
    t,
    `select max("id") as "id" from "sessions"."relay_call" where "owner_id" = $1`,
    [ownerId],
  );
  return row?.id ?? '';
};

test('a streamed completion passes through unchanged, ends with the upstream [DONE], and is charged its metered price', async () => {
  const before = await usdCredits(t, ownerId);
  const previous = await lastId();
  const sent = {
    model: 'double-1',
    prompt: 'Say hello',
    stream: true,
    stream_options: { include_usage: true },
  };
  const answer = await api('POST', '/v1/completions', { body: sent });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toContain('text/event-stream');
  const data = dataOf(answer.text);
  expect(data.at(-1)).toBe('[DONE]');
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(ANSWER.join(''));
  // The upstream's own chunks, field for field: its object type, ids and usage chunk.
  expect(chunks.every((c) => c.object === 'text_completion' && c.id === 'cmpl-double')).toBe(true);
  expect(chunks.at(-1)).toMatchObject({ choices: [], usage: USAGE });
  expect(answer.text).not.toContain(CONFIGURED_KEY);

  // Billed, the upstream is held to the completion bound the hold was priced with.
  const upstream = double.requests.at(-1)!;
  expect(upstream.body).toEqual({ ...sent, max_tokens: expect.any(Number) });

  const call = await lastCall(ownerId, previous);
  expect(call).toMatchObject({
    status: 200,
    streamed: true,
    prompt_tokens: USAGE.prompt_tokens,
    completion_tokens: USAGE.completion_tokens,
    price_micro_usd: String(COMPLETION_PRICE),
    charged_micro_usd: String(COMPLETION_PRICE),
  });
  const transfers = await transfersOf(call.id);
  expect(transfers.map((x) => x.id)).toEqual([call.id, `${call.id}.post`]);
  // The hold covered more than the price; what was posted is the metered price.
  expect(BigInt(transfers[0].amount)).toBeGreaterThan(COMPLETION_PRICE);
  expect(transfers[1].amount).toBe(String(COMPLETION_PRICE));
  expect(await usdCredits(t, ownerId)).toEqual({ posted: before.posted - COMPLETION_PRICE, held: 0n });
});

test('a streamed Responses call keeps its event names and ends with response.completed, metered from its usage', async () => {
  const previous = await lastId();
  const answer = await api('POST', '/v1/responses', {
    body: { model: 'double-1', input: 'Say hello', stream: true },
  });
  expect(answer.status).toBe(200);
  const events = answer.text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const [event, data] = block.split('\n');
      return [event.replace(/^event: /, ''), JSON.parse(data.replace(/^data: /, '')).type];
    });
  expect(events).toEqual([
    ['response.created', 'response.created'],
    ...ANSWER.map(() => ['response.output_text.delta', 'response.output_text.delta']),
    ['response.completed', 'response.completed'],
  ]);
  expect(answer.text).toContain(JSON.stringify(RESPONSE_USAGE));
  // Billed, the Responses bound is max_output_tokens.
  expect(double.requests.at(-1)!.body.max_output_tokens).toEqual(expect.any(Number));
  expect(await lastCall(ownerId, previous)).toMatchObject({
    streamed: true,
    prompt_tokens: RESPONSE_USAGE.input_tokens,
    completion_tokens: RESPONSE_USAGE.output_tokens,
    charged_micro_usd: String(COMPLETION_PRICE),
  });
});

test('a whole (not streamed) completion is charged too, and the totals count relay calls', async () => {
  const previous = await lastId();
  const answer = await api('POST', '/v1/completions', { body: { model: 'double-1', prompt: 'Hi' } });
  expect(answer.status).toBe(200);
  expect(answer.body.choices[0].text).toBe(ANSWER.join(''));
  expect(answer.headers.get('x-metered-price-micro-usd')).toBe(String(COMPLETION_PRICE));
  expect(answer.headers.get('x-charged-micro-usd')).toBe(String(COMPLETION_PRICE));
  expect(await lastCall(ownerId, previous)).toMatchObject({ streamed: false, charged_micro_usd: '66' });

  const calls = await sql<{ n: string; cost: string; charged: string }>(
    t,
    `select count(*) as "n", sum("price_micro_usd")::text as "cost", sum("charged_micro_usd")::text as "charged"
       from "sessions"."relay_call" where "owner_id" = $1`,
    [ownerId],
  );
  const usage = await api('GET', '/api/wallet/tempo/usage');
  expect(usage.status).toBe(200);
  // This user made relay calls only, so the totals are theirs.
  expect(usage.body.totals).toMatchObject({
    calls: Number(calls[0].n),
    total_usd: Number(calls[0].cost) / 1e6,
    charged_usd: Number(calls[0].charged) / 1e6,
  });
});

test('a client that leaves mid-stream aborts the upstream; the call is metered, its hold voided', async () => {
  const before = await usdCredits(t, ownerId);
  const previous = await lastId();
  const abort = new AbortController();
  const response = await fetch(`${t.url}/v1/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'slow', prompt: 'Count slowly', stream: true }),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  expect(first).toContain('"text":"w0 "');
  abort.abort();

  const aborted = await double.abortOf('slow', 5000);
  expect(aborted.aborted).toBe(true);
  const call = await lastCall(ownerId, previous);
  expect(call).toMatchObject({ streamed: true, charged_micro_usd: '0' });
  expect(BigInt(call.price_micro_usd)).toBeGreaterThan(0n);
  expect((await transfersOf(call.id)).map((x) => x.id)).toEqual([call.id, `${call.id}.void`]);
  expect(await usdCredits(t, ownerId)).toEqual({ posted: before.posted, held: 0n });
});

test('an upstream that goes silent before its first event is a 504; the call is metered, not charged', async () => {
  const before = await usdCredits(t, ownerId);
  const previous = await lastId();
  const stalled = await api('POST', '/v1/completions', {
    body: { model: 'stall', prompt: 'Say nothing', stream: true },
  });
  expect(stalled.status).toBe(504);
  expect(stalled.body.error).toMatchObject({ type: 'server_error', code: 'gateway_timeout' });
  const call = await lastCall(ownerId, previous);
  expect(call).toMatchObject({ streamed: true, completion_tokens: 0, charged_micro_usd: '0' });
  expect((await transfersOf(call.id)).map((x) => x.id)).toEqual([call.id, `${call.id}.void`]);
  expect(await usdCredits(t, ownerId)).toEqual({ posted: before.posted, held: 0n });
});

test('short of credits: 402 in OpenAI’s format, nothing sent upstream, nothing recorded', async () => {
  const poor = await fundedUser(t, 0n, 'Poor');
  const upstreamCalls = double.requests.length;
  for (const [path, body] of [
    ['/v1/completions', { model: 'double-1', prompt: 'Hi', stream: true }],
    ['/v1/completions', { model: 'double-1', prompt: 'Hi' }],
    ['/v1/embeddings', { model: 'double-1', input: 'Hi' }],
  ] as const) {
    const refused = await rest(t, poor.credential)('POST', path, { body });
    expect(refused.status).toBe(402);
    expect(refused.body).toEqual({
      error: { message: 'Insufficient credits', type: 'invalid_request_error', code: 'payment_required' },
    });
  }
  expect(double.requests.length).toBe(upstreamCalls);
  expect(await sql(t, `select 1 from "sessions"."relay_call" where "owner_id" = $1`, [poor.id])).toEqual([]);
});
