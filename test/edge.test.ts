import { MeDocument, TasksWithPeopleDocument } from './generated/graphql';
import { signIdentity } from '../lib/identity';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

let t: TestPlatform;
let user: User;
beforeAll(async () => {
  t = await startTestPlatform({
    MAX_QUERY_DEPTH: '4',
    MAX_QUERY_ALIASES: '5',
    MAX_QUERY_TOKENS: '400',
    INTROSPECTION: 'false',
  });
  user = await t.register();
});
afterAll(() => t.close());

const tasksSubgraph = () => t.platform.subgraphs.find((s) => s.name === 'tasks')!.url;

async function straightToSubgraph(headers: Record<string, string>) {
  const response = await fetch(tasksSubgraph(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ tasks(first: 5) { totalCount } }' }),
  });
  return { status: response.status, body: await response.json() };
}

describe('identity cannot be forged', () => {
  const forged = (accountId: string) => ({
    accountId,
    role: 'ADMIN' as const,
    scopes: ['*'],
    via: 'jwt' as const,
  });

  test('a subgraph refuses an identity header signed with any other secret', async () => {
    const { status, body } = await straightToSubgraph({
      'x-agentry-identity': signIdentity(forged(user.id), 'y'.repeat(40)),
    });
    expect(status).toBe(401);
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('a subgraph refuses a plain JSON identity', async () => {
    const { status } = await straightToSubgraph({ 'x-agentry-identity': JSON.stringify(forged(user.id)) });
    expect(status).toBe(401);
  });

  test('a subgraph answers UNAUTHENTICATED when no identity comes with the request', async () => {
    const { body } = await straightToSubgraph({});
    expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  test('the same request with the identity the router signs is served', async () => {
    const { status, body } = await straightToSubgraph({
      'x-agentry-identity': signIdentity(forged(user.id), t.secrets.internal),
    });
    expect(status).toBe(200);
    expect(body.data.tasks.totalCount).toBe(0);
  });

  test('the router drops an identity header sent by a client', async () => {
    const header = signIdentity(forged(user.id), t.secrets.internal);
    const { status, body } = await t.request(MeDocument, undefined, { 'x-agentry-identity': header });
    expect(status).toBe(401);
    expect(body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('query limits', () => {
  async function post(query: string, headers: Record<string, string> = {}) {
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${user.credential}`,
        ...headers,
      },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: await response.json() };
  }

  test('a query deeper than the limit is refused with a message', async () => {
    const shallow = await post('{ tasks(first: 1) { nodes { agent { name } } } }'); // depth 4
    expect(shallow.body.errors).toBeUndefined();
    const deep = await post('{ tasks(first: 1) { nodes { agent { owner { id } } } } }'); // depth 5
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0]).toMatchObject({
      message: expect.stringMatching(/depth/i),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  test('too many aliases are refused', async () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `a${i}: me { id }`).join(' ');
    const { status, body } = await post(`{ ${aliases} }`);
    expect(status).toBe(400);
    expect(body.errors[0]).toMatchObject({
      message: expect.stringMatching(/alias/i),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  test('too many tokens are refused', async () => {
    const fields = Array.from({ length: 500 }, () => 'id').join(' ');
    const { status, body } = await post(`{ me { ${fields} } }`);
    expect(status).toBe(400);
    expect(body.errors[0]).toMatchObject({
      message: expect.stringMatching(/token/i),
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  });

  test('introspection can be switched off', async () => {
    const { body } = await post('{ __schema { types { name } } }');
    expect(body.errors[0].message).toMatch(/introspection/i);
  });

  test('a body over 1 MB is refused with 413 before it is read', async () => {
    const { status, body } = await post(`{ me { id } } # ${'x'.repeat(1024 * 1024)}`);
    expect(status).toBe(413);
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

test('open mode: a request without credentials acts as the local owner', async () => {
  const open = await startTestPlatform({ AUTH_MODE: 'open' });
  try {
    const { me } = await open.data(MeDocument);
    expect(me.role).toBe('ADMIN');
    const again = await open.data(MeDocument);
    expect(again.me.id).toBe(me.id);
    // Credentials still count in open mode.
    const someone = await open.register();
    expect((await someone.data(MeDocument)).me.id).toBe(someone.id);
    expect((await open.data(TasksWithPeopleDocument, { first: 1 })).tasks.totalCount).toBe(0);
  } finally {
    await open.close();
  }
});
