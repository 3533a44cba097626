import {
  AppError,
  heldPaymentIds,
  holdPayment,
  loadConfig,
  releasePayment,
  voidOrphanHolds,
  voidPayment,
  repeatEvery,
  type BackgroundDeps,
  type EntityManager,
  type Logger,
  type Peers,
  type Stoppable,
} from '../../lib';
import { RewardSettlement, Task, TaskResolution, TaskStatus } from './task.entity';

/**
 * Task rewards in the wallet, with BILLING=on: creating a task with a USD reward holds it from the
 * creator's credits (creator → ESCROW, no timeout); once the task ends, the hold is posted and paid
 * out of ESCROW to the agent's owner less PLATFORM_FEE_BPS (the fee to PLATFORM_REVENUE), split (a
 * resolution's agent share paid so, the rest given back to the creator), or voided back to the creator. Every ledger step's id derives from the task id, so a retry or the
 * reconciler replays a step and never repeats it.
 */

const REWARD_ASSET = 'USD';
const codeOf = (error: unknown) => (error instanceof AppError ? error.extensions.code : undefined);

const AGENT_OWNER = 'query ($id: ID!) { agent(id: $id) { owner { id } } }';

/** The ledger ids of one task's reward (lib/held-payment.ts): prefixed by the task id. */
export const rewardTransferIds = heldPaymentIds;

/** Whether a new task's reward is locked: BILLING=on and a USD reward above zero. */
export const locksReward = (rewardMinor: bigint, asset: string) =>
  loadConfig().BILLING === 'on' && rewardMinor > 0n && asset === REWARD_ASSET;

/** Holds a new task's reward from its creator: PAYMENT_REQUIRED 'Insufficient credits' when short. */
export async function holdReward(peers: Peers, task: Task): Promise<void> {
  await holdPayment(peers, task.creatorId, rewardOf(task));
}

/** Gives a hold back whose task was never stored (the insert failed after the hold). */
export async function voidReward(peers: Peers, taskId: string): Promise<void> {
  await voidPayment(peers, taskId);
}

/** A task's reward as a held payment: its ledger ids start with the task id. */
const rewardOf = (task: Task) => ({
  prefix: task.id,
  amountMinor: task.rewardMinor,
  asset: task.asset,
  memo: `reward of task ${task.id}`,
});

const FINAL: readonly TaskStatus[] = [
  TaskStatus.COMPLETED,
  TaskStatus.RESOLVED,
  TaskStatus.CANCELLED,
  TaskStatus.FAILED,
  TaskStatus.EXPIRED,
];

const paysAgent = (task: Task) =>
  task.status === TaskStatus.COMPLETED ||
  (task.status === TaskStatus.RESOLVED && task.resolution !== TaskResolution.REFUND_CREATOR);

/** A SPLIT resolution's agent share of the reward in minor units (rounded down); null when not split. */
export function agentShareOf(task: Task): bigint | null {
  if (task.status !== TaskStatus.RESOLVED || task.resolution !== TaskResolution.SPLIT) return null;
  return (BigInt(task.rewardMinor) * BigInt(task.resolutionAgentShareBps ?? 0)) / 10_000n;
}

/**
 * Who is paid a released reward: the owner of the linked agent. A worker known by a free name
 * alone (or an agent since deleted) has no account to pay, so the reward goes back to the creator.
 */
async function payeeOf(peers: Peers, task: Task): Promise<string | null> {
  if (!task.agentId) return null;
  try {
    const { agent } = await peers.request<{ agent: { owner: { id: string } } }>('agents', AGENT_OWNER, {
      id: task.agentId,
    });
    return agent.owner.id;
  } catch (error) {
    if (codeOf(error) === 'NOT_FOUND') return null;
    throw error;
  }
}

/**
 * Settles the reward of a task in a final state whose reward is still HELD: released or refunded in
 * the wallet, then marked so with one conditional UPDATE. Answers the settlement, or null when
 * there is nothing to settle. A failure leaves it HELD for the reconciler.
 */
export async function settleReward(
  deps: { em: EntityManager; peers: Peers },
  task: Task,
): Promise<RewardSettlement | null> {
  if (task.rewardSettlement !== RewardSettlement.HELD || !FINAL.includes(task.status)) return null;
  const payee = paysAgent(task) ? await payeeOf(deps.peers, task) : null;
  const share = agentShareOf(task);
  if (payee)
    await releasePayment(
      deps.peers,
      payee,
      rewardOf(task),
      share === null ? undefined : { payerId: task.creatorId, payeeShareMinor: share },
    );
  else await voidPayment(deps.peers, task.id);
  const settlement = !payee
    ? RewardSettlement.REFUNDED
    : share === null
      ? RewardSettlement.RELEASED
      : RewardSettlement.SPLIT;
  await deps.em.execute(
    `update "tasks"."task" set "reward_settlement" = ? where "id" = ? and "reward_settlement" = ?`,
    [settlement, task.id, RewardSettlement.HELD],
  );
  task.rewardSettlement = settlement;
  return settlement;
}

/** Right after a transition commits: settles now if it can; the reconciler retries what fails. */
export async function settleRewardAfterTransition(
  deps: { em: EntityManager; peers: Peers; log: Logger },
  task: Task,
): Promise<void> {
  try {
    await settleReward(deps, task);
  } catch (error) {
    deps.log.error({ err: error, taskId: task.id }, 'task reward not settled; the reconciler retries');
  }
}

const RECONCILE_BATCH = 20;

/**
 * Settles the rewards a stopped process left HELD on final tasks: claims a batch with FOR UPDATE
 * SKIP LOCKED (one replica per task), settles each while holding its lock; and voids holds whose
 * task was never stored. Tasks that ended (and holds made) less than `graceMs` ago are left to the
 * request under way. Answers how many rewards it settled and holds it voided.
 */
export async function reconcileRewards(
  deps: { em: EntityManager; peers: Peers; log: Logger },
  graceMs: number,
): Promise<number> {
  const finals = FINAL.map(() => '?').join(', ');
  // Reward holds whose task was never stored (a process stopped between the hold and the insert).
  const orphans = await voidOrphanHolds(deps, {
    prefix: 'task_',
    graceMs,
    recordOf: (holdId) => (holdId.endsWith('.hold') ? holdId.slice(0, -5) : null),
    table: '"tasks"."task"',
    voidHold: (taskId) => voidReward(deps.peers, taskId),
  });
  const finished = await deps.em.fork().transactional(async (em) => {
    const rows = await em.execute<{ id: string }[]>(
      `select "id" from "tasks"."task"
        where "reward_settlement" = ? and "status" in (${finals}) and "updated_at" <= ?
        order by "updated_at" limit ? for update skip locked`,
      [RewardSettlement.HELD, ...FINAL, new Date(Date.now() - graceMs), RECONCILE_BATCH],
    );
    let settled = 0;
    for (const { id } of rows) {
      const task = await em.findOneOrFail(Task, { id });
      try {
        if (await settleReward({ em, peers: deps.peers }, task)) settled++;
      } catch (error) {
        deps.log.warn({ err: error, taskId: id }, 'task reward not settled; retried on the next pass');
      }
    }
    return settled;
  });
  return finished + orphans;
}

/** The tasks subgraph's reward reconciler: every BILLING_RECONCILE_SECONDS on every replica. */
export function startRewardReconciler({ orm, peers, log }: BackgroundDeps): Stoppable {
  const intervalMs = loadConfig().BILLING_RECONCILE_SECONDS * 1000;
  return repeatEvery(intervalMs, log, 'task reward reconciliation failed', () =>
    reconcileRewards({ em: orm.em.fork() as unknown as EntityManager, peers, log }, intervalMs),
  );
}
