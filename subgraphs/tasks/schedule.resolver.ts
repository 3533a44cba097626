import {
  Arg,
  Args,
  Ctx,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  Connection,
  deleteReturning,
  notFound,
  PageArgs,
  paginate,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { Schedule, ScheduleRun } from './schedule.entity';
import { runFromPayload, scheduleRunTopic } from './schedule.events';
import { CreateScheduleInput, validateCreateSchedule } from './schedule.input';

@ObjectType()
class ScheduleConnection extends Connection(Schedule) {}

@ObjectType()
class ScheduleRunConnection extends Connection(ScheduleRun) {}

const ownerOf = (schedule: Schedule) => schedule.ownerId;

@Resolver(() => Schedule)
export class ScheduleResolver {
  @RequiresScopes('tasks')
  @Mutation(() => Schedule, { description: 'Post a task on a cron schedule.' })
  async createSchedule(
    @Arg('input') input: CreateScheduleInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Schedule> {
    const schedule = ctx.em.create(Schedule, {
      ...validateCreateSchedule(input, new Date()),
      ownerId: ctx.me().accountId,
    });
    await ctx.em.flush();
    return schedule;
  }

  @RequiresScopes('tasks')
  @Query(() => ScheduleConnection, { description: 'Your schedules, newest first.' })
  schedules(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<ScheduleConnection> {
    return paginate(ctx.em, Schedule, ctx.ownedWhere('ownerId'), page);
  }

  @RequiresScopes('tasks')
  @Query(() => Schedule, { description: 'One of your schedules by id.' })
  schedule(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Schedule> {
    return ctx.getOwned(Schedule, id, ownerOf);
  }

  @RequiresScopes('tasks')
  @Subscription(() => ScheduleRun, {
    description: 'Runs of your schedules as they happen: the task each posted, or why it failed.',
    subscribe: ({ context }: SubscribeResolverData<unknown, object, SubgraphContext>) =>
      context.pubsub.subscribe(scheduleRunTopic(context.me().accountId)),
  })
  scheduleRunEvents(@Root() payload: Record<string, unknown>): ScheduleRun {
    return runFromPayload(payload);
  }

  @RequiresScopes('tasks')
  @Mutation(() => Schedule, { description: 'Delete one of your schedules; its runs stay in the log.' })
  async deleteSchedule(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Schedule> {
    await ctx.getOwned(Schedule, id, ownerOf);
    // Of concurrent deletes one deletes it; the others find it gone, as any later delete does.
    const [deleted] = await deleteReturning(ctx.em, Schedule, { id });
    if (!deleted) throw notFound('Schedule', id);
    return deleted;
  }

  @RequiresScopes('tasks')
  @Query(() => ScheduleRunConnection, { description: 'Recent runs of your schedules, newest first.' })
  async scheduleRuns(
    @Args() page: PageArgs,
    @Arg('scheduleId', () => ID, { nullable: true }) scheduleId: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ScheduleRunConnection> {
    return paginate(
      ctx.em,
      ScheduleRun,
      { ...ctx.ownedWhere('ownerId'), ...(scheduleId ? { scheduleId } : {}) },
      page,
    );
  }
}
