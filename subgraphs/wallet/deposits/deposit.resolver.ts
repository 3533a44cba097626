import {
  Args,
  Arg,
  Ctx,
  Directive,
  Field,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import {
  AppError,
  Authenticated,
  BigIntScalar,
  Connection,
  PageArgs,
  paginate,
  requireVerifiedEmail,
  type SubgraphContext,
} from '../../../lib';
import { Deposit } from './deposit.entity';
import { AddressChallenge, DepositAddressLink } from './deposit-address.entity';
import { createAddressChallenge, linkDepositAddress } from './deposit-address.service';
import {
  claimOnChainDeposit,
  claimSolanaPayment,
  claimX402Payment,
  grantTestDeposit,
} from './deposit.service';
import { x402Terms } from '../x402.rail';
import { MINIMUM_DEPOSIT_MINOR, paymentSettings } from '../payments.settings';

@ObjectType()
class DepositConnection extends Connection(Deposit) {}

@Directive('@inaccessible')
@ObjectType({ description: 'Services: an x402 v2 payment credited, and its PAYMENT-RESPONSE header.' })
class X402Payment {
  @Field(() => Deposit)
  deposit!: Deposit;

  @Field({ description: 'The settlement as the base64 JSON `PAYMENT-RESPONSE` header.' })
  paymentResponse!: string;
}

/** Money moves in the ledger only on a platform service's request. */
function requireService(ctx: SubgraphContext): void {
  if (ctx.caller.kind !== 'service')
    throw new AppError('FORBIDDEN', 'only platform services move money in the ledger');
}

@ObjectType({ description: 'Where and how to send USDC so that it becomes your credits.' })
class DepositAddress {
  @Field(() => String, {
    nullable: true,
    description:
      'The credit vault (one for every account): send USDC here from an address linked to your account ' +
      '(linkDepositAddress), then claim the transaction. Null when deposits are off.',
  })
  address!: string | null;

  @Field({ description: 'The token accepted.' })
  asset!: string;

  @Field(() => String, { description: 'The USDC token contract.' })
  tokenAddress!: string;

  @Field(() => BigIntScalar, { description: 'The smallest deposit credited, in token units.' })
  minimumMinor!: bigint;

  @Field(() => Int, { description: 'Blocks a transaction needs before it is credited.' })
  confirmations!: number;

  @Field({ description: 'Whether on-chain deposits are configured here.' })
  enabled!: boolean;
}

/** Credits work with any credential (003: "JWT or API key (any scope)"), so only sign-in is required. */
@Resolver(() => Deposit)
export class DepositResolver {
  @Authenticated()
  @Mutation(() => Deposit, {
    description:
      'Credit a USDC transfer to the credit vault, once per transaction, after it has enough confirmations.',
  })
  async claimDeposit(@Arg('txHash') txHash: string, @Ctx() ctx: SubgraphContext): Promise<Deposit> {
    await requireVerifiedEmail(ctx, 'claim a deposit');
    return claimOnChainDeposit(ctx, ctx.me().accountId, txHash);
  }

  @Authenticated()
  @Mutation(() => AddressChallenge, {
    description:
      'Step one of linking an EVM address: the message to sign with it (valid 10 minutes, once). Deposits ' +
      'are credited only to the account that linked their sender.',
  })
  depositAddressChallenge(
    @Arg('address') address: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<AddressChallenge> {
    return createAddressChallenge(ctx.em, ctx.me().accountId, address);
  }

  @Authenticated()
  @Mutation(() => DepositAddressLink, {
    description:
      "Step two: link the challenge's address with its signature of the message (EIP-191). An address " +
      'belongs to one account: one linked elsewhere is CONFLICT.',
  })
  linkDepositAddress(
    @Arg('challengeId') challengeId: string,
    @Arg('signature') signature: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DepositAddressLink> {
    return linkDepositAddress(ctx.em.fork(), ctx.me().accountId, { challengeId, signature });
  }

  @Authenticated()
  @Query(() => [DepositAddressLink], {
    description: 'The EVM addresses linked to your account (at most 100).',
  })
  linkedDepositAddresses(@Ctx() ctx: SubgraphContext): Promise<DepositAddressLink[]> {
    return ctx.em.find(
      DepositAddressLink,
      { ownerId: ctx.me().accountId },
      { orderBy: { linkedAt: 'asc' }, limit: 100 },
    );
  }

  @Directive('@inaccessible')
  @Mutation(() => Deposit, {
    description:
      "Services: credit the SOL a Solana transaction sent to the platform's escrow address to `accountId`, " +
      'once per signature (the same account again is answered the same deposit).',
  })
  ledgerSolanaPayment(
    @Arg('accountId', () => ID) accountId: string,
    @Arg('signature') signature: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Deposit> {
    requireService(ctx);
    return claimSolanaPayment(ctx, accountId, signature);
  }

  @Directive('@inaccessible')
  @Query(() => String, {
    description:
      'Services: the x402 v2 `PAYMENT-REQUIRED` header (base64 JSON) for a price in USDC units, ' +
      'naming what it pays for.',
  })
  ledgerX402Terms(
    @Arg('amountMinor', () => BigIntScalar) amountMinor: bigint,
    @Arg('resource') resource: string,
    @Arg('description') description: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<string> {
    requireService(ctx);
    return x402Terms(amountMinor, { url: resource, description });
  }

  @Directive('@inaccessible')
  @Mutation(() => X402Payment, {
    description:
      'Services: verify and settle an x402 v2 `PAYMENT-SIGNATURE` for exactly `amountMinor` USDC units ' +
      'through the facilitator and credit it to `accountId`, once per payment.',
  })
  ledgerX402Payment(
    @Arg('accountId', () => ID) accountId: string,
    @Arg('paymentSignature') paymentSignature: string,
    @Arg('amountMinor', () => BigIntScalar) amountMinor: bigint,
    @Ctx() ctx: SubgraphContext,
  ): Promise<X402Payment> {
    requireService(ctx);
    return claimX402Payment(ctx, accountId, paymentSignature, amountMinor);
  }

  @Authenticated()
  @Mutation(() => Deposit, {
    description: 'Development only (ENABLE_TEST_CREDITS=true): credit USD without a chain transaction.',
  })
  depositTestCredits(
    @Arg('amountMinor', () => BigIntScalar) amountMinor: bigint,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Deposit> {
    return grantTestDeposit(ctx, ctx.me().accountId, amountMinor);
  }

  @Authenticated()
  @Query(() => DepositConnection, { description: 'Your deposits, newest first.' })
  deposits(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<DepositConnection> {
    return paginate(ctx.em, Deposit, ctx.ownedWhere('ownerId'), page);
  }

  @Authenticated()
  @Query(() => DepositAddress, { description: 'Where to send USDC to fund your credits.' })
  depositAddress(@Ctx() ctx: SubgraphContext): DepositAddress {
    ctx.me();
    const settings = paymentSettings();
    const enabled = Boolean(settings.EVM_RPC_URL && settings.CREDIT_VAULT_ADDRESS);
    return {
      address: settings.CREDIT_VAULT_ADDRESS ?? null,
      asset: 'USDC',
      tokenAddress: settings.USDC_CONTRACT_ADDRESS,
      minimumMinor: MINIMUM_DEPOSIT_MINOR,
      confirmations: settings.DEPOSIT_CONFIRMATIONS,
      enabled,
    };
  }
}
