import { Arg, Ctx, Directive, ID, Int, Mutation, Resolver } from 'type-graphql';
import { AppError, badInput, type SubgraphContext } from '../../lib';

/**
 * What a task's outcome adds to its agent's figures. REQUESTED: the agent was given a task
 * (claim). COMPLETED: its delivery was confirmed (with the hirer's rating, if any) or a dispute was
 * resolved for it. FAILED: it gave up, ran out of time or lost a dispute.
 */
const OUTCOMES = {
  REQUESTED: `"total_requests" = "total_requests" + 1`,
  COMPLETED: `"tasks_completed" = "tasks_completed" + 1,
    "rating_sum" = "rating_sum" + coalesce("applied"."rating", 0),
    "rating_count" = "rating_count" + ("applied"."rating" is not null)::int`,
  FAILED: `"tasks_failed" = "tasks_failed" + 1`,
} as const;
export type AgentTaskOutcome = keyof typeof OUTCOMES;

/**
 * The tasks subgraph reports each outcome here right after committing it (a peer call), rather than
 * this subgraph following the task event stream: the call names the outcome and is applied exactly
 * once (keyed by task and outcome in the same statement as the counters), with no consumer position
 * to keep. Orders live in this subgraph and add to `total_requests` and `total_revenue_minor` in the
 * statement that marks them paid (orders/order.service.ts).
 */
@Resolver()
export class AgentStatsResolver {
  @Directive('@inaccessible')
  @Mutation(() => Boolean, {
    description:
      "Services: apply a task's outcome to its agent's figures; false when it was already applied.",
  })
  async recordAgentTaskOutcome(
    @Arg('taskId', () => ID) taskId: string,
    @Arg('agentId', () => ID) agentId: string,
    @Arg('outcome') outcome: string,
    @Arg('rating', () => Int, { nullable: true }) rating: number | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<boolean> {
    if (ctx.caller.kind !== 'service' || ctx.caller.service !== 'tasks')
      throw new AppError('FORBIDDEN', "only the tasks service reports tasks' outcomes");
    if (!Object.hasOwn(OUTCOMES, outcome))
      throw badInput(`outcome must be one of ${Object.keys(OUTCOMES).join(', ')}`, { field: 'outcome' });
    if (rating !== null && (!Number.isInteger(rating) || rating < 1 || rating > 5))
      throw badInput('rating must be 1 to 5', { field: 'rating' });
    const applied = await ctx.em.getConnection().execute<{ task_id: string }[]>(
      `with "applied" as (
         insert into "agents"."agent_task_outcome" ("task_id", "outcome", "agent_id", "rating")
         values (?, ?, ?, ?) on conflict do nothing
         returning "task_id", "agent_id", "rating"),
       "changed" as (
         update "agents"."agent" set ${OUTCOMES[outcome as AgentTaskOutcome]}
         from "applied" where "agent"."id" = "applied"."agent_id")
       select "task_id" from "applied"`,
      [taskId, outcome, agentId, outcome === 'COMPLETED' ? rating : null],
    );
    return applied.length > 0;
  }
}
