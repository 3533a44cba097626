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
  category: 'Productivity',
  service_price: '0.50',
  endpoint_url: 'https://summ.example.com/process',
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
  const unknown = await rest(t)('GET', '/autx/v1/no-such-route/');
  expect(unknown.status).toBe(404);
  expect(unknown.body).toEqual({ detail: expect.stringMatching(/no route/) });
});

describe('auth and API keys', () => {
  const anonymous = () => rest(t);
  const TOKENS = {
    access_token: expect.any(String),
    refresh_token: expect.stringMatching(/^agx_rt_/),
    token_type: 'bearer',
    expires_in: 900,
    user: { id: expect.stringMatching(/^acc_/), email: 'autx.user@example.com' },
  };

  test('register 201 → login → refresh → me, in the documented paths', async () => {
    const credentials = { email: 'autx.user@example.com', password: 'a long passphrase' };
    const registered = await anonymous()('POST', '/autx/v1/auth/register', { body: credentials });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual(TOKENS);

    const login = await anonymous()('POST', '/autx/v1/auth/login', { body: credentials });
    expect(login.status).toBe(200);
    expect(login.body).toEqual(TOKENS);

    const refreshed = await anonymous()('POST', '/autx/v1/auth/refresh', {
      body: { refresh_token: login.body.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(login.body.refresh_token);

    const me = await rest(t, refreshed.body.access_token)('GET', '/autx/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: registered.body.user.id,
      email: 'autx.user@example.com',
      email_verified: false,
      display_name: 'autx.user',
      role: 'user',
      created_at: ISO,
    });

    const again = await anonymous()('POST', '/autx/v1/auth/refresh', {
      body: { refresh_token: login.body.refresh_token },
    });
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ detail: expect.stringMatching(/already used/) });
  });

  test('errors: duplicate email 409, wrong password 401, missing field 422, me without a token 401', async () => {
    const duplicate = await anonymous()('POST', '/autx/v1/auth/register', {
      body: { email: user.email, password: 'another long one' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ detail: expect.stringMatching(/already registered/) });
    const wrong = await anonymous()('POST', '/autx/v1/auth/login', {
      body: { email: user.email, password: 'nope nope nope' },
    });
    expect(wrong.status).toBe(401);
    const missing = await anonymous()('POST', '/autx/v1/auth/login', { body: { email: user.email } });
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toMatch(/password/);
    expect((await anonymous()('GET', '/autx/v1/auth/me')).status).toBe(401);
  });

  test('POST /api-keys/ shows the key once; GET lists prefixes; DELETE revokes; a key cannot mint keys', async () => {
    const created = await api('POST', '/autx/v1/api-keys/', {
      body: { name: 'My Production Key', scopes: 'proxy,orders', expires_in_days: 90 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'My Production Key',
      key: expect.stringMatching(/^agx_live_/),
      prefix: created.body.key.slice(0, created.body.prefix.length),
      scopes: 'proxy,orders',
      status: 'active',
      expires_at: ISO,
      last_used_at: null,
      created_at: ISO,
    });

    const listed = await api('GET', '/autx/v1/api-keys/');
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect(listed.body.map((k: { id: string }) => k.id)).toContain(created.body.id);

    const byKey = rest(t, created.body.key);
    const mint = await byKey('POST', '/autx/v1/api-keys/', { body: { name: 'x', scopes: '*' } });
    expect(mint.status).toBe(403);
    expect(mint.body).toEqual({ detail: expect.any(String) });

    const revoked = await api('DELETE', `/autx/v1/api-keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect((await api('DELETE', '/autx/v1/api-keys/key_01m85k0yytjenhddgshb1th258')).status).toBe(404);
  });
});
