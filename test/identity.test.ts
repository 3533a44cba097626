import {
  AccountDocument,
  ApiKeysDocument,
  CreateApiKeyDocument,
  CreateTaskDocument,
  LoginDocument,
  MeDocument,
  RefreshTokenDocument,
  RevokeApiKeyDocument,
  StoreMemoryDocument,
} from './generated/graphql';
import { signToken } from '../lib/tokens';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type TestPlatform } from './support/platform';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ API_KEY_CACHE_SECONDS: '1' });
});
afterAll(() => t.close());

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  body.errors?.[0]?.extensions?.code;

describe('sessions', () => {
  test('register → login → refresh → me', async () => {
    const user = await t.register('Margaret');
    expect((await user.data(MeDocument)).me).toMatchObject({ id: user.id, email: user.email, role: 'USER' });

    const { login } = await t.data(LoginDocument, {
      input: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(login.account.id).toBe(user.id);
    const { refreshToken } = await t.data(RefreshTokenDocument, { refreshToken: login.refreshToken });
    expect(refreshToken.refreshToken).not.toBe(login.refreshToken);
    expect((await t.client(refreshToken.accessToken).data(MeDocument)).me.id).toBe(user.id);
  });

  test('a refresh token used twice revokes its whole family', async () => {
    const user = await t.register();
    const first = await t.data(RefreshTokenDocument, { refreshToken: user.refreshToken });
    const reuse = await t.request(RefreshTokenDocument, { refreshToken: user.refreshToken });
    expect(codeOf(reuse.body)).toBe('UNAUTHENTICATED');
    // The token issued before the reuse was detected is revoked too.
    const next = await t.request(RefreshTokenDocument, { refreshToken: first.refreshToken.refreshToken });
    expect(codeOf(next.body)).toBe('UNAUTHENTICATED');
    // A fresh sign-in still works.
    await t.data(LoginDocument, { input: { email: user.email, password: user.password } });
  });

  test('a wrong password and an unknown email get the same refusal', async () => {
    const user = await t.register();
    const wrong = await t.request(LoginDocument, {
      input: { email: user.email, password: 'not the password' },
    });
    const unknown = await t.request(LoginDocument, {
      input: { email: 'nobody@example.com', password: 'whatever pw' },
    });
    expect(codeOf(wrong.body)).toBe('UNAUTHENTICATED');
    expect(wrong.body.errors?.[0].message).toBe(unknown.body.errors?.[0].message);
  });

  test.each([
    ['expired', (id: string) => signToken({ sub: id, aud: 'agentry-api', role: 'USER' }, t.secrets.jwt, -5)],
    [
      'tampered',
      (id: string) =>
        signToken({ sub: id, aud: 'agentry-api', role: 'USER' }, t.secrets.jwt, 60).replace(/\.(\w)/, '.X$1'),
    ],
    [
      'signed with another secret',
      (id: string) => signToken({ sub: id, aud: 'agentry-api', role: 'ADMIN' }, 'x'.repeat(40), 60),
    ],
    [
      'for another audience',
      (id: string) => signToken({ sub: id, aud: 'agentry-subgraphs', role: 'USER' }, t.secrets.jwt, 60),
    ],
  ])('an %s access token is refused with 401', async (_kind, forge) => {
    const user = await t.register();
    const { status, body } = await t.client(forge(user.id)).request(MeDocument);
    expect(status).toBe(401);
    expect(codeOf(body)).toBe('UNAUTHENTICATED');
  });

  test('no credential: public fields work, protected ones answer 401', async () => {
    const { status, body } = await t.request(MeDocument);
    expect(status).toBe(401);
    expect(codeOf(body)).toBe('UNAUTHENTICATED');
  });
});

describe('API keys', () => {
  test('created once, listed without the secret, usable, revoked within the cache window', async () => {
    const user = await t.register();
    const { createApiKey } = await user.data(CreateApiKeyDocument, {
      input: { name: 'ci', scopes: ['tasks', 'memory'], expiresInDays: 30 },
    });
    expect(createApiKey.key).toMatch(/^agx_live_[\w-]{43}$/);
    expect(createApiKey.key.startsWith(createApiKey.apiKey.prefix)).toBe(true);
    expect(createApiKey.apiKey).toMatchObject({ status: 'ACTIVE', scopes: ['tasks', 'memory'] });

    const listed = await user.request(ApiKeysDocument);
    expect(JSON.stringify(listed.body)).not.toContain(createApiKey.key);
    expect(listed.body.data?.apiKeys.nodes).toEqual([
      expect.objectContaining({ id: createApiKey.apiKey.id, name: 'ci', status: 'ACTIVE' }),
    ]);

    const byKey = t.client(createApiKey.key);
    expect((await byKey.data(MeDocument)).me.id).toBe(user.id);
    const viaHeader = await t.request(MeDocument, undefined, { 'x-api-key': createApiKey.key });
    expect(viaHeader.body.data?.me.id).toBe(user.id);
    await byKey.data(CreateTaskDocument, { input: { title: 'by key' } });

    await user.data(RevokeApiKeyDocument, { id: createApiKey.apiKey.id });
    await new Promise((resolve) => setTimeout(resolve, 1100)); // API_KEY_CACHE_SECONDS=1
    const refused = await byKey.request(MeDocument);
    expect(refused.status).toBe(401);
    expect(codeOf(refused.body)).toBe('UNAUTHENTICATED');
    expect((await user.data(ApiKeysDocument)).apiKeys.nodes[0].status).toBe('REVOKED');
  });

  test('a key without the scope is forbidden; a key cannot manage keys', async () => {
    const user = await t.register();
    const { createApiKey } = await user.data(CreateApiKeyDocument, {
      input: { name: 'memory only', scopes: ['memory'] },
    });
    const byKey = t.client(createApiKey.key);

    const tasks = await byKey.request(CreateTaskDocument, { input: { title: 'not allowed' } });
    expect(codeOf(tasks.body)).toBe('FORBIDDEN');
    const agentId = (await createAgent(user)).id;
    await byKey.data(StoreMemoryDocument, { input: { agentId, content: 'allowed' } });

    const mint = await byKey.request(CreateApiKeyDocument, { input: { name: 'escalate', scopes: ['*'] } });
    expect(codeOf(mint.body)).toBe('FORBIDDEN');
  });

  test('unknown scopes and bad expiries are bad input', async () => {
    const user = await t.register();
    const scopes = await user.request(CreateApiKeyDocument, { input: { name: 'x', scopes: ['root'] } });
    expect(codeOf(scopes.body)).toBe('BAD_USER_INPUT');
    const expiry = await user.request(CreateApiKeyDocument, {
      input: { name: 'x', scopes: ['tasks'], expiresInDays: 0 },
    });
    expect(codeOf(expiry.body)).toBe('BAD_USER_INPUT');
  });

  test('an unknown key is refused with 401', async () => {
    const { status } = await t.client('agx_live_' + 'A'.repeat(43)).request(MeDocument);
    expect(status).toBe(401);
  });
});

test('another account is NOT_FOUND, not forbidden', async () => {
  const [a, b] = [await t.register(), await t.register()];
  const { body } = await b.request(AccountDocument, { id: a.id });
  expect(codeOf(body)).toBe('NOT_FOUND');
  expect((await a.data(AccountDocument, { id: a.id })).account.email).toBe(a.email);
});
