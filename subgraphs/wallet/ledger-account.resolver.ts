import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AccountReference,
  badInput,
  Connection,
  flushUnique,
  PageArgs,
  paginate,
  reference,
  type SubgraphContext,
} from '../../lib';
import { LedgerAccount } from './ledger-account.entity';

@ObjectType()
class LedgerAccountConnection extends Connection(LedgerAccount) {}

@Resolver(() => LedgerAccount)
export class LedgerAccountResolver {
  @Query(() => LedgerAccount, { description: 'One ledger account by id.' })
  ledgerAccount(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<LedgerAccount> {
    return ctx.get(LedgerAccount, id);
  }

  @Query(() => LedgerAccountConnection, {
    description: "Ledger accounts, newest first, optionally one owner's.",
  })
  ledgerAccounts(
    @Args() page: PageArgs,
    @Arg('ownerId', () => ID, { nullable: true }) ownerId: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LedgerAccountConnection> {
    return paginate(ctx.em, LedgerAccount, ownerId ? { ownerId } : {}, page);
  }

  @Mutation(() => LedgerAccount, { description: 'Open a zero balance in an asset; one per owner and asset.' })
  async openLedgerAccount(
    @Arg('ownerId', () => ID) ownerId: string,
    @Arg('asset') asset: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LedgerAccount> {
    if (!/^[A-Z0-9]{2,12}$/.test(asset))
      throw badInput('asset must be an upper-case code', { field: 'asset' });
    const account = ctx.em.create(LedgerAccount, { ownerId, asset });
    await flushUnique(ctx.em, `a ${asset} ledger account already exists for ${ownerId}`, { field: 'asset' });
    return account;
  }

  @FieldResolver(() => AccountReference)
  owner(@Root() account: LedgerAccount) {
    return reference(account.ownerId);
  }
}
