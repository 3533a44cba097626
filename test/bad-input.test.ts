import { RegisterDocument, TaskDocument, TasksWithPeopleDocument } from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

let t: TestPlatform;
let user: User;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register();
});
afterAll(() => t.close());

/** POSTs a raw body the way a careless client might, with the GraphQL-over-HTTP media type. */
async function post(body: string, contentType = 'application/json') {
  const response = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${user.credential}`,
    },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as { errors?: { message: string; extensions?: { code?: string } }[] },
  };
}

const codes = (body: { errors?: { extensions?: { code?: string } }[] }) =>
  body.errors?.map((e) => e.extensions?.code);

test.each([
  [
    'malformed GraphQL',
    400,
    'GRAPHQL_PARSE_FAILED',
    JSON.stringify({ query: '{ tasks(first: 1) { nodes { id }' }),
  ],
  [
    'an unknown field',
    400,
    'GRAPHQL_VALIDATION_FAILED',
    JSON.stringify({ query: '{ tasks(first: 1) { nodes { colour } } }' }),
  ],
  [
    'a missing required argument',
    400,
    'GRAPHQL_VALIDATION_FAILED',
    JSON.stringify({ query: '{ task { id } }' }),
  ],
  [
    'a variable of the wrong type',
    400,
    'BAD_USER_INPUT',
    JSON.stringify({
      query: 'query ($first: Int!) { tasks(first: $first) { totalCount } }',
      variables: { first: 'ten' },
    }),
  ],
  [
    'a missing required variable',
    400,
    'BAD_USER_INPUT',
    JSON.stringify({ query: 'query ($id: ID!) { task(id: $id) { id } }', variables: {} }),
  ],
  ['a body that is not JSON', 400, 'BAD_REQUEST', '{"query": '],
  ['a body without a query', 400, 'BAD_REQUEST', JSON.stringify({ variables: {} })],
])('%s answers %i with code %s', async (_name, status, code, body) => {
  const response = await post(body);
  expect(response.status).toBe(status);
  expect(codes(response.body)).toEqual([code]);
});

test('an id that does not exist is NOT_FOUND, in a 200 response with null data', async () => {
  const { status, body } = await user.request(TaskDocument, { id: 'task_01m85k0yytjenhddgshb1th258' });
  expect(status).toBe(200);
  expect(body.data).toBeNull();
  expect(codes(body)).toEqual(['NOT_FOUND']);
});

test('values the resolvers refuse are BAD_USER_INPUT and nothing is written', async () => {
  const before = await user.data(TasksWithPeopleDocument, { first: 1 });
  const tooLarge = await user.request(TasksWithPeopleDocument, { first: 1000 });
  expect(tooLarge.status).toBe(200);
  expect(codes(tooLarge.body)).toEqual(['BAD_USER_INPUT']);

  const badCursor = await user.request(TasksWithPeopleDocument, { first: 5, after: 'not-a-cursor' });
  expect(codes(badCursor.body)).toEqual(['BAD_USER_INPUT']);

  const badEmail = await t.request(RegisterDocument, {
    input: { email: 'nobody', password: 'long enough pw' },
  });
  expect(codes(badEmail.body)).toEqual(['BAD_USER_INPUT']);
  expect(badEmail.body.errors?.[0].message).toMatch(/email/);
  const shortPassword = await t.request(RegisterDocument, {
    input: { email: 'new@example.com', password: 'short' },
  });
  expect(codes(shortPassword.body)).toEqual(['BAD_USER_INPUT']);
  expect((await user.data(TasksWithPeopleDocument, { first: 1 })).tasks.totalCount).toBe(
    before.tasks.totalCount,
  );
});

test('a second account with the same email is a CONFLICT', async () => {
  const again = await t.request(RegisterDocument, {
    input: { email: user.email.toUpperCase(), password: 'another long password' },
  });
  expect(codes(again.body)).toEqual(['CONFLICT']);
});
