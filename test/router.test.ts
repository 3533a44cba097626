import { TasksWithPeopleDocument } from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

let t: TestPlatform;
let user: User;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register();
});
afterAll(() => t.close());

test('queries work over GET as well as POST', async () => {
  const query = encodeURIComponent('{ tasks(first: 1) { totalCount } }');
  const response = await fetch(`${t.graphqlUrl}?query=${query}`, {
    headers: { accept: 'application/graphql-response+json', authorization: `Bearer ${user.credential}` },
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ data: { tasks: { totalCount: 0 } } });
});

test('mutations are refused over GET', async () => {
  const query = encodeURIComponent(
    'mutation { createAccount(input: {email: "g@example.com", displayName: "G"}) { id } }',
  );
  const response = await fetch(`${t.graphqlUrl}?query=${query}`, {
    headers: { accept: 'application/graphql-response+json' },
  });
  expect(response.status).toBe(405);
});

test('a browser gets GraphiQL', async () => {
  const response = await fetch(t.graphqlUrl, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(await response.text()).toMatch(/graphiql/i);
});

test('the request id crosses from the router to the subgraphs', async () => {
  const requestId = `trace-${Date.now()}`;
  const { headers } = await user.request(
    TasksWithPeopleDocument,
    { first: 1 },
    { 'x-request-id': requestId },
  );
  expect(headers.get('x-request-id')).toBe(requestId);
  const seenBy = t.logs
    .filter((line) => line.requestId === requestId && line.msg === 'graphql request')
    .map((line) => line.subgraph);
  expect(seenBy).toContain('tasks');
});

test('a malformed request id is replaced, not forwarded', async () => {
  const { headers } = await t.request(
    TasksWithPeopleDocument,
    { first: 1 },
    { 'x-request-id': 'bad id with spaces' },
  );
  expect(headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('/health reports version, uptime and every subgraph, and turns 503 when one is down', async () => {
  const healthy = await fetch(`${t.url}/health`);
  expect(healthy.status).toBe(200);
  const body = await healthy.json();
  expect(body).toMatchObject({
    status: 'ok',
    version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    uptimeSeconds: expect.any(Number),
  });
  expect(Object.keys(body.subgraphs).sort()).toEqual([
    'accounts',
    'agents',
    'memory',
    'sessions',
    'tasks',
    'wallet',
  ]);
  expect(Object.values(body.subgraphs).every((s) => (s as { reachable: boolean }).reachable)).toBe(true);

  await t.platform.subgraphs.find((s) => s.name === 'wallet')!.close();
  const degraded = await fetch(`${t.url}/health`);
  expect(degraded.status).toBe(503);
  const after = await degraded.json();
  expect(after.status).toBe('degraded');
  expect(after.subgraphs.wallet.reachable).toBe(false);
  expect(after.subgraphs.tasks.reachable).toBe(true);
});
