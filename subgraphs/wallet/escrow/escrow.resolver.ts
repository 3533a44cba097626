import {
  Arg,
  Args,
  ArgsType,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  AccountReference,
  badInput,
  BigIntScalar,
  Connection,
  PageArgs,
  paginate,
  parseAmount,
  reference,
  RequiresScopes,
  TaskReference,
  type SubgraphContext,
} from '../../../lib';
import { Escrow, EscrowStatus } from './escrow.entity';
import {
  escrowStatus,
  lockEscrow,
  MAX_ESCROW_TTL_SECONDS,
  MIN_ESCROW_TTL_SECONDS,
  refundEscrow,
  releaseEscrow,
} from './escrow.service';
import { assetDecimals } from '../ledger/ledger.accounts';

@ObjectType()
class EscrowConnection extends Connection(Escrow) {}

const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

@InputType({
  description: 'Lock funds for a task reward. Give the amount as amountMinor or as a decimal amount.',
})
class LockEscrowInput {
  @Field(() => ID, { description: 'A task of yours.' })
  taskId!: string;

  @Field(() => ID, { description: 'The account paid on release.' })
  recipientId!: string;

  @Field({ defaultValue: 'USD', description: 'The asset locked: USD (credits), USDC, SOL.' })
  asset: string = 'USD';

  @Field(() => BigIntScalar, { nullable: true, description: 'Minor units of `asset`, at least 1.' })
  amountMinor?: bigint | null;

  @Field(() => String, { nullable: true, description: 'Or the amount in units of `asset`: "0.50".' })
  amount?: string | null;

  @Field({ defaultValue: false, description: 'Release only with a verified gaze attestation.' })
  gazeRequired: boolean = false;

  @Field(() => Int, {
    defaultValue: DEFAULT_TTL_SECONDS,
    description: `Seconds until it expires unreleased, ${MIN_ESCROW_TTL_SECONDS} to ${MAX_ESCROW_TTL_SECONDS}.`,
  })
  ttlSeconds: number = DEFAULT_TTL_SECONDS;
}

@ArgsType()
class EscrowFilterArgs extends PageArgs {
  @Field(() => EscrowStatus, { nullable: true })
  status?: EscrowStatus | null;

  @Field(() => ID, { nullable: true, description: 'Only the escrows of this task.' })
  taskId?: string | null;
}

/** The stored condition for a status as clients see it (a LOCKED escrow past expiry is EXPIRED). */
function statusWhere(status: EscrowStatus, now: Date) {
  if (status === EscrowStatus.LOCKED) return { status, expiresAt: { $gt: now } };
  if (status === EscrowStatus.EXPIRED)
    return { $or: [{ status }, { status: EscrowStatus.LOCKED, expiresAt: { $lte: now } }] };
  return { status };
}

async function amountOf(ctx: SubgraphContext, input: LockEscrowInput): Promise<bigint> {
  const given = [input.amountMinor, input.amount].filter((value) => value !== null && value !== undefined);
  if (given.length !== 1) throw badInput('give either amountMinor or amount', { field: 'amount' });
  if (input.amountMinor !== null && input.amountMinor !== undefined) return input.amountMinor;
  return parseAmount(input.amount, await assetDecimals(ctx.em, input.asset), { field: 'amount' });
}

@Resolver(() => Escrow)
export class EscrowResolver {
  @RequiresScopes('wallet')
  @Mutation(() => Escrow, {
    description:
      'Lock funds from your balance for a task of yours, payable to another account; they come back when ' +
      'refunded or when the TTL passes. PAYMENT_REQUIRED when your balance is short.',
  })
  async lockEscrow(@Arg('input') input: LockEscrowInput, @Ctx() ctx: SubgraphContext): Promise<Escrow> {
    return lockEscrow(ctx, {
      taskId: input.taskId,
      recipientId: input.recipientId,
      asset: input.asset,
      amountMinor: await amountOf(ctx, input),
      gazeRequired: input.gazeRequired,
      ttlSeconds: input.ttlSeconds,
    });
  }

  @RequiresScopes('wallet')
  @Mutation(() => Escrow, {
    description:
      'The payer: pay a LOCKED escrow to its recipient. CONFLICT unless locked, GONE once expired, FORBIDDEN ' +
      'for a gaze-required escrow without your verified, unexpired gaze attestation (attestationStatus); ' +
      'an `attestationId` given must be that attestation.',
  })
  releaseEscrow(
    @Arg('id', () => ID) id: string,
    @Arg('attestationId', () => ID, { nullable: true }) attestationId: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Escrow> {
    return releaseEscrow(ctx, id, attestationId ?? null);
  }

  @RequiresScopes('wallet')
  @Mutation(() => Escrow, {
    description: 'Payer or recipient: return a LOCKED or EXPIRED escrow to the payer. CONFLICT otherwise.',
  })
  refundEscrow(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Escrow> {
    return refundEscrow(ctx, id);
  }

  @RequiresScopes('wallet')
  @Query(() => EscrowConnection, { description: 'Escrows you pay or are paid by, newest first.' })
  escrows(@Args() { status, taskId, ...page }: EscrowFilterArgs, @Ctx() ctx: SubgraphContext) {
    const me = ctx.me();
    const where = [
      me.role === 'ADMIN' ? {} : { $or: [{ payerId: me.accountId }, { recipientId: me.accountId }] },
      status ? statusWhere(status, new Date()) : {},
      taskId ? { taskId } : {},
    ];
    return paginate(ctx.em, Escrow, { $and: where }, page as PageArgs);
  }

  @RequiresScopes('wallet')
  @Query(() => Escrow, { description: 'An escrow you pay or are paid by.' })
  async escrow(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Escrow> {
    const me = ctx.me();
    return ctx.getOwned(Escrow, id, (escrow) =>
      escrow.recipientId === me.accountId ? me.accountId : escrow.payerId,
    );
  }

  @FieldResolver(() => EscrowStatus, { description: 'EXPIRED once the TTL passed while it was locked.' })
  status(@Root() escrow: Escrow): EscrowStatus {
    return escrowStatus(escrow);
  }

  @FieldResolver(() => TaskReference, {
    nullable: true,
    description: 'Null once the task is gone or hidden.',
  })
  task(@Root() escrow: Escrow, @Ctx() ctx: SubgraphContext) {
    return ctx.references.linked('Task', escrow.taskId);
  }

  @FieldResolver(() => AccountReference)
  payer(@Root() escrow: Escrow) {
    return reference(escrow.payerId);
  }

  @FieldResolver(() => AccountReference)
  recipient(@Root() escrow: Escrow) {
    return reference(escrow.recipientId);
  }
}
