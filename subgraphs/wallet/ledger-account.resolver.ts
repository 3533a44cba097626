import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AccountReference,
  badInput,
  Connection,
  flushUnique,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { LedgerAccount } from './ledger-account.entity';

@ObjectType()
class LedgerAccountConnection extends Connection(LedgerAccount) {}

@Resolver(() => LedgerAccount)
export class LedgerAccountResolver {
  @RequiresScopes('wallet')
  @Query(() => LedgerAccount, { description: 'One of your ledger accounts by id.' })
  ledgerAccount(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<LedgerAccount> {
    return ctx.getOwned(LedgerAccount, id, (account) => account.ownerId);
  }

  @RequiresScopes('wallet')
  @Query(() => LedgerAccountConnection, { description: 'Your ledger accounts, newest first.' })
  ledgerAccounts(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<LedgerAccountConnection> {
    return paginate(ctx.em, LedgerAccount, ctx.ownedWhere('ownerId'), page);
  }

  @RequiresScopes('wallet')
  @Mutation(() => LedgerAccount, {
    description: 'Open a zero balance in an asset; one per account and asset.',
  })
  async openLedgerAccount(@Arg('asset') asset: string, @Ctx() ctx: SubgraphContext): Promise<LedgerAccount> {
    if (!/^[A-Z0-9]{2,12}$/.test(asset))
      throw badInput('asset must be an upper-case code', { field: 'asset' });
    const account = ctx.em.create(LedgerAccount, { ownerId: ctx.me().accountId, asset });
    await flushUnique(ctx.em, `you already have a ${asset} ledger account`, { field: 'asset' });
    return account;
  }

  @FieldResolver(() => AccountReference)
  owner(@Root() account: LedgerAccount) {
    return reference(account.ownerId);
  }
}
