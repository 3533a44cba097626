import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  AccountReference,
  AppError,
  BigIntScalar,
  Connection,
  flushUnique,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
  type SubgraphContext,
} from '../../../lib';
import { Asset } from './asset.entity';
import { LedgerAccount } from './ledger-account.entity';
import { assetDecimals, isSystemOwner, SystemAccountRole, systemOwnerId } from './ledger.accounts';
import { LedgerThroughput, ledgerThroughput } from './ledger.throughput';

@ObjectType()
class LedgerAccountConnection extends Connection(LedgerAccount) {}

@ObjectType({ description: 'Your balance in one asset, in minor units (10^-decimals of the asset).' })
class WalletBalance {
  @Field()
  asset!: string;

  @Field(() => Int)
  decimals!: number;

  @Field(() => BigIntScalar, { description: 'What you can spend now: posted, less what holds keep back.' })
  availableMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Posted credits less posted debits.' })
  postedMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Held by pending transfers out of your account.' })
  pendingDebitsMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'On its way in by pending transfers to your account.' })
  pendingCreditsMinor!: bigint;

  @Field(() => LedgerAccount, { nullable: true, description: 'Null until something moves in this asset.' })
  account!: LedgerAccount | null;
}

function balanceOf(asset: Asset, account: LedgerAccount | undefined): WalletBalance {
  return {
    asset: asset.code,
    decimals: asset.decimals,
    availableMinor: account?.balanceMinor ?? 0n,
    postedMinor: account?.postedMinor ?? 0n,
    pendingDebitsMinor: account?.debitsPending ?? 0n,
    pendingCreditsMinor: account?.creditsPending ?? 0n,
    account: account ?? null,
  };
}

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
  @Query(() => [WalletBalance], { description: 'Your balance in every asset the wallet keeps.' })
  async walletBalances(@Ctx() ctx: SubgraphContext): Promise<WalletBalance[]> {
    const ownerId = ctx.me().accountId;
    const [assets, accounts] = await Promise.all([
      ctx.em.find(Asset, {}, { orderBy: { code: 'asc' } }),
      ctx.em.find(LedgerAccount, { ownerId }, { refresh: true }),
    ]);
    return assets.map((asset) =>
      balanceOf(
        asset,
        accounts.find((account) => account.asset === asset.code),
      ),
    );
  }

  @RequiresScopes('wallet')
  @Query(() => [Asset], { description: 'The assets the wallet keeps, with their decimals.' })
  assets(@Ctx() ctx: SubgraphContext): Promise<Asset[]> {
    return ctx.em.find(Asset, {}, { orderBy: { code: 'asc' } });
  }

  @RequiresScopes('admin')
  @Query(() => [LedgerAccount], {
    description: "Admins: the platform's system accounts, optionally of one role or asset.",
  })
  systemAccounts(
    @Arg('role', () => SystemAccountRole, { nullable: true }) role: SystemAccountRole | undefined,
    @Arg('asset', () => String, { nullable: true }) asset: string | undefined,
    @Ctx() ctx: SubgraphContext,
  ): Promise<LedgerAccount[]> {
    if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', 'only admins see system accounts');
    return ctx.em.find(
      LedgerAccount,
      {
        ownerId: role ? systemOwnerId(role) : { $like: 'system:%' },
        ...(asset ? { asset } : {}),
      },
      { orderBy: { asset: 'asc', ownerId: 'asc' }, refresh: true },
    );
  }

  @RequiresScopes('admin')
  @Query(() => LedgerThroughput, { description: 'Admins: transfers per second, platform-wide.' })
  ledgerThroughput(@Ctx() ctx: SubgraphContext): Promise<LedgerThroughput> {
    if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', 'only admins see platform figures');
    return ledgerThroughput(ctx.em);
  }

  @RequiresScopes('wallet')
  @Mutation(() => LedgerAccount, {
    description: 'Open a zero balance in an asset; one per account and asset.',
  })
  async openLedgerAccount(@Arg('asset') asset: string, @Ctx() ctx: SubgraphContext): Promise<LedgerAccount> {
    const ownerId = ctx.me().accountId;
    await assetDecimals(ctx.em, asset);
    const account = ctx.em.create(LedgerAccount, { ownerId, asset });
    await flushUnique(ctx.em, `you already have a ${asset} ledger account`, { field: 'asset' });
    return account;
  }

  @FieldResolver(() => AccountReference, { nullable: true, description: 'Null for system accounts.' })
  owner(@Root() account: LedgerAccount) {
    return isSystemOwner(account.ownerId) ? null : reference(account.ownerId);
  }

  @FieldResolver(() => SystemAccountRole, { nullable: true, description: 'The role of a system account.' })
  systemRole(@Root() account: LedgerAccount): SystemAccountRole | null {
    return isSystemOwner(account.ownerId)
      ? (account.ownerId.slice('system:'.length) as SystemAccountRole)
      : null;
  }
}
