import {
  Arg,
  Args,
  ArgsType,
  Ctx,
  Field,
  FieldResolver,
  Int,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
} from 'type-graphql';
import {
  Authenticated,
  BigIntScalar,
  Connection,
  PageArgs,
  paginate,
  type SubgraphContext,
} from '../../../lib';
import { LedgerEntry } from './ledger-entry.entity';
import { assetDecimals, SystemAccountRole, systemOwnerId } from './ledger.accounts';
import { Transfer, TransferKind } from './transfer.entity';
import { Withdrawal, WithdrawalStatus } from '../withdrawals/withdrawal.entity';

export enum WalletActivityCategory {
  DEPOSIT = 'DEPOSIT',
  WITHDRAWAL = 'WITHDRAWAL',
  CHARGE = 'CHARGE',
  ESCROW = 'ESCROW',
  TRANSFER = 'TRANSFER',
}
registerEnumType(WalletActivityCategory, {
  name: 'WalletActivityCategory',
  description:
    'What a balance change was, by the account on its other side: DEPOSIT (deposits clearing), WITHDRAWAL ' +
    '(payouts clearing), CHARGE (platform revenue or fees: per-message and per-call billing), ESCROW, or a ' +
    'TRANSFER with another account.',
});

const CATEGORY_OF_SYSTEM: Record<string, WalletActivityCategory> = {
  [systemOwnerId(SystemAccountRole.DEPOSITS_CLEARING)]: WalletActivityCategory.DEPOSIT,
  [systemOwnerId(SystemAccountRole.PAYOUTS_CLEARING)]: WalletActivityCategory.WITHDRAWAL,
  [systemOwnerId(SystemAccountRole.PLATFORM_REVENUE)]: WalletActivityCategory.CHARGE,
  [systemOwnerId(SystemAccountRole.FEES)]: WalletActivityCategory.CHARGE,
  [systemOwnerId(SystemAccountRole.ESCROW)]: WalletActivityCategory.ESCROW,
};

/** A withdrawal's ledger steps are `<withdrawal id>.hold|.post|.void`; an on-chain deposit's is its hash. */
const WITHDRAWAL_STEP = /^(wdr_[0-9a-z]{26})\.(hold|post|void)$/;
const CHAIN_HASH = /^[0-9a-f]{64}$/;

@ObjectType()
class WalletActivityConnection extends Connection(LedgerEntry) {}

@ArgsType()
class WalletActivityArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only changes in this asset.' })
  asset?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'One row per movement: a hold stands for itself and its post, void or expiry (see `resolution`), ' +
      'whose own rows are left out, so summing rows never counts a movement twice.',
  })
  movements?: boolean | null;
}

@ObjectType({ description: 'Your balance in one asset, with what has come in and gone out, in minor units.' })
class WalletSummary {
  @Field()
  asset!: string;

  @Field(() => Int)
  decimals!: number;

  @Field(() => BigIntScalar, { description: 'What you can spend now.' })
  availableMinor!: bigint;

  @Field(() => BigIntScalar, {
    description: 'Held by pending transfers out (chat turns, escrow, withdrawals).',
  })
  reservedMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'On its way in by pending transfers to you.' })
  incomingMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Posted credits less posted debits.' })
  postedMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Everything paid to you by others (not deposits), ever.' })
  earnedMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Everything deposited, ever.' })
  depositedMinor!: bigint;

  @Field(() => BigIntScalar, { description: 'Everything paid out by completed withdrawals, ever.' })
  withdrawnMinor!: bigint;
}

const SUMMARY = `
  select coalesce(a."credits_posted", 0) as "credits_posted", coalesce(a."debits_posted", 0) as "debits_posted",
         coalesce(a."debits_pending", 0) as "debits_pending", coalesce(a."credits_pending", 0) as "credits_pending",
         (select coalesce(sum(t."amount"), 0) from "wallet"."transfer" t
           where t."credit_owner_id" = o."owner" and t."asset" = o."asset" and t."kind" in ('SINGLE', 'POST')
             and t."debit_owner_id" <> ?) as "earned",
         (select coalesce(sum(t."amount"), 0) from "wallet"."transfer" t
           where t."credit_owner_id" = o."owner" and t."asset" = o."asset" and t."kind" = 'SINGLE'
             and t."debit_owner_id" = ?) as "deposited",
         (select coalesce(sum(w."amount"), 0) from "wallet"."withdrawal" w
           where w."owner_id" = o."owner" and w."asset" = o."asset" and w."status" = ?) as "withdrawn"
  from (select ?::text as "owner", ?::text as "asset") o
  left join "wallet"."ledger_account" a on a."owner_id" = o."owner" and a."asset" = o."asset"`;

@Resolver(() => LedgerEntry)
export class WalletActivityResolver {
  @Authenticated()
  @Query(() => WalletSummary, { description: 'Your balance in one asset, with its totals in and out.' })
  async walletSummary(@Arg('asset') asset: string, @Ctx() ctx: SubgraphContext): Promise<WalletSummary> {
    const ownerId = ctx.me().accountId;
    const decimals = await assetDecimals(ctx.em, asset);
    const deposits = systemOwnerId(SystemAccountRole.DEPOSITS_CLEARING);
    const [row] = await ctx.em.execute<Record<string, string>[]>(SUMMARY, [
      deposits,
      deposits,
      WithdrawalStatus.COMPLETED,
      ownerId,
      asset,
    ]);
    const n = (key: string) => BigInt(row[key]);
    return {
      asset,
      decimals,
      availableMinor: n('credits_posted') - n('debits_posted') - n('debits_pending'),
      reservedMinor: n('debits_pending'),
      incomingMinor: n('credits_pending'),
      postedMinor: n('credits_posted') - n('debits_posted'),
      earnedMinor: n('earned'),
      depositedMinor: n('deposited'),
      withdrawnMinor: n('withdrawn'),
    };
  }

  @Authenticated()
  @Query(() => WalletActivityConnection, {
    description: 'Changes to your own balances (deposits, withdrawals, charges, …), newest first.',
  })
  async walletActivity(
    @Args() args: WalletActivityArgs,
    @Ctx() ctx: SubgraphContext,
  ): Promise<WalletActivityConnection> {
    const ownerId = ctx.me().accountId;
    if (args.asset) await assetDecimals(ctx.em, args.asset);
    return paginate(
      ctx.em,
      LedgerEntry,
      {
        ownerId,
        ...(args.asset ? { asset: args.asset } : {}),
        ...(args.movements ? { kind: { $in: [TransferKind.SINGLE, TransferKind.PENDING] } } : {}),
      },
      args,
    );
  }

  @FieldResolver(() => WalletActivityCategory, { description: 'What this change was.' })
  async category(@Root() entry: LedgerEntry, @Ctx() ctx: SubgraphContext): Promise<WalletActivityCategory> {
    const transfer = await ctx.get(Transfer, entry.transferId);
    const other = entry.ownerId === transfer.debitOwnerId ? transfer.creditOwnerId : transfer.debitOwnerId;
    return CATEGORY_OF_SYSTEM[other] ?? WalletActivityCategory.TRANSFER;
  }

  @FieldResolver(() => Transfer, {
    nullable: true,
    description: "A hold's post, void or expiry, once it is resolved; null while open or for other entries.",
  })
  async resolution(@Root() entry: LedgerEntry, @Ctx() ctx: SubgraphContext): Promise<Transfer | null> {
    if (entry.kind !== TransferKind.PENDING) return null;
    return ctx.em.findOne(Transfer, { pendingId: entry.transferId });
  }

  @FieldResolver(() => Int, { description: 'Decimals of `asset`: amounts are in 10^-decimals of it.' })
  decimals(@Root() entry: LedgerEntry, @Ctx() ctx: SubgraphContext): Promise<number> {
    return assetDecimals(ctx.em, entry.asset);
  }

  @FieldResolver(() => String, { nullable: true, description: "The transfer's memo." })
  async memo(@Root() entry: LedgerEntry, @Ctx() ctx: SubgraphContext): Promise<string | null> {
    return (await ctx.get(Transfer, entry.transferId)).memo;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "The chain transaction: an on-chain deposit's, or a completed withdrawal's payout.",
  })
  async reference(@Root() entry: LedgerEntry, @Ctx() ctx: SubgraphContext): Promise<string | null> {
    if (CHAIN_HASH.test(entry.transferId)) return `0x${entry.transferId}`;
    const step = WITHDRAWAL_STEP.exec(entry.transferId);
    if (!step) return null;
    return (await ctx.load(Withdrawal, step[1]))?.tx ?? null;
  }
}
