import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { SubgraphContext } from '../../lib';
import { TaskStatus } from './task.entity';

@ObjectType()
export class TaskStatusCount {
  @Field(() => TaskStatus)
  status!: TaskStatus;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'Counts and completion times of your tasks (of all tasks, for admins).' })
export class TaskStats {
  @Field(() => Int)
  total!: number;

  @Field(() => Int, { description: 'OPEN tasks: waiting for an agent to claim them.' })
  queueDepth!: number;

  @Field(() => [TaskStatusCount], { description: 'Every status, including those with no tasks.' })
  byStatus!: TaskStatusCount[];

  @Field(() => Float, {
    nullable: true,
    description: 'Median seconds from creation to confirmation of COMPLETED tasks; null when none.',
  })
  medianCompletionSeconds!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile of the same.' })
  p95CompletionSeconds!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Admins: webhook deliveries waiting for an attempt, platform-wide; null for others.',
  })
  webhookQueueDepth!: number | null;
}

/**
 * Two statements whatever the number of tasks: counts per status, and the completion percentiles;
 * for admins a third, the webhook backlog (read through the partial index of waiting deliveries).
 */
export async function taskStats(ctx: SubgraphContext): Promise<TaskStats> {
  const me = ctx.me();
  const mine =
    me.role === 'ADMIN' ? { sql: 'true', params: [] } : { sql: '"creator_id" = ?', params: [me.accountId] };
  const [counts, [times], backlog] = await Promise.all([
    ctx.em.execute<{ status: TaskStatus; count: number }[]>(
      `select "status", count(*)::int as "count" from "tasks"."task" where ${mine.sql} group by "status"`,
      mine.params,
    ),
    ctx.em.execute<{ median: number | null; p95: number | null }[]>(
      `select percentile_cont(0.5) within group (order by "seconds") as "median",
              percentile_cont(0.95) within group (order by "seconds") as "p95"
       from (select extract(epoch from "confirmed_at" - "created_at")::float8 as "seconds"
             from "tasks"."task" where "status" = '${TaskStatus.COMPLETED}' and ${mine.sql}) as "completed"`,
      mine.params,
    ),
    me.role === 'ADMIN'
      ? ctx.em.execute<{ count: number }[]>(
          `select count(*)::int as "count" from "tasks"."webhook_delivery" where "state" = 'PENDING'`,
        )
      : undefined,
  ]);
  const byStatus = new Map(counts.map((row) => [row.status, row.count]));
  return {
    total: counts.reduce((sum, row) => sum + row.count, 0),
    queueDepth: byStatus.get(TaskStatus.OPEN) ?? 0,
    byStatus: Object.values(TaskStatus).map((status) => ({ status, count: byStatus.get(status) ?? 0 })),
    medianCompletionSeconds: times.median,
    p95CompletionSeconds: times.p95,
    webhookQueueDepth: backlog?.[0].count ?? null,
  };
}
