import type { FilterQuery } from '@mikro-orm/core';
import {
  Args,
  ArgsType,
  Ctx,
  Field,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  AppError,
  badInput,
  Connection,
  PageArgs,
  paginate,
  RequiresScopes,
  type SubgraphContext,
} from '../../../lib';
import { SystemAccountRole, systemOwnerId } from './ledger.accounts';
import { LedgerEntry } from './ledger-entry.entity';
import { fromWire, walletTopic, type LedgerEntryWire } from './ledger.events';
import { TransferKind } from './transfer.entity';

@ObjectType()
class LedgerEntryConnection extends Connection(LedgerEntry) {}

@ArgsType()
class LedgerEntryFilter extends PageArgs {
  @Field(() => [TransferKind], { nullable: true, description: 'Only entries of these kinds of transfer.' })
  kinds?: TransferKind[] | null;

  @Field(() => String, { nullable: true, description: 'Only entries in this asset.' })
  asset?: string | null;

  @Field(() => Date, { nullable: true, description: 'Only entries at or after this time.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only entries before this time.' })
  until?: Date | null;
}

@ArgsType()
class WalletEventArgs {
  @Field(() => SystemAccountRole, {
    nullable: true,
    description: "Admins: a system account's changes instead of your own.",
  })
  system?: SystemAccountRole | null;
}

@Resolver(() => LedgerEntry)
export class LedgerEntryResolver {
  @RequiresScopes('wallet')
  @Query(() => LedgerEntryConnection, {
    description: 'Changes to your balances, newest first, each with the balance right after it.',
  })
  ledgerEntries(
    @Args() filter: LedgerEntryFilter,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LedgerEntryConnection> {
    if (filter.kinds && filter.kinds.length > Object.keys(TransferKind).length)
      throw badInput('kinds lists each kind at most once', { argument: 'kinds' });
    const where: FilterQuery<LedgerEntry>[] = [
      ctx.ownedWhere('ownerId'),
      filter.kinds ? { kind: { $in: filter.kinds } } : {},
      filter.asset ? { asset: filter.asset } : {},
      filter.since ? { createdAt: { $gte: filter.since } } : {},
      filter.until ? { createdAt: { $lt: filter.until } } : {},
    ];
    return paginate(ctx.em, LedgerEntry, { $and: where }, filter);
  }

  @RequiresScopes('wallet')
  @Subscription(() => LedgerEntry, {
    description:
      'Your balance changes as they are committed: one event per entry, with the balance after it.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, WalletEventArgs, SubgraphContext>) => {
      const me = context.me();
      if (args.system && me.role !== 'ADMIN')
        throw new AppError('FORBIDDEN', "only admins follow system accounts' changes");
      return context.pubsub.subscribe(walletTopic(args.system ? systemOwnerId(args.system) : me.accountId));
    },
  })
  walletEvents(@Root() payload: LedgerEntryWire, @Args() _args: WalletEventArgs): LedgerEntry {
    return fromWire(payload);
  }
}
