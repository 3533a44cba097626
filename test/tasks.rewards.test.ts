/**
 * Task rewards with BILLING=on: creating a task with a USD reward holds it from the creator's
 * credits (402 when short, nothing stored); confirming pays the claiming agent's owner less the
 * platform fee (to PLATFORM_REVENUE); cancelling, failing and expiring refund it; the reconciler
 * settles what a stopped process left held. Real PostgreSQL, the whole platform, the real wallet.
 */
import { createPeers, type EntityManager } from '../lib';
import { expireOverdueTasks, reconcileRewards } from '../subgraphs/tasks';
import {
  CancelTaskDocument,
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateTaskDocument,
  DeliverTaskDocument,
  FailTaskDocument,
  ResolveTaskDocument,
  DisputeTaskDocument,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { rest } from './rest/support';
import { errorOf, holdTaskClock, registerAdmin, sql } from './tasks.support';
import { fundedUser, ledgerViolations, usdCredits, withDatabase } from './wallet.support';

holdTaskClock();

const REWARD = 4_000_000n; // $4
const FEE = (REWARD * 250n) / 10_000n; // PLATFORM_FEE_BPS default 250

let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform({ BILLING: 'on' });
  process.env.BILLING = 'on';
});
afterAll(async () => {
  delete process.env.BILLING;
  await t.close();
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const funded = (name: string, microUsd: bigint) => fundedUser(t, microUsd, name);
const credits = (ownerId: string) => usdCredits(t, ownerId);

const revenue = () => credits('system:PLATFORM_REVENUE').then((c) => c.posted);

const settlementOf = async (taskId: string) =>
  (
    await sql<{ s: string }>(t, `select "reward_settlement" as "s" from "tasks"."task" where "id" = $1`, [
      taskId,
    ])
  )[0]?.s;

const transfersOf = (taskId: string) =>
  sql<{ id: string; kind: string; amount: string }>(
    t,
    `select "id", "kind", "amount"::text from "wallet"."transfer" where "id" like $1 order by "created_at", "id"`,
    [`${taskId}.%`],
  );

async function rewarded(creator: User, agentId?: string) {
  const { createTask } = await creator.data(CreateTaskDocument, {
    input: { title: 'Translate a page', rewardMinor: REWARD.toString(), agentId },
  });
  return createTask.id;
}

/** A task claimed by an agent another account owns, delivered and waiting for confirmation. */
async function delivered(creator: User) {
  const owner = await t.register('Agent owner');
  const agent = await createAgent(owner, 'Translator');
  const id = await rewarded(creator);
  await creator.data(ClaimTaskDocument, { id, agentId: agent.id });
  await creator.data(DeliverTaskDocument, { id, input: { result: 'done' } });
  return { id, owner };
}

const tasksDeps = () => {
  const tasks = t.platform.subgraphs.find((subgraph) => subgraph.name === 'tasks')!;
  return {
    em: tasks.orm.em.fork() as unknown as EntityManager,
    pubsub: t.platform.pubsub,
    log: t.log,
    peers: createPeers(
      'tasks',
      Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])),
      t.secrets.internal,
    ),
  };
};

test('402 when the creator is short, and nothing is stored (GraphQL and hermes REST)', async () => {
  const creator = await funded('Short creator', REWARD - 1n);
  const refused = await creator.request(CreateTaskDocument, {
    input: { title: 'Too dear', rewardMinor: REWARD.toString() },
  });
  expect(errorOf(refused)).toMatchObject({ code: 'PAYMENT_REQUIRED', message: 'Insufficient credits' });
  const viaRest = await rest(t, creator.credential)('POST', '/api/tasks', {
    body: { title: 'Too dear', reward: 4 },
  });
  expect(viaRest.status).toBe(402);
  expect(viaRest.body).toEqual({ detail: 'Insufficient credits' });
  expect(await sql(t, `select 1 from "tasks"."task" where "creator_id" = $1`, [creator.id])).toEqual([]);
  expect(await credits(creator.id)).toEqual({ posted: REWARD - 1n, held: 0n });
});

test('creating locks the reward; confirming pays the agent owner less the fee, the fee is revenue', async () => {
  const creator = await funded('Paying creator', 10_000_000n);
  const revenueBefore = await revenue();
  const { id, owner } = await delivered(creator);
  expect(await settlementOf(id)).toBe('HELD');
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n, held: REWARD });

  const { confirmTask } = await creator.data(ConfirmTaskDocument, { id });
  expect(confirmTask.status).toBe('COMPLETED');
  expect(await settlementOf(id)).toBe('RELEASED');
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n - REWARD, held: 0n });
  expect(await credits(owner.id)).toEqual({ posted: REWARD - FEE, held: 0n });
  expect((await revenue()) - revenueBefore).toBe(FEE);
  expect((await transfersOf(id)).map((x) => [x.id, x.kind, x.amount])).toEqual([
    [`${id}.hold`, 'PENDING', REWARD.toString()],
    [`${id}.release`, 'POST', REWARD.toString()],
    [`${id}.payout`, 'SINGLE', (REWARD - FEE).toString()],
    [`${id}.fee`, 'SINGLE', FEE.toString()],
  ]);
  // Settling again replays nothing.
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(0);
});

test('a SPLIT resolution pays the agent its share less the fee and gives the rest back, once', async () => {
  const creator = await funded('Split creator', 10_000_000n);
  const revenueBefore = await revenue();
  const { id, owner } = await delivered(creator);
  await creator.data(DisputeTaskDocument, { id, reason: 'half of it is wrong' });
  const admin = await registerAdmin(t);
  // The share is checked before anything moves: none, out of range, or on another outcome.
  for (const [outcome, agentShareBps] of [
    ['SPLIT', undefined],
    ['SPLIT', 10_001],
    ['SPLIT', -1],
    ['REFUND_CREATOR', 5000],
  ] as const) {
    const refused = await admin.request(ResolveTaskDocument, { id, outcome, agentShareBps });
    expect(errorOf(refused).code).toBe('BAD_USER_INPUT');
  }
  expect(await settlementOf(id)).toBe('HELD');

  // 60% to the agent: 2.40 less 2.5% (0.06) paid, 0.06 revenue, 1.60 back to the creator.
  const share = (REWARD * 6_000n) / 10_000n;
  const fee = (share * 250n) / 10_000n;
  const { resolveTask } = await admin.data(ResolveTaskDocument, {
    id,
    outcome: 'SPLIT',
    agentShareBps: 6000,
  });
  expect(resolveTask).toMatchObject({
    status: 'RESOLVED',
    resolution: 'SPLIT',
    resolutionAgentShareBps: 6000,
    rewardSettlement: 'SPLIT',
    rewardPaidMinor: (share - fee).toString(),
  });
  expect(await credits(owner.id)).toEqual({ posted: share - fee, held: 0n });
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n - share, held: 0n });
  expect((await revenue()) - revenueBefore).toBe(fee);
  expect((await transfersOf(id)).map((x) => [x.id, x.kind, x.amount])).toEqual([
    [`${id}.hold`, 'PENDING', REWARD.toString()],
    [`${id}.release`, 'POST', REWARD.toString()],
    [`${id}.payout`, 'SINGLE', (share - fee).toString()],
    [`${id}.fee`, 'SINGLE', fee.toString()],
    [`${id}.return`, 'SINGLE', (REWARD - share).toString()],
  ]);
  // Settling again (the reconciler, or a replayed leg) moves nothing more.
  await sql(t, `update "tasks"."task" set "reward_settlement" = 'HELD' where "id" = $1`, [id]);
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(1);
  expect(await settlementOf(id)).toBe('SPLIT');
  expect((await transfersOf(id)).length).toBe(5);
  expect(await credits(owner.id)).toEqual({ posted: share - fee, held: 0n });
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n - share, held: 0n });
  // A resolved task cannot be resolved again.
  const again = await admin.request(ResolveTaskDocument, { id, outcome: 'SPLIT', agentShareBps: 10_000 });
  expect(errorOf(again).code).toBe('CONFLICT');
});

test('hermes REST: a task created with a reward holds it, and cancelling refunds it', async () => {
  const creator = await funded('Hermes creator', 10_000_000n);
  const api = rest(t, creator.credential);
  const created = await api('POST', '/api/tasks', { body: { title: 'Summarise', reward: 2.5 } });
  expect(created.status).toBe(200);
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n, held: 2_500_000n });
  const cancelled = await api('DELETE', `/api/tasks/${created.body.task_id}`);
  expect(cancelled.body).toEqual({ task_id: created.body.task_id, status: 'Cancelled' });
  expect(await settlementOf(created.body.task_id)).toBe('REFUNDED');
  expect(await credits(creator.id)).toEqual({ posted: 10_000_000n, held: 0n });
});

test('failing, expiring, a refunding resolution and a free-named worker all refund the creator', async () => {
  const creator = await funded('Refunded creator', 30_000_000n);
  const agent = await createAgent(await t.register('Some owner'), 'Worker');

  const failed = await rewarded(creator);
  await creator.data(ClaimTaskDocument, { id: failed, agentId: agent.id });
  await creator.data(FailTaskDocument, { id: failed, reason: 'could not do it' });
  expect(await settlementOf(failed)).toBe('REFUNDED');

  const expired = await rewarded(creator);
  await sql(t, `update "tasks"."task" set "deadline" = now() - interval '1 minute' where "id" = $1`, [
    expired,
  ]);
  expect((await expireOverdueTasks(tasksDeps())).map((task) => task.id)).toContain(expired);
  expect(await settlementOf(expired)).toBe('REFUNDED');

  const disputed = await delivered(creator);
  await creator.data(DisputeTaskDocument, { id: disputed.id, reason: 'wrong language' });
  const admin = await registerAdmin(t);
  await admin.data(ResolveTaskDocument, { id: disputed.id, outcome: 'REFUND_CREATOR' });
  expect(await settlementOf(disputed.id)).toBe('REFUNDED');
  expect(await credits(disputed.owner.id)).toEqual({ posted: 0n, held: 0n });

  // Hermes names its workers freely: no account to pay, so the creator gets it back.
  const api = rest(t, creator.credential);
  const free = await api('POST', '/api/tasks', { body: { title: 'Free worker', reward: 4 } });
  await api('POST', `/api/tasks/${free.body.task_id}/claim`, { body: { agent_name: 'bob' } });
  await api('POST', `/api/tasks/${free.body.task_id}/complete`, {
    body: { result: 'ok', agent_name: 'bob' },
  });
  await creator.data(ConfirmTaskDocument, { id: free.body.task_id });
  expect(await settlementOf(free.body.task_id)).toBe('REFUNDED');

  expect(await credits(creator.id)).toEqual({ posted: 30_000_000n, held: 0n });
  const cancelled = await rewarded(creator);
  await creator.data(CancelTaskDocument, { id: cancelled });
  expect(await credits(creator.id)).toEqual({ posted: 30_000_000n, held: 0n });
});

test('a process killed between the transition and the wallet call is reconciled, once', async () => {
  const creator = await funded('Interrupted creator', 20_000_000n);
  const paid = await delivered(creator);
  const refunded = await rewarded(creator);
  // What a crash leaves: final states committed, the reward still held.
  await sql(t, `update "tasks"."task" set "status" = 'COMPLETED' where "id" = $1`, [paid.id]);
  await sql(t, `update "tasks"."task" set "status" = 'CANCELLED' where "id" = $1`, [refunded]);
  expect(await credits(creator.id)).toEqual({ posted: 20_000_000n, held: 2n * REWARD });

  // Two replicas at once: each task is settled by one of them.
  const [first, second] = await Promise.all([
    reconcileRewards(tasksDeps(), 0),
    reconcileRewards(tasksDeps(), 0),
  ]);
  expect(first + second).toBe(2);
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(0);
  expect(await settlementOf(paid.id)).toBe('RELEASED');
  expect(await settlementOf(refunded)).toBe('REFUNDED');
  expect(await credits(paid.owner.id)).toEqual({ posted: REWARD - FEE, held: 0n });
  expect(await credits(creator.id)).toEqual({ posted: 20_000_000n - REWARD, held: 0n });
  // Young tasks are left to the request that ended them.
  const young = await rewarded(creator);
  await sql(t, `update "tasks"."task" set "status" = 'CANCELLED', "updated_at" = now() where "id" = $1`, [
    young,
  ]);
  expect(await reconcileRewards(tasksDeps(), 60_000)).toBe(0);
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(1);
});

test('a hold whose task was never stored (a process killed before the insert) is voided', async () => {
  const creator = await funded('Orphaned creator', 5_000_000n);
  const peers = tasksDeps().peers;
  // What the create path does first, with no task row after it.
  await peers.request('wallet', 'mutation ($input: LedgerHoldInput!) { ledgerHold(input: $input) { id } }', {
    input: {
      id: 'task_orphan0000000000000000000.hold',
      from: { accountId: creator.id },
      to: { system: 'ESCROW' },
      asset: 'USD',
      amountMinor: REWARD.toString(),
    },
  });
  expect(await credits(creator.id)).toEqual({ posted: 5_000_000n, held: REWARD });
  expect(await reconcileRewards(tasksDeps(), 60_000)).toBe(0); // too young: a creation may be under way
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(1);
  expect(await credits(creator.id)).toEqual({ posted: 5_000_000n, held: 0n });
  expect(await reconcileRewards(tasksDeps(), 0)).toBe(0);
});
