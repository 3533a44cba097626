import { Arg, Args, Ctx, ID, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { conflict, Connection, PageArgs, paginate, RequiresScopes, type SubgraphContext } from '../../lib';
import { ApprovalRequest, ApprovalState } from './approval.entity';
import { Task } from './task.entity';
import { reason } from './task.input';
import { TaskTransition, TRANSITIONS } from './task.machine';
import { applyTransition } from './task.transitions';

@ObjectType()
class ApprovalRequestConnection extends Connection(ApprovalRequest) {}

const requesterOf = (request: ApprovalRequest) => request.requestedBy;

/**
 * Moves a PENDING request to its decision with one conditional UPDATE, so of two concurrent
 * decisions exactly one applies and the other is told the request was already decided.
 */
async function decide(
  ctx: SubgraphContext,
  id: string,
  state: ApprovalState,
  why: string | null,
): Promise<ApprovalRequest> {
  const request = await ctx.getOwned(ApprovalRequest, id, requesterOf);
  const decided = await ctx.em.nativeUpdate(
    ApprovalRequest,
    { id, state: ApprovalState.PENDING },
    { state, decidedBy: ctx.me().accountId, decidedAt: new Date(), reason: why },
  );
  await ctx.em.refresh(request);
  if (!decided)
    throw conflict(`approval request ${id} is already ${request.state}`, { state: request.state });
  return request;
}

@Resolver(() => ApprovalRequest)
export class ApprovalResolver {
  @RequiresScopes('tasks')
  @Query(() => ApprovalRequestConnection, {
    description: 'Your approval requests (admins: everyone’s), newest first, optionally in one state.',
  })
  approvals(
    @Args() page: PageArgs,
    @Arg('state', () => ApprovalState, { nullable: true }) state: ApprovalState | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ApprovalRequestConnection> {
    return paginate(
      ctx.em,
      ApprovalRequest,
      { $and: [ctx.ownedWhere('requestedBy'), state ? { state } : {}] },
      page,
    );
  }

  @RequiresScopes('tasks')
  @Mutation(() => ApprovalRequest, { description: 'Approve a PENDING request: its task may now be claimed.' })
  approveRequest(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<ApprovalRequest> {
    return decide(ctx, id, ApprovalState.APPROVED, null);
  }

  @RequiresScopes('tasks')
  @Mutation(() => ApprovalRequest, { description: 'Deny a PENDING request: its task is cancelled.' })
  async denyRequest(
    @Arg('id', () => ID) id: string,
    @Arg('reason') why: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ApprovalRequest> {
    const text = reason(why, 'reason') as string;
    const request = await decide(ctx, id, ApprovalState.DENIED, text);
    // A denied request keeps the task unclaimable, so it is still FUNDING or OPEN unless its
    // creator cancelled it or it expired meanwhile; then there is nothing left to cancel.
    const task = await ctx.get(Task, request.taskId);
    if (TRANSITIONS.CANCEL.from.includes(task.status))
      await applyTransition(ctx, task.id, TaskTransition.CANCEL);
    return request;
  }
}
