/**
 * References to another subgraph's entity are checked when written and read as nullable: an
 * unknown agent id is refused with nothing stored, and an agent that disappears later leaves
 * every list answering, with `agent: null` where it was.
 */
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { IDENTITY_HEADER, ROUTER_PRINCIPAL, signIdentity } from '../lib';
import { subgraphs } from '../subgraphs';
import {
  CreateAgentDocument,
  CreateTaskDocument,
  StartSessionDocument,
  StoreMemoryDocument,
} from './generated/graphql';
import { rest, type Rest } from './rest/support';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { sql } from './tasks.support';
import { fundedUser } from './wallet.support';

let t: TestPlatform;
let user: User;
let api: Rest;
let agentId: string;

const gql = (text: string) =>
  parse(text) as TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;
const count = async (table: string) =>
  Number((await sql<{ n: string }>(t, `select count(*) as n from ${table}`))[0].n);

beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('Owner');
  api = rest(t, user.credential);
  agentId = (
    await user.data(CreateAgentDocument, { input: { name: 'Scout', ticker: 'SCOUT', priceMinor: '5' } })
  ).createAgent.id;
});
afterAll(() => t.close());

describe('an unknown agent id is refused when written, and nothing is stored', () => {
  const unknown = ['agt_nope', 'nope', '', 'x'.repeat(1024 * 1024 - 200)];

  test.each([
    [
      'createTask',
      'mutation ($a: ID) { createTask(input: { title: "t", agentId: $a }) { id } }',
      '"tasks"."task"',
    ],
    [
      'startSession',
      'mutation ($a: ID) { startSession(input: { agentId: $a }) { id } }',
      '"sessions"."session"',
    ],
    [
      'storeMemory',
      'mutation ($a: ID!) { storeMemory(input: { agentId: $a, content: "c" }) { id } }',
      '"memory"."memory_entry"',
    ],
  ])('%s', async (_name, text, table) => {
    const before = await count(table);
    for (const id of unknown.slice(0, 3)) {
      const { status, body } = await user.request(gql(text), { a: id });
      expect(status).toBeLessThan(500);
      expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
    expect(await count(table)).toBe(before);
  });

  test('chat with an unknown agent id opens no session and stores no message or turn', async () => {
    const tables = ['"sessions"."session"', '"sessions"."message"', '"sessions"."turn"'];
    const before = await Promise.all(tables.map(count));
    for (const id of unknown) {
      const { status, body } = await user.request(
        gql('mutation ($a: ID) { chat(input: { content: "hi", agentId: $a }) { id } }'),
        { a: id },
      );
      expect(status).toBeLessThan(500);
      expect(body.errors?.[0].extensions?.code).toBe(id.length > 1000 ? 'BAD_USER_INPUT' : 'NOT_FOUND');
    }
    expect(await Promise.all(tables.map(count))).toEqual(before);
  });

  test('claimTask with an unknown agent id leaves the task OPEN', async () => {
    const { createTask } = await user.data(CreateTaskDocument, { input: { title: 'claim me' } });
    const { body } = await user.request(
      gql('mutation ($id: ID!) { claimTask(id: $id, agentId: "agt_gone") { id } }'),
      { id: createTask.id },
    );
    expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const [row] = await sql<{ status: string }>(t, `select status from "tasks"."task" where id = $1`, [
      createTask.id,
    ]);
    expect(row.status).toBe('OPEN');
  });

  test('REST: a 1 MB agent id and an unknown one answer 4xx in the dialect shape', async () => {
    const before = await count('"sessions"."session"');
    const huge = await api('POST', '/api/sessions', { body: { agent_id: unknown[3] } });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const nope = await api('POST', '/api/sessions', { body: { agent_id: 'nope' } });
    expect(nope.status).toBe(404);
    // hermes' POST /api/sessions (Hermes Workspace's) answers in {detail}; the runtime's in {error}.
    expect(Object.values(nope.body)).toEqual([expect.stringContaining('agent nope not found')]);
    expect(await count('"sessions"."session"')).toBe(before);
  });
});

describe("hermes' worker names are names, linked to an agent only when they are its id", () => {
  test('assigned_agent and agent_name keep free names; the task list answers', async () => {
    const created = await api('POST', '/api/tasks', { body: { title: 't', assigned_agent: 'worker-1' } });
    expect(created.status).toBeLessThan(300);
    const claimTarget = await api('POST', '/api/tasks', { body: { title: 'to claim' } });
    const claimed = await api('POST', `/api/tasks/${claimTarget.body.task_id}/claim`, {
      body: { agent_name: 'agent-1' },
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.assigned_agent).toBe('agent-1');

    const list = await api('GET', '/api/tasks?limit=100');
    expect(list.status).toBe(200);
    const byId = new Map(list.body.tasks.map((task: { task_id: string }) => [task.task_id, task]));
    expect(byId.get(created.body.task_id)).toMatchObject({ assigned_agent: 'worker-1' });
    const filtered = await api('GET', '/api/tasks?agent=agent-1');
    expect(filtered.body.tasks.map((task: { task_id: string }) => task.task_id)).toEqual([
      claimTarget.body.task_id,
    ]);

    const { body } = await user.request(
      gql('query ($id: ID!) { task(id: $id) { agentName agent { id } } }'),
      { id: created.body.task_id },
    );
    expect(body).toEqual({ data: { task: { agentName: 'worker-1', agent: null } } });
  });

  test('an agent id given as a name links the agent', async () => {
    const created = await api('POST', '/api/tasks', { body: { title: 't', assigned_agent: agentId } });
    const { body } = await user.request(
      gql('query ($id: ID!) { task(id: $id) { agentName agent { id name } } }'),
      { id: created.body.task_id },
    );
    expect(body.data).toEqual({ task: { agentName: agentId, agent: { id: agentId, name: 'Scout' } } });
  });
});

describe('an agent that disappears later never breaks a list', () => {
  let taskId: string;
  beforeAll(async () => {
    const doomed = (
      await user.data(CreateAgentDocument, { input: { name: 'Doomed', ticker: 'DOOM', priceMinor: '1' } })
    ).createAgent.id;
    taskId = (await user.data(CreateTaskDocument, { input: { title: 'orphan', agentId: doomed } })).createTask
      .id;
    await user.data(StartSessionDocument, { input: { agentId: doomed } });
    await sql(t, `delete from "agents"."agent" where id = $1`, [doomed]);
  });

  test('GraphQL lists answer the missing agent as null, without errors', async () => {
    const { status, body } = await user.request(
      gql(
        '{ tasks(first: 100) { nodes { id agent { id name ticker } } } sessions { nodes { id agent { name } } } }',
      ),
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const tasks = (body.data as { tasks: { nodes: { id: string; agent: unknown }[] } }).tasks.nodes;
    expect(tasks.find((task) => task.id === taskId)?.agent).toBeNull();
  });

  test.each(['/api/tasks', '/api/sessions', '/autx/v1/sessions', `/api/tasks/${'TASK'}`])(
    'REST %s answers 200',
    async (path) => {
      const response = await api('GET', path.replace('TASK', taskId));
      expect(response.status).toBe(200);
    },
  );
});

describe('subgraphs answer only signed identities', () => {
  const entities = (typename: string, id: string) =>
    JSON.stringify({
      query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { id } } }`,
      variables: { r: [{ __typename: typename, id }] },
    });
  const subgraphUrl = (name: string) => t.platform.subgraphs.find((s) => s.name === name)!.url;

  test('every subgraph answers 401 without a signed identity or with a forged one; /health still answers', async () => {
    const { createTask } = await user.data(CreateTaskDocument, { input: { title: 'private' } });
    const forged = signIdentity(ROUTER_PRINCIPAL, 'f'.repeat(40));
    expect(t.platform.subgraphs.map((s) => s.name).sort()).toEqual(Object.keys(subgraphs).sort());
    for (const { name, url } of t.platform.subgraphs) {
      const calls: [string, RequestInit][] = [
        ['/graphql', { method: 'POST', body: entities('Task', createTask.id) }],
        ['/graphql?query=%7B__typename%7D', { method: 'GET' }],
        ['/metrics', { method: 'GET' }],
      ];
      for (const [path, init] of calls)
        for (const identity of [undefined, forged]) {
          const response = await fetch(new URL(path, url), {
            ...init,
            headers: { 'content-type': 'application/json', ...(identity && { [IDENTITY_HEADER]: identity }) },
          });
          const text = await response.text();
          expect({ name, path, forged: !!identity, status: response.status }).toEqual({
            name,
            path,
            forged: !!identity,
            status: 401,
          });
          expect(text).not.toContain('private');
          expect(text).not.toContain('agentry_sql');
        }
      expect((await fetch(new URL('/health', url))).status).toBe(200);
      const metrics = await fetch(new URL('/metrics', url), {
        headers: { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, t.secrets.internal) },
      });
      expect(metrics.status).toBe(200);
    }
  });

  test("every owned entity type answers another account's row as null and its owner's row; public ones hide private fields", async () => {
    const owner = await fundedUser(t, 1_000n, 'Entity owner');
    const stranger = await t.register('Stranger');
    const identityOf = (id: string) =>
      signIdentity({ accountId: id, role: 'USER', scopes: ['*'], via: 'jwt' }, t.secrets.internal);
    const { createTask } = await owner.data(CreateTaskDocument, { input: { title: 'mine' } });
    const { startSession } = await owner.data(StartSessionDocument, { input: {} });
    const { storeMemory } = await owner.data(StoreMemoryDocument, { input: { agentId, content: 'secret' } });
    const [ledgerAccount] = await sql<{ id: string }>(
      t,
      `select "id" from "wallet"."ledger_account" where "owner_id" = $1 and "asset" = 'USD'`,
      [owner.id],
    );
    const [transfer] = await sql<{ id: string }>(
      t,
      `select "id" from "wallet"."transfer" where "credit_owner_id" = $1`,
      [owner.id],
    );
    const owned: Record<string, string> = {
      Task: createTask.id,
      Session: startSession.id,
      MemoryEntry: storeMemory.id,
      LedgerAccount: ledgerAccount.id,
      Transfer: transfer.id,
    };
    const resolve = async (subgraph: string, typename: string, id: string, accountId: string) => {
      const response = await fetch(subgraphUrl(subgraph), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: identityOf(accountId) },
        body: entities(typename, id),
      });
      return ((await response.json()) as { data: { _entities: unknown[] } }).data._entities;
    };
    const checked: string[] = [];
    for (const [subgraph, definition] of Object.entries(subgraphs))
      for (const [typename, type] of Object.entries(definition.entityTypes)) {
        if (!('owner' in type)) continue;
        // A new owned entity type must be added to `owned` to be checked here.
        expect({ typename, fixture: typename in owned }).toEqual({ typename, fixture: true });
        expect({
          typename,
          stranger: await resolve(subgraph, typename, owned[typename], stranger.id),
        }).toEqual({
          typename,
          stranger: [null],
        });
        expect(await resolve(subgraph, typename, owned[typename], owner.id)).toEqual([
          { id: owned[typename] },
        ]);
        checked.push(typename);
      }
    expect(checked.sort()).toEqual(Object.keys(owned).sort());

    // Public entities answer anyone, but an account's email only to itself.
    const account = (accountId: string) =>
      fetch(subgraphUrl('accounts'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: identityOf(accountId) },
        body: JSON.stringify({
          query: 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id email } } }',
          variables: { r: [{ __typename: 'Account', id: owner.id }] },
        }),
      }).then((r) => r.json());
    expect(await account(stranger.id)).toEqual({ data: { _entities: [{ id: owner.id, email: null }] } });
    expect(await account(owner.id)).toEqual({ data: { _entities: [{ id: owner.id, email: owner.email }] } });
  });
});
