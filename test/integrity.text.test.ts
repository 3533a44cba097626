/**
 * NUL and lone UTF-16 surrogates are refused at the edge, whatever carries them (GraphQL over HTTP
 * and graphql-ws, REST bodies, paths and queries, REST WebSocket frames), with 400 naming the field,
 * and nothing is written.
 */
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_TEXT_LENGTH } from '../lib';
import { MEMORY_LIMITS } from '../subgraphs/memory/memory.input';
import { CreateApiKeyDocument } from './generated/graphql';
import { eventually, openSocket, rest, type Rest } from './rest/support';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { sql } from './tasks.support';

let t: TestPlatform;
let user: User;
let api: Rest;
let chatUrl: string;
let chatKey: string;

const gql = (text: string) =>
  parse(text) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;
const taskCount = async () =>
  Number((await sql<{ n: string }>(t, 'select count(*) as n from "tasks"."task"'))[0].n);

beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register();
  api = rest(t, user.credential);
  chatUrl = `${t.url.replace(/^http/, 'ws')}/autx/v1/ws/agent/${(await createAgent(user)).ticker}`;
  chatKey = (await user.data(CreateApiKeyDocument, { input: { name: 'chat', scopes: ['orders'] } }))
    .createApiKey.key;
});
afterAll(() => t.close());

// Raw JSON text, so the escapes reach the server as written (JSON.stringify would keep them too).
const UNSAFE = [
  ['NUL', '"a\\u0000b"'],
  ['a lone high surrogate', '"a\\ud800b"'],
  ['a lone low surrogate', '"\\udc00"'],
];

describe.each(UNSAFE)('%s', (_name, literal) => {
  test('in a GraphQL variable: 400 BAD_USER_INPUT naming it, nothing stored', async () => {
    const before = await taskCount();
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${user.credential}`,
      },
      body: `{"query":"mutation ($t: String!) { createTask(input: {title: $t}) { id } }","variables":{"t":${literal}}}`,
    });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'variables.t' });
    expect(await taskCount()).toBe(before);
  });

  test('in a string literal of the document', async () => {
    const query = `mutation { createTask(input: {title: ${literal.replaceAll('\\', '\\\\')}}) { id } }`;
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${user.credential}`,
      },
      body: `{"query":"${query.replaceAll('"', '\\"')}"}`,
    });
    expect(response.status).toBe(400);
    // graphql-js itself refuses a `\u` escape of a lone surrogate while parsing.
    expect(['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED']).toContain(
      (await response.json()).errors[0].extensions.code,
    );
  });

  test('in a REST body, in each dialect shape', async () => {
    const before = await taskCount();
    const hermes = await api('POST', '/api/tasks', {
      raw: `{"title":${literal}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(hermes.status).toBe(422);
    expect(hermes.body.detail).toContain('title');
    const x402 = await api('POST', '/x402/v1/agents', {
      raw: `{"name":${literal},"ticker":"ABC"}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(x402.status).toBeGreaterThanOrEqual(400);
    expect(x402.status).toBeLessThan(500);
    expect(await taskCount()).toBe(before);
  });

  test('in a REST WebSocket frame: an error frame naming the field, nothing stored', async () => {
    const messageCount = async () =>
      Number((await sql<{ n: string }>(t, 'select count(*) as n from "sessions"."message"'))[0].n);
    const before = await messageCount();
    // As the first (auth) frame: refused, and the socket is closed.
    const early = openSocket(chatUrl);
    await early.opened;
    early.ws.send(`{"type":"auth","token":${literal}}`);
    expect(await early.next()).toEqual({
      type: 'error',
      code: 'bad_user_input',
      message: expect.stringContaining('token'),
    });
    expect(await eventually(early.closed, Boolean)).toBeTruthy();
    // After auth: refused, and the socket stays open for the next frame.
    const socket = openSocket(chatUrl);
    try {
      await socket.opened;
      socket.ws.send(JSON.stringify({ type: 'auth', token: chatKey }));
      expect(await socket.next()).toMatchObject({ type: 'session' });
      socket.ws.send(`{"type":"message","content":${literal}}`);
      expect(await socket.next()).toEqual({
        type: 'error',
        code: 'bad_user_input',
        message: expect.stringContaining('content'),
      });
      socket.ws.send(`{"type":"message","content":"fine","metadata":{${literal}:1}}`);
      expect(await socket.next()).toMatchObject({ type: 'error', code: 'bad_user_input' });
      expect(socket.closed()).toBeUndefined();
    } finally {
      await socket.close();
    }
    expect(await messageCount()).toBe(before);
  });
});

test('NUL in a REST path id and query parameter is 400/422, not 500', async () => {
  const byPath = await api('GET', '/api/tasks/task_%00x');
  expect(byPath.status).toBeGreaterThanOrEqual(400);
  expect(byPath.status).toBeLessThan(500);
  const byQuery = await api('GET', '/api/tasks?agent=a%00b');
  expect(byQuery.status).toBe(422);
  expect(byQuery.body.detail).toContain('agent');
});

test('over graphql-ws the subscription is refused with BAD_USER_INPUT', async () => {
  const client = createClient({
    url: t.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${user.credential}` },
  });
  try {
    const errors = await new Promise<unknown[]>((resolve, reject) => {
      client.subscribe(
        {
          query: 'subscription ($id: ID) { taskEvents(taskId: $id) { kind } }',
          variables: { id: 'task_\u0000' },
        },
        {
          next: (result) => (result.errors ? resolve(result.errors as unknown[]) : reject(new Error('data'))),
          error: (error) => resolve(Array.isArray(error) ? error : [error]),
          complete: () => undefined,
        },
      );
    });
    expect(errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', field: 'variables.id' } }]);
  } finally {
    await client.dispose();
  }
});

describe('strings longer than the edge bound (MAX_TEXT_LENGTH) outside long-text fields', () => {
  const long = 'x'.repeat(MAX_TEXT_LENGTH + 1);

  test('a GraphQL variable: 400 BAD_USER_INPUT naming it, nothing stored', async () => {
    const before = await taskCount();
    const response = await user.request(
      gql('mutation ($i: CreateTaskInput!) { createTask(input: $i) { id } }'),
      { i: { title: 't', agentName: long } },
    );
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]).toMatchObject({
      message: `variables.i.agentName must be at most ${MAX_TEXT_LENGTH} characters`,
      extensions: { code: 'BAD_USER_INPUT', field: 'variables.i.agentName' },
    });
    expect(await taskCount()).toBe(before);
  });

  test('a REST body field, and a key: 422 in the dialect shape naming it, nothing stored', async () => {
    const before = await taskCount();
    const field = await api('POST', '/api/tasks', { body: { title: 't', assigned_agent: long } });
    expect(field.status).toBe(422);
    expect(field.body.detail).toContain(`assigned_agent must be at most ${MAX_TEXT_LENGTH} characters`);
    const key = await api('POST', '/api/tasks', { body: { title: 't', [long]: 1 } });
    expect(key.status).toBe(422);
    expect(await taskCount()).toBe(before);
  });

  test('a long-text field (memory content) passes the edge and meets its own bound', async () => {
    const agentId = (await createAgent(user, 'Memory keeper')).id;
    const store = (content: string) =>
      user.request(gql('mutation ($i: StoreMemoryInput!) { storeMemory(input: $i) { id } }'), {
        i: { agentId, content },
      });
    const stored = await store('m'.repeat(MAX_TEXT_LENGTH + 1000));
    expect(stored.body.errors).toBeUndefined();
    const refused = await store('m'.repeat(MEMORY_LIMITS.content + 1));
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
  });
});
