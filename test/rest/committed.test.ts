/**
 * A mutation's change is made once its root field resolved: what fails after that (a shape that
 * meets an unexpected null, a nested field's error) must not turn the answer into a 500, and is logged.
 */
import { parse } from 'graphql';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../lib';
import { createRestFacade, type Execute } from '../../router/rest';
import { DIALECTS } from '../../router/rest/dialects';
import { fromPath } from '../../router/rest/mapping';
import { route, type Dialect } from '../../router/rest/types';

const CANCEL = parse('mutation Cancel($id: ID!) { cancelTask(id: $id) { id status agent { id } } }');
const READ = parse('query Read($id: ID!) { task(id: $id) { id status } }');

/** What the fake router answers next. */
let answer: unknown;
const logged: Record<string, unknown>[] = [];
let server: Server;
let base: string;

const dialect: Dialect = {
  ...DIALECTS[2],
  name: 'probe',
  credentials: undefined,
  routes: [
    route({
      method: 'POST',
      path: '/tasks/:id/cancel',
      summary: 'a mutation whose shape reads a field that may be null',
      operation: CANCEL,
      variables: { id: fromPath('id') } as never,
      shape: (data: { cancelTask: { id: string; agent: { id: string } } }) => ({
        id: data.cancelTask.id,
        agent: data.cancelTask.agent.id,
      }),
    }),
    route({
      method: 'POST',
      path: '/tasks/:id/receipt',
      summary: 'a mutation answered by a raw body whose making fails',
      operation: CANCEL,
      variables: { id: fromPath('id') } as never,
      raw: () => {
        throw new Error('raw bug');
      },
    }),
    route({
      method: 'GET',
      path: '/tasks/:id/receipt',
      summary: 'a query answered by a raw body whose making fails: our fault, a 500',
      operation: READ,
      variables: { id: fromPath('id') } as never,
      raw: async () => {
        throw new Error('raw bug');
      },
    }),
    route({
      method: 'GET',
      path: '/tasks/:id',
      summary: 'a query whose shape fails: our fault, a 500',
      operation: READ,
      variables: { id: fromPath('id') } as never,
      shape: () => {
        throw new Error('shape bug');
      },
    }),
  ],
};

beforeAll(async () => {
  const execute: Execute = async () =>
    new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line));
      done();
    },
  });
  const facade = createRestFacade({
    execute,
    config: loadConfig({ REST_MOUNT_X402: '/probe' }),
    log: pino({ level: 'error' }, sink),
    version: '0',
    dialects: [{ ...dialect, mountSetting: 'REST_MOUNT_X402' }],
  });
  server = createServer((req, res) => void facade.handle(req, res, { credential: 'valid' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/probe`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => (logged.length = 0));

const cancel = async () => {
  const response = await fetch(`${base}/tasks/task_1/cancel`, { method: 'POST' });
  return { status: response.status, body: await response.json() };
};

test('a shape that fails on a committed mutation answers the change as GraphQL gave it, and logs', async () => {
  answer = { data: { cancelTask: { id: 'task_1', status: 'CANCELLED', agent: null } } };
  expect(await cancel()).toEqual({
    status: 200,
    body: { cancelTask: { id: 'task_1', status: 'CANCELLED', agent: null } },
  });
  expect(logged).toEqual([expect.objectContaining({ route: 'Cancel', level: 50 })]);
});

test('a nested error under a mutation that has data answers the data, and logs the error', async () => {
  answer = {
    data: { cancelTask: { id: 'task_1', status: 'CANCELLED', agent: { id: 'agt_1' } } },
    errors: [{ message: 'agents is down', path: ['cancelTask', 'agent', 'name'] }],
  };
  expect(await cancel()).toEqual({ status: 200, body: { id: 'task_1', agent: 'agt_1' } });
  expect(logged).toEqual([expect.objectContaining({ route: 'Cancel', errors: expect.any(Array) })]);
});

test('an error on the mutation field itself is still its refusal', async () => {
  answer = {
    data: null,
    errors: [{ message: 'task task_1 not found', path: ['cancelTask'], extensions: { code: 'NOT_FOUND' } }],
  };
  expect(await cancel()).toEqual({
    status: 404,
    body: { error: 'task task_1 not found', code: 'NOT_FOUND' },
  });
});

test('a shape that fails on a query is a 500 without details, logged', async () => {
  answer = { data: { task: { id: 'task_1', status: 'OPEN' } } };
  const response = await fetch(`${base}/tasks/task_1`);
  expect(response.status).toBe(500);
  expect(await response.json()).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR' });
  expect(logged).toHaveLength(1);
});

test('a committed mutation whose answer came back null is a 409 that says the change was made, logged', async () => {
  const nestedFailure = [
    {
      message: 'Cannot return null for non-nullable field Agent.name.',
      path: ['cancelTask', 'agent', 'name'],
    },
  ];
  for (const data of [null, { cancelTask: null }]) {
    logged.length = 0;
    answer = { data, errors: nestedFailure };
    expect(await cancel()).toEqual({
      status: 409,
      body: { error: expect.stringMatching(/change was made.*instead of repeating/), code: 'CONFLICT' },
    });
    expect(logged).toEqual([expect.objectContaining({ route: 'Cancel', errors: nestedFailure })]);
  }
});

test('a raw answer that fails on a committed mutation answers the change as GraphQL gave it; on a query, a 500', async () => {
  answer = { data: { cancelTask: { id: 'task_1', status: 'CANCELLED', agent: null } } };
  const mutation = await fetch(`${base}/tasks/task_1/receipt`, { method: 'POST' });
  expect({ status: mutation.status, body: await mutation.json() }).toEqual({
    status: 200,
    body: { cancelTask: { id: 'task_1', status: 'CANCELLED', agent: null } },
  });
  expect(logged).toEqual([expect.objectContaining({ route: 'Cancel', level: 50 })]);
  logged.length = 0;
  answer = { data: { task: { id: 'task_1', status: 'OPEN' } } };
  const query = await fetch(`${base}/tasks/task_1/receipt`);
  expect(query.status).toBe(500);
  expect(await query.json()).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR' });
  expect(logged).toHaveLength(1);
});
