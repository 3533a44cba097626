import { conflict, type EntityManager, type Logger, type Peers, type SubgraphContext } from '../../lib';
import type { Task } from './task.entity';
import { TaskResolution, TaskStatus, TaskTransition } from './task.machine';

const ACCEPTS_WORK = 'query ($id: ID!) { agent(id: $id) { acceptsWork maxConcurrent } }';

/** The states in which an agent is working on a task (claimed, not yet delivered). */
const WORKING = [TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS];

/**
 * A paused agent takes no new task, nor one already working on its `maxConcurrent` tasks: creating
 * or claiming one for it is a CONFLICT.
 */
export async function requireAgentTakingWork(
  ctx: SubgraphContext,
  agentId: string,
  em: EntityManager = ctx.em,
): Promise<void> {
  const { agent } = await ctx.peers.request<{
    agent: { acceptsWork: boolean; maxConcurrent: number | null };
  }>('agents', ACCEPTS_WORK, { id: agentId }, { identity: ctx.identityHeader, requestId: ctx.requestId });
  if (!agent.acceptsWork)
    throw conflict(`agent ${agentId} is paused and takes no new tasks`, {
      field: 'agentId',
      agentStatus: 'PAUSED',
    });
  if (agent.maxConcurrent === null) return;
  const [{ working }] = await em.execute<{ working: string }[]>(
    `select count(*) as "working" from "tasks"."task" where "agent_id" = ? and "status" in (?, ?)`,
    [agentId, ...WORKING],
  );
  if (Number(working) >= agent.maxConcurrent)
    throw conflict(
      `agent ${agentId} is working on ${working} tasks, its most at once (max_concurrent ${agent.maxConcurrent})`,
      { field: 'agentId', maxConcurrent: agent.maxConcurrent },
    );
}

/**
 * Runs a claim for an agent with the agent's capacity checked again inside its transaction, behind a
 * lock per agent: claims of one agent take turns, so two at once cannot both pass `maxConcurrent`.
 */
export function claimWithinCapacity(
  ctx: SubgraphContext,
  agentId: string,
  claim: (em: EntityManager) => Promise<number>,
): Promise<number> {
  return ctx.em.transactional(async (em) => {
    await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`agent-work:${agentId}`]);
    await requireAgentTakingWork(ctx, agentId, em);
    return claim(em);
  });
}

const RECORD_OUTCOME = `mutation ($taskId: ID!, $agentId: ID!, $outcome: String!, $rating: Int) {
  recordAgentTaskOutcome(taskId: $taskId, agentId: $agentId, outcome: $outcome, rating: $rating) }`;

/** The outcome a transition means for the agent's figures (agents/agent.stats.ts), if any. */
function outcomeOf(task: Task, move: TaskTransition): 'REQUESTED' | 'COMPLETED' | 'FAILED' | null {
  switch (move) {
    case TaskTransition.CLAIM:
      return 'REQUESTED';
    case TaskTransition.CONFIRM:
      return 'COMPLETED';
    case TaskTransition.RESOLVE:
      return task.resolution === TaskResolution.REFUND_CREATOR ? 'FAILED' : 'COMPLETED';
    case TaskTransition.FAIL:
    case TaskTransition.EXPIRE:
      return 'FAILED';
    default:
      return null;
  }
}

/**
 * After a transition is committed, tells the agents subgraph what it means for the agent. The
 * agents side applies each (task, outcome) once, so the one retry here is safe; a report that
 * still fails is logged (no reconciler replays it yet).
 */
export async function reportAgentOutcome(
  deps: { peers: Peers; log: Logger },
  task: Task,
  move: TaskTransition,
): Promise<void> {
  const outcome = outcomeOf(task, move);
  if (!task.agentId || !outcome) return;
  const variables = { taskId: task.id, agentId: task.agentId, outcome, rating: task.rating };
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.peers.request('agents', RECORD_OUTCOME, variables);
      return;
    } catch (error) {
      if (attempt >= 2) {
        deps.log.error({ err: error, taskId: task.id, outcome }, "agent's figures not updated");
        return;
      }
    }
  }
}
