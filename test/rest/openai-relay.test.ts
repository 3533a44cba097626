/**
 * 000/001's `/v1/*` beyond chat and models: OpenAI-compatible calls passed to the provider of their
 * model (the LLM double speaking OpenAI's embeddings protocol), answered as it answered, each call
 * authenticated and metered in the sessions subgraph's relay_call table.
 */
import {
  CONFIGURED_KEY,
  startLlmDouble,
  UNKNOWN_EMBEDDER,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { withDatabase } from '../wallet.support';
import { rest, type Rest } from './support';

/** One token per word at these prices: 1,000 µUSD per thousand tokens and 50 µUSD a call. */
const env = { LLM_PRICE_PER_1K_TOKENS_MICRO_USD: '1000', LLM_PRICE_PER_CALL_MICRO_USD: '50' };
let double: LlmDouble;
let t: TestPlatform;
let api: Rest;
let ownerId: string;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, env);
  t = await startTestPlatform();
  const user = await t.register('Embedder');
  api = rest(t, user.credential);
  ownerId = user.id;
});
afterAll(async () => {
  for (const name of Object.keys(env)) delete process.env[name];
  await t.close();
  await double.close();
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

test('refusals in OpenAI’s error format: no credential, unknown endpoint, not JSON, stream', async () => {
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
    [{ body: { model: 'double-1', input: 'x', stream: true } }, 'stream'],
  ] as const) {
    const refused = await api('POST', '/v1/completions', options);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'bad_user_input' });
    expect(refused.body.error.message).toContain(field);
  }
  expect(double.requests.length).toBe(upstreamCalls);
  expect((await meteredCalls()).length).toBe(before);
});
