/**
 * 002's /api/logs: the latest log lines of every service, gathered from each process's log ring
 * (lib/log-ring.ts). Services that share this process (the single-process launcher) answer with
 * the same ring, told apart by its instance and kept once. Admins only.
 */
import { Arg, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import {
  Authenticated,
  badInput,
  filterLines,
  LOG_LEVELS,
  logFilterQuery,
  logRing,
  type LogFilter,
  type LogLevel,
  type SubgraphContext,
} from '../../lib';
import { gatherFromServices, requireAdmin } from './service-gather';

const MAX_LINES = 1000;

@ObjectType({ description: 'One structured log line of a service.' })
class ServiceLogLine {
  @Field()
  time!: Date;

  @Field({ description: 'trace, debug, info, warn, error or fatal.' })
  level!: string;

  @Field({ description: 'The subgraph that wrote it, or "router".' })
  service!: string;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field()
  message!: string;

  @Field(() => String, { nullable: true, description: 'The message of a logged error.' })
  error!: string | null;
}

@ObjectType({ description: 'The latest log lines of every service, newest first.' })
class ServiceLogs {
  @Field(() => [ServiceLogLine])
  lines!: ServiceLogLine[];

  @Field(() => [String], { description: 'Services that did not answer; their lines are missing.' })
  unreachable!: string[];
}

interface RingAnswer {
  instance: string;
  lines: (Omit<ServiceLogLine, 'time'> & { time: string; level: LogLevel })[];
}

@Resolver()
export class LogsResolver {
  @Authenticated()
  @Query(() => ServiceLogs, {
    description:
      'The latest log lines of every service (a bounded store per process), newest first. Admins only.',
  })
  async serviceLogs(
    @Ctx() ctx: SubgraphContext,
    @Arg('level', () => String, { nullable: true, description: 'This level and above.' })
    level: string | null,
    @Arg('service', () => String, { nullable: true }) service: string | null,
    @Arg('requestId', () => String, { nullable: true }) requestId: string | null,
    @Arg('since', () => Date, { nullable: true }) since: Date | null,
    @Arg('until', () => Date, { nullable: true }) until: Date | null,
    @Arg('limit', () => Int, { defaultValue: 100 }) limit: number,
  ): Promise<ServiceLogs> {
    requireAdmin(ctx, 'the logs');
    if (level != null && !LOG_LEVELS.includes(level as LogLevel))
      throw badInput(`level must be one of ${LOG_LEVELS.join(', ')}`, { field: 'level' });
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LINES)
      throw badInput(`limit must be from 1 to ${MAX_LINES}`, { field: 'limit' });
    const filter: LogFilter = {
      level: (level as LogLevel | null) ?? undefined,
      service: service ?? undefined,
      requestId: requestId ?? undefined,
      since: since ?? undefined,
      until: until ?? undefined,
      limit,
    };
    const own = { instance: logRing.instance, lines: logRing.read(filter) };
    const { answers, unreachable } = await gatherFromServices<RingAnswer>(
      ctx,
      own,
      `/logs?${logFilterQuery(filter)}`,
    );
    const lines = filterLines(
      answers.flatMap((answer) => answer.lines),
      filter,
    );
    return {
      lines: lines.map((line) => ({ ...line, time: new Date(line.time) })),
      unreachable,
    };
  }
}
