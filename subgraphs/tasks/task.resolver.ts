import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  conflict,
  Connection,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { Task, TaskStatus } from './task.entity';
import {
  fromPayload,
  matchesFilter,
  publishTaskEvent,
  TASK_EVENTS,
  TaskEvent,
  TaskEventKind,
  type TaskEventPayload,
} from './task.events';
import { CreateTaskInput, TaskEventFilter, validateCreateTask } from './task.input';

@ObjectType()
class TaskConnection extends Connection(Task) {}

const creatorOf = (task: Task) => task.creatorId;

@Resolver(() => Task)
export class TaskResolver {
  @RequiresScopes('tasks')
  @Query(() => Task, { description: 'One of your tasks by id.' })
  task(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Task> {
    return ctx.getOwned(Task, id, creatorOf);
  }

  @RequiresScopes('tasks')
  @Query(() => TaskConnection, {
    description: 'Your tasks, newest first, optionally only those in one status.',
  })
  tasks(
    @Args() page: PageArgs,
    @Arg('status', () => TaskStatus, { nullable: true }) status: TaskStatus | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<TaskConnection> {
    return paginate(ctx.em, Task, { ...ctx.ownedWhere('creatorId'), ...(status ? { status } : {}) }, page);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Task, { description: 'Post a task.' })
  async createTask(@Arg('input') input: CreateTaskInput, @Ctx() ctx: SubgraphContext): Promise<Task> {
    const task = ctx.em.create(Task, { ...validateCreateTask(input), creatorId: ctx.me().accountId });
    await ctx.em.flush();
    await publishTaskEvent(ctx, TaskEventKind.CREATED, task);
    return task;
  }

  @Mutation(() => Task, {
    description: 'An agent takes an open task; of concurrent claims exactly one wins.',
  })
  async claimTask(
    @Arg('id', () => ID) id: string,
    @Arg('agentId', () => ID) agentId: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Task> {
    const task = await ctx.getOwned(Task, id, creatorOf);
    const claimed = await ctx.em.nativeUpdate(
      Task,
      { id, status: TaskStatus.OPEN },
      { status: TaskStatus.IN_PROGRESS, agentId, updatedAt: new Date() },
    );
    await ctx.em.refresh(task);
    if (!claimed)
      throw conflict(`task ${id} is ${task.status}, only an OPEN task can be claimed`, {
        status: task.status,
      });
    await publishTaskEvent(ctx, TaskEventKind.UPDATED, task);
    return task;
  }

  @RequiresScopes('tasks')
  @Subscription(() => TaskEvent, {
    topics: TASK_EVENTS,
    filter: ({ payload, args, context }) =>
      matchesFilter(payload as TaskEventPayload, args as TaskEventFilter, (context as SubgraphContext).me()),
    description: 'Changes to your tasks as they are committed.',
  })
  taskEvents(@Root() payload: TaskEventPayload, @Args() _filter: TaskEventFilter): TaskEvent {
    return fromPayload(payload);
  }

  @FieldResolver(() => AccountReference, { description: 'Who posted the task.' })
  creator(@Root() task: Task) {
    return reference(task.creatorId);
  }

  @FieldResolver(() => AgentReference, {
    nullable: true,
    description: 'The agent working on it, once claimed.',
  })
  agent(@Root() task: Task) {
    return task.agentId ? reference(task.agentId) : null;
  }
}
