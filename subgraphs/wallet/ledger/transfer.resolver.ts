import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AppError, notFound, RequiresScopes, type SubgraphContext } from '../../../lib';
import { grantCredits, holdFunds, postHold, transferNow, voidHold } from './ledger.service';
import { isParty, Transfer, TransferKind } from './transfer.entity';
import {
  checkTransferId,
  GrantCreditsInput,
  LedgerHoldInput,
  LedgerResolveInput,
  LedgerTransferInput,
} from './transfer.input';

/**
 * Money moves on other subgraphs' word only (a turn's metering, a task's escrow), or the router's
 * (an MPP charge it verified), never a client's.
 */
function servicesOnly(ctx: SubgraphContext): void {
  if (ctx.caller.kind !== 'service' && ctx.caller.kind !== 'router')
    throw new AppError('FORBIDDEN', 'only platform services move money in the ledger');
}

function adminsOnly(ctx: SubgraphContext): void {
  if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', 'only admins may do this');
}

/**
 * The internal mutations are `@inaccessible`: out of the public API, called by peers straight at
 * this subgraph (`ctx.peers.request('wallet', …)`). Each answers the stored transfer; sending the
 * same id and content again answers it again, other content under that id is a CONFLICT.
 */
@Resolver(() => Transfer)
export class TransferResolver {
  @Directive('@inaccessible')
  @Mutation(() => Transfer, { description: 'Services: move money at once.' })
  ledgerTransfer(@Arg('input') input: LedgerTransferInput, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    servicesOnly(ctx);
    return transferNow(ctx, input).then((result) => result.transfer);
  }

  @Directive('@inaccessible')
  @Mutation(() => Transfer, { description: 'Services: hold money (a PENDING transfer).' })
  ledgerHold(@Arg('input') input: LedgerHoldInput, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    servicesOnly(ctx);
    return holdFunds(ctx, input).then((result) => result.transfer);
  }

  @Directive('@inaccessible')
  @Mutation(() => Transfer, { description: 'Services: post a hold, all of it or `amountMinor`.' })
  ledgerPost(@Arg('input') input: LedgerResolveInput, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    servicesOnly(ctx);
    return postHold(ctx, input).then((result) => result.transfer);
  }

  @Directive('@inaccessible')
  @Mutation(() => Transfer, { description: 'Services: void a hold; everything goes back.' })
  ledgerVoid(@Arg('input') input: LedgerResolveInput, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    servicesOnly(ctx);
    if (input.amountMinor !== null && input.amountMinor !== undefined)
      throw new AppError('BAD_USER_INPUT', 'a void releases the whole hold; send no amountMinor', {
        field: 'amountMinor',
      });
    return voidHold(ctx, input).then((result) => result.transfer);
  }

  @Directive('@inaccessible')
  @Query(() => [Transfer], {
    description:
      'Services: the open holds (at most 100, oldest first) whose id starts with `idPrefix`, made at least ' +
      '`olderThanSeconds` ago; a reconciler finds holds whose owner never stored what they were for.',
  })
  async ledgerOpenHolds(
    @Arg('idPrefix') idPrefix: string,
    @Arg('olderThanSeconds', () => Int) olderThanSeconds: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Transfer[]> {
    servicesOnly(ctx);
    checkTransferId(idPrefix, 'idPrefix');
    if (!Number.isInteger(olderThanSeconds) || olderThanSeconds < 0)
      throw new AppError('BAD_USER_INPUT', 'olderThanSeconds must be a whole number of seconds');
    const rows = await ctx.em.execute<{ id: string }[]>(
      `select t."id" from "wallet"."pending_hold" h join "wallet"."transfer" t on t."id" = h."transfer_id"
        where starts_with(t."id", ?) and t."created_at" <= now() - make_interval(secs => ?)
        order by t."created_at" limit 100`,
      [idPrefix, olderThanSeconds],
    );
    return ctx.em.find(
      Transfer,
      { id: { $in: rows.map((row) => row.id) } },
      { orderBy: { createdAt: 'asc' } },
    );
  }

  @RequiresScopes('admin')
  @Mutation(() => Transfer, {
    description: 'Admins: credit an account from deposits clearing. `id` is the idempotency key.',
  })
  grantCredits(@Arg('input') input: GrantCreditsInput, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    adminsOnly(ctx);
    return grantCredits(ctx, input).then((result) => result.transfer);
  }

  @RequiresScopes('wallet')
  @Query(() => Transfer, { description: 'A transfer that pays you or is paid by you, by id.' })
  async transfer(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Transfer> {
    const me = ctx.me();
    checkTransferId(id);
    const transfer = await ctx.load(Transfer, id);
    if (!transfer || (me.role !== 'ADMIN' && !isParty(transfer, me.accountId)))
      throw notFound('Transfer', id);
    return transfer;
  }

  @FieldResolver(() => Transfer, {
    nullable: true,
    description: 'For a PENDING transfer: the POST, VOID or EXPIRE that resolved it; null while it is open.',
  })
  async resolvedBy(@Root() transfer: Transfer, @Ctx() ctx: SubgraphContext): Promise<Transfer | null> {
    if (transfer.kind !== TransferKind.PENDING) return null;
    return ctx.em.findOne(Transfer, { pendingId: transfer.id });
  }
}
