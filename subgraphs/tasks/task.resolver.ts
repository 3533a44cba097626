import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  AppError,
  badInput,
  Connection,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { RewardSettlement, Task, TaskResolution, TaskStatus } from './task.entity';
import { holdReward, locksReward, voidReward } from './task.rewards';
import {
  fromPayload,
  matchesFilter,
  publishTaskEvent,
  TASK_EVENTS,
  TaskEvent,
  type TaskEventPayload,
} from './task.events';
import { ApprovalRequest } from './approval.entity';
import { liveOnly, MAX_REPLAY, parseCursor, TaskEventStream } from './task.event.store';
import { addTaskDependency, checkTaskReferences } from './task.graph';
import {
  ConfirmTaskInput,
  CreateTaskInput,
  DeliverTaskInput,
  reason,
  TaskEventArgs,
  validateConfirmation,
  validateCreateTask,
  validateDelivery,
  validateProgress,
  validateResolution,
  workerOf,
} from './task.input';
import { TaskTransition, toHermesStatus, toX402Status } from './task.machine';
import { TaskStats, taskStats } from './task.stats';
import { applyTransition, creatorOf } from './task.transitions';

@ObjectType()
class TaskConnection extends Connection(Task) {}

const MY_AGENT = 'query { myAgent { id } }';

async function claimingAgent(ctx: SubgraphContext, taskId: string): Promise<string> {
  const task = await ctx.load(Task, taskId);
  if (task?.agentId) return task.agentId;
  try {
    const { myAgent } = await ctx.peers.request<{ myAgent: { id: string } }>(
      'agents',
      MY_AGENT,
      {},
      {
        identity: ctx.identityHeader,
      },
    );
    return myAgent.id;
  } catch (error) {
    if (error instanceof AppError && error.extensions.code === 'NOT_FOUND')
      throw badInput('name the agentId or the agentName: you have no agent of your own', {
        field: 'agentId',
      });
    throw error;
  }
}

@Resolver(() => Task)
export class TaskResolver {
  @RequiresScopes('tasks')
  @Query(() => Task, { description: 'One of your tasks by id.' })
  task(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Task> {
    return ctx.getOwned(Task, id, creatorOf);
  }

  @RequiresScopes('tasks')
  @Query(() => TaskConnection, {
    description: 'Your tasks, newest first, optionally only those in one status or in any of several.',
  })
  tasks(
    @Args() page: PageArgs,
    @Arg('status', () => TaskStatus, { nullable: true }) status: TaskStatus | undefined,
    @Arg('statuses', () => [TaskStatus], {
      nullable: true,
      description: 'Any of these; one status of another API (Hermes InProgress) can be several of ours.',
    })
    statuses: TaskStatus[] | undefined,
    @Arg('agentId', () => ID, { nullable: true, description: 'Only tasks assigned to this agent.' })
    agentId: string | undefined,
    @Arg('worker', () => String, {
      nullable: true,
      description: "Only tasks whose worker has this name or this agent id (hermes' agent filter).",
    })
    worker: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<TaskConnection> {
    const where = [
      ctx.ownedWhere('creatorId'),
      status ? { status } : {},
      statuses ? { status: { $in: statuses } } : {},
      agentId ? { agentId } : {},
      worker ? { $or: [{ agentName: worker }, { agentId: worker }] } : {},
    ];
    return paginate(ctx.em, Task, { $and: where }, page);
  }

  @RequiresScopes('tasks')
  @Query(() => TaskStats, { description: 'Counts by status, queue depth and completion times.' })
  taskStats(@Ctx() ctx: SubgraphContext): Promise<TaskStats> {
    return taskStats(ctx);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Post a task: OPEN, or FUNDING when fundingRequired.' })
  async createTask(@Arg('input') input: CreateTaskInput, @Ctx() ctx: SubgraphContext): Promise<Task> {
    const creatorId = ctx.me().accountId;
    const values = validateCreateTask(input, new Date());
    const [worker] = await Promise.all([
      workerOf(ctx, values.agentId, values.agentName),
      checkTaskReferences(ctx, creatorId, values.parentTaskId, values.dependsOn),
    ]);
    const task = ctx.em.create(Task, { ...values, ...worker, creatorId });
    // One flush, one transaction: the task and its approval request are written together or not at all.
    if (input.requiresApproval) ctx.em.create(ApprovalRequest, { taskId: task.id, requestedBy: creatorId });
    // The reward is held before anything is stored, so a refused hold (402) leaves no task behind.
    if (locksReward(task.rewardMinor, task.asset)) {
      await holdReward(ctx.peers, task);
      task.rewardSettlement = RewardSettlement.HELD;
    }
    try {
      await ctx.em.flush();
    } catch (error) {
      if (task.rewardSettlement === RewardSettlement.HELD) await voidReward(ctx.peers, task.id);
      throw error;
    }
    await publishTaskEvent(ctx, task, TaskTransition.CREATE, null);
    return task;
  }

  // The transitions: each a thin declaration over applyTransition and the table in task.machine.ts.

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Admins: the reward is funded; FUNDING → OPEN.' })
  fundTask(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.FUND);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description:
      'Assign an OPEN task whose dependencies are COMPLETED to an agent; OPEN → ACCEPTED. Of concurrent claims exactly one wins.',
  })
  async claimTask(
    @Arg('id', () => ID) id: string,
    @Arg('agentId', () => ID, { nullable: true, description: 'The marketplace agent that takes it.' })
    agentId: string | undefined,
    @Arg('agentName', () => String, {
      nullable: true,
      description: 'Or the worker by a free name (up to 200 characters).',
    })
    agentName: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    // Neither named (hermesx402's accept has no body): the agent the task was hired for, else the
    // caller's own agent (the agents subgraph's myAgent, asked as the caller).
    if (agentId == null && agentName == null) agentId = await claimingAgent(ctx, id);
    return applyTransition(ctx, id, TaskTransition.CLAIM, await workerOf(ctx, agentId, agentName));
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'The agent starts working; ACCEPTED → IN_PROGRESS.' })
  startTask(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.START);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Percent done (0 to 100) of an IN_PROGRESS task.' })
  reportTaskProgress(
    @Arg('id', () => ID) id: string,
    @Arg('progress', () => Int) progress: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.REPORT_PROGRESS, validateProgress(progress));
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description: 'Deliver (Hermes: complete) the result; ACCEPTED or IN_PROGRESS → PENDING_VALIDATION.',
  })
  deliverTask(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: DeliverTaskInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.DELIVER, validateDelivery(input));
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Accept the delivery, optionally rating it; → COMPLETED.' })
  confirmTask(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ConfirmTaskInput, { nullable: true }) input: ConfirmTaskInput | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.CONFIRM, validateConfirmation(input ?? {}));
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Contest the delivery within 24 h of it; → DISPUTED.' })
  disputeTask(
    @Arg('id', () => ID) id: string,
    @Arg('reason') disputeReason: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.DISPUTE, {
      disputeReason: reason(disputeReason, 'reason'),
    });
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description:
      'Admins: settle a dispute; DISPUTED → RESOLVED. SPLIT pays the agent `agentShareBps` of the reward ' +
      '(less the platform fee) and gives the rest back to the creator.',
  })
  resolveTask(
    @Arg('id', () => ID) id: string,
    @Arg('outcome', () => TaskResolution) outcome: TaskResolution,
    @Arg('note', () => String, { nullable: true }) note: string | undefined,
    @Ctx() ctx: SubgraphContext,
    @Arg('agentShareBps', () => Int, {
      nullable: true,
      description: "SPLIT only: the agent's share in basis points, 0 to 10000.",
    })
    agentShareBps?: number | null,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.RESOLVE, validateResolution(outcome, note, agentShareBps));
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Withdraw a task nobody has accepted; FUNDING or OPEN → CANCELLED.' })
  cancelTask(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.CANCEL);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'The agent gives up; ACCEPTED or IN_PROGRESS → FAILED.' })
  failTask(
    @Arg('id', () => ID) id: string,
    @Arg('reason') failureReason: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return applyTransition(ctx, id, TaskTransition.FAIL, { failureReason: reason(failureReason, 'reason') });
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, {
    description: 'Make a FUNDING or OPEN task wait for another of your tasks; a cycle is refused.',
  })
  addTaskDependency(
    @Arg('taskId', () => ID) taskId: string,
    @Arg('dependsOn', () => ID) dependsOn: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    return addTaskDependency(ctx, taskId, dependsOn);
  }

  @RequiresScopes('tasks')
  @Subscription(() => TaskEvent, {
    description:
      'Changes to your tasks as they are committed. Reconnect with after = the last seq you saw to ' +
      `replay what you missed (at most ${MAX_REPLAY} events, kept for 7 days), then continue live.`,
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, TaskEventArgs, SubgraphContext>) => {
      const subscriber = context.me();
      const after = args.after === undefined || args.after === null ? undefined : parseCursor(args.after);
      const matches = (payload: TaskEventPayload) => matchesFilter(payload, args, subscriber);
      const live = context.pubsub.subscribe(TASK_EVENTS);
      if (after === undefined) return liveOnly(live, matches);
      return TaskEventStream.open({ live, em: context.em, subscriber, matches, after });
    },
  })
  taskEvents(@Root() payload: TaskEventPayload, @Args() _args: TaskEventArgs): TaskEvent {
    return fromPayload(payload);
  }

  @FieldResolver(() => String, { description: 'The status in the Hermes task API (reference 001).' })
  hermesStatus(@Root() task: Task): string {
    return toHermesStatus(task.status, task.resolution);
  }

  @FieldResolver(() => String, { description: 'The status in the hermesx402 task API (reference 004).' })
  x402Status(@Root() task: Task): string {
    return toX402Status(task.status);
  }

  @FieldResolver(() => AccountReference, { description: 'Who posted the task.' })
  creator(@Root() task: Task) {
    return reference(task.creatorId);
  }

  @FieldResolver(() => AgentReference, {
    nullable: true,
    description: 'The agent working on it, once claimed.',
  })
  agent(@Root() task: Task, @Ctx() ctx: SubgraphContext) {
    return ctx.references.linked('Agent', task.agentId);
  }
}
