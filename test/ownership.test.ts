import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  AccountDocument,
  ApiKeysDocument,
  ClaimTaskDocument,
  CreateApiKeyDocument,
  CreateTaskDocument,
  LedgerAccountDocument,
  LedgerAccountsDocument,
  MemoriesDocument,
  MemoryDocument,
  OpenLedgerAccountDocument,
  RevokeApiKeyDocument,
  SessionDocument,
  SessionsDocument,
  StartSessionDocument,
  StoreMemoryDocument,
  TaskDocument,
  TasksWithPeopleDocument,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

let t: TestPlatform;
let alice: User;
let bob: User;
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestPlatform();
  [alice, bob] = [await t.register('Alice'), await t.register('Bob')];
  const agent = await createAgent(alice, 'Alice bot');
  ids.agent = agent.id;
  ids.account = alice.id;
  ids.session = (await alice.data(StartSessionDocument, { input: { agentId: agent.id } })).startSession.id;
  ids.memory = (
    await alice.data(StoreMemoryDocument, { input: { agentId: agent.id, content: 'secret' } })
  ).storeMemory.id;
  ids.ledger = (await alice.data(OpenLedgerAccountDocument, { asset: 'USD' })).openLedgerAccount.id;
  ids.task = (await alice.data(CreateTaskDocument, { input: { title: 'private' } })).createTask.id;
  ids.key = (
    await alice.data(CreateApiKeyDocument, { input: { name: 'k', scopes: ['*'] } })
  ).createApiKey.apiKey.id;
});
afterAll(() => t.close());

/** Every by-id query and mutation that exists, each aimed at one of Alice's objects. */
const byId: [string, TypedDocumentNode<unknown, never>, () => Record<string, unknown>][] = [
  ['account', AccountDocument as never, () => ({ id: ids.account })],
  ['session', SessionDocument as never, () => ({ id: ids.session })],
  ['memory', MemoryDocument as never, () => ({ id: ids.memory })],
  ['ledgerAccount', LedgerAccountDocument as never, () => ({ id: ids.ledger })],
  ['task', TaskDocument as never, () => ({ id: ids.task })],
  ['claimTask', ClaimTaskDocument as never, () => ({ id: ids.task, agentId: ids.agent })],
  ['revokeApiKey', RevokeApiKeyDocument as never, () => ({ id: ids.key })],
];

test.each(byId)("Bob's %s on Alice's id answers NOT_FOUND", async (_name, document, variables) => {
  const { status, body } = await bob.request(document, variables() as never);
  expect(status).toBe(200);
  expect(body.data ?? null).toBeNull();
  expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
});

// The reads only: Alice's own mutations would change what the last test checks is unchanged.
const reads = byId.filter(([name]) => name !== 'claimTask' && name !== 'revokeApiKey');

test.each(reads)("Alice's own %s works", async (_name, document, variables) => {
  const { body } = await alice.request(document, variables() as never);
  expect(body.errors).toBeUndefined();
});

test("Bob's lists hold none of Alice's objects", async () => {
  expect((await bob.data(SessionsDocument)).sessions.totalCount).toBe(0);
  expect((await bob.data(MemoriesDocument)).memories.totalCount).toBe(0);
  expect((await bob.data(LedgerAccountsDocument)).ledgerAccounts.totalCount).toBe(0);
  expect((await bob.data(TasksWithPeopleDocument, { first: 50 })).tasks.totalCount).toBe(0);
  expect((await bob.data(ApiKeysDocument)).apiKeys.totalCount).toBe(0);
  expect((await alice.data(SessionsDocument)).sessions.totalCount).toBe(1);
});

test("Bob's attempts changed nothing", async () => {
  expect((await alice.data(TaskDocument, { id: ids.task })).task.status).toBe('OPEN');
  expect((await alice.data(ApiKeysDocument)).apiKeys.nodes[0].status).toBe('ACTIVE');
});
