import {
  AppError,
  conflict,
  gazeVerified,
  notFound,
  type EntityManager,
  type Logger,
  type Peers,
  type PubSub,
  type SubgraphContext,
} from '../../lib';
import { Task, TaskStatus } from './task.entity';
import { claimWithinCapacity, reportAgentOutcome } from './agent.work';
import { settleRewardAfterTransition } from './task.rewards';
import { publishTaskEvent } from './task.events';
import {
  transition,
  TaskTransition,
  TRANSITIONS,
  type Facts,
  type GuardName,
  type Move,
} from './task.machine';

export const creatorOf = (task: Task) => task.creatorId;

/** What a transition writes besides the state and its timestamp (result, rating, reason…). */
export type TransitionChanges = Partial<
  Pick<
    Task,
    | 'agentId'
    | 'agentName'
    | 'progress'
    | 'result'
    | 'summary'
    | 'rating'
    | 'ratingComment'
    | 'disputeReason'
    | 'resolution'
    | 'resolutionNote'
    | 'resolutionAgentShareBps'
    | 'failureReason'
  >
>;

/**
 * Guards whose facts live in other rows are also written into the UPDATE, so a dependency added
 * between our read and our write cannot slip through. Counting COMPLETED dependencies (rather than
 * looking for unfinished ones) also refuses one that our statement's snapshot cannot see yet.
 */
const SQL_GUARDS: Partial<Record<GuardName, string>> = {
  approved: `not exists (select 1 from "tasks"."approval_request" as "approval"
    where "approval"."task_id" = "task"."id" and "approval"."state" <> 'APPROVED')`,
  dependenciesDone: `cardinality("task"."depends_on") = (
    select count(*) from "tasks"."task" as "dependency"
    where "dependency"."id" = any("task"."depends_on") and "dependency"."status" = '${TaskStatus.COMPLETED}')`,
};

async function factsOf(em: EntityManager, task: Task, now: Date): Promise<Facts> {
  const unfinished = task.dependsOn.length
    ? await em.find(
        Task,
        { id: { $in: task.dependsOn }, status: { $ne: TaskStatus.COMPLETED } },
        { orderBy: { id: 'asc' } },
      )
    : [];
  const [approval] = await em.execute<{ id: string; state: 'PENDING' | 'APPROVED' | 'DENIED' }[]>(
    `select "id", "state" from "tasks"."approval_request" where "task_id" = ?`,
    [task.id],
  );
  return {
    now,
    approval: approval ?? null,
    deadline: task.deadline,
    deliveredAt: task.deliveredAt,
    unfinishedDependencies: unfinished.map((dependency) => dependency.id),
  };
}

/** CONFLICT naming the state the task is in, so a client knows what it ran into. */
const refusal = (task: Task, move: Move, reason: string) =>
  conflict(`task ${task.id} is ${task.status}: ${reason}`, { status: task.status, transition: move });

/** The worker's moves: the owner of the agent a task is assigned to makes them as well as its creator. */
const WORKER_MOVES: readonly Move[] = [
  TaskTransition.CLAIM,
  TaskTransition.START,
  TaskTransition.REPORT_PROGRESS,
  TaskTransition.DELIVER,
  TaskTransition.FAIL,
];
const AGENT_OWNER = 'query ($id: ID!) { agent(id: $id) { owner { id } } }';

/** Whose agent it is, or null for one that no longer exists. */
export async function agentOwnerOf(peers: Peers, agentId: string): Promise<string | null> {
  try {
    const { agent } = await peers.request<{ agent: { owner: { id: string } } }>('agents', AGENT_OWNER, {
      id: agentId,
    });
    return agent.owner.id;
  } catch (error) {
    if (error instanceof AppError && error.extensions.code === 'NOT_FOUND') return null;
    throw error;
  }
}

/**
 * The task a move applies to: the creator's (or any, for an admin); for the worker's moves also a
 * task assigned to an agent the caller owns (a hired agent works from its own key). Else NOT_FOUND.
 */
export async function taskForMove(ctx: SubgraphContext, id: string, move: Move): Promise<Task> {
  const me = ctx.me();
  const task = await ctx.load(Task, id);
  if (task && (me.role === 'ADMIN' || task.creatorId === me.accountId)) return task;
  if (
    task?.agentId &&
    WORKER_MOVES.includes(move) &&
    (await agentOwnerOf(ctx.peers, task.agentId)) === me.accountId
  )
    return task;
  throw notFound('Task', id);
}

/**
 * Every transition a caller asks for: ownership, the machine's decision, then one conditional
 * UPDATE (`WHERE id = ? AND status IN (allowed)`) so that of concurrent transitions only those
 * still allowed apply. The event is published after the change is committed.
 */
export async function applyTransition(
  ctx: SubgraphContext,
  id: string,
  move: Move,
  changes: TransitionChanges = {},
): Promise<Task> {
  const rule = TRANSITIONS[move];
  if (rule.actor === 'system') throw new AppError('FORBIDDEN', `${move} is done by the platform`);
  if (rule.actor === 'admin' && ctx.me().role !== 'ADMIN')
    throw new AppError('FORBIDDEN', `only admins may ${move.toLowerCase()} a task`);
  const task = await taskForMove(ctx, id, move);
  if (move === TaskTransition.CLAIM && task.gazeRequired && !(await gazeVerified(ctx)))
    throw new AppError('FORBIDDEN', 'this task is claimed only with a verified gaze attestation');
  const previousStatus = task.status;
  const now = new Date();
  const decision = transition(task.status, move, await factsOf(ctx.em, task, now));
  if (!decision.ok) throw refusal(task, move, decision.reason);

  const apply = async (em: EntityManager) => {
    const update = em
      .createQueryBuilder(Task)
      .update({
        ...changes,
        status: decision.to,
        updatedAt: now,
        ...(rule.stamp ? { [rule.stamp]: now } : {}),
      })
      .where({ id, status: { $in: [...rule.from] } });
    for (const guard of rule.guards ?? []) {
      const condition = SQL_GUARDS[guard];
      if (condition) update.andWhere(condition);
    }
    return (await update.execute('run')).affectedRows;
  };
  const claimant = move === TaskTransition.CLAIM ? (changes.agentId ?? task.agentId) : null;
  const affectedRows = claimant ? await claimWithinCapacity(ctx, claimant, apply) : await apply(ctx.em);
  await ctx.em.refresh(task);
  if (!affectedRows) {
    // Someone else moved it first: explain the refusal from the state it is in now.
    const current = transition(task.status, move, await factsOf(ctx.em, task, new Date()));
    throw refusal(task, move, current.ok ? 'it changed while this request ran' : current.reason);
  }
  await publishTaskEvent(ctx, task, move, previousStatus);
  await reportAgentOutcome(ctx, task, move);
  await settleRewardAfterTransition(ctx, task);
  return task;
}

/**
 * Expires every unfinished task whose deadline has passed: one UPDATE, then one event per task.
 * The job queue calls it periodically; `now` is a parameter so a caller can sweep as of any time.
 */
export async function expireOverdueTasks(
  deps: { em: EntityManager; pubsub: PubSub; log: Logger; peers?: Peers },
  now: Date = new Date(),
): Promise<Task[]> {
  const rule = TRANSITIONS.EXPIRE;
  // The rows are locked before they are read, so the status each event reports as the previous
  // one is the status the task really left; one that a transition holds now waits for a later pass.
  const rows: { id: string; previous_status: TaskStatus }[] = await deps.em.getConnection().execute(
    `with "due" as (
       select "id", "status" from "tasks"."task"
       where "deadline" <= ? and "status" in (${rule.from.map(() => '?').join(', ')})
       for update skip locked)
     update "tasks"."task" as "task" set "status" = ?, "expired_at" = ?, "updated_at" = ?
     from "due" where "due"."id" = "task"."id"
     returning "task"."id", "due"."status" as "previous_status"`,
    [now, ...rule.from, rule.to, now, now],
  );
  if (!rows.length) return [];
  const tasks = await deps.em.find(Task, { id: { $in: rows.map((row) => row.id) } });
  const previous = new Map(rows.map((row) => [row.id, row.previous_status]));
  for (const task of tasks) {
    await publishTaskEvent(deps, task, TaskTransition.EXPIRE, previous.get(task.id)!);
    // Only work the agent had taken counts against it; a delivery awaiting confirmation does not.
    const taken = [TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS].includes(previous.get(task.id)!);
    if (deps.peers && taken)
      await reportAgentOutcome({ peers: deps.peers, log: deps.log }, task, TaskTransition.EXPIRE);
    if (deps.peers) await settleRewardAfterTransition({ ...deps, peers: deps.peers }, task);
  }
  return tasks;
}
