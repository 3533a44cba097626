import { Arg, Args, Ctx, Field, ID, InputType, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import {
  Authenticated,
  BigIntScalar,
  Connection,
  PageArgs,
  paginate,
  type SubgraphContext,
} from '../../../lib';
import { Withdrawal } from './withdrawal.entity';
import { requestWithdrawal } from './withdrawal.service';

@ObjectType()
class WithdrawalConnection extends Connection(Withdrawal) {}

@InputType({ description: 'Pay part of your balance out to an address.' })
class WithdrawalInput {
  @Field({ description: 'USD (credits, paid out as USDC) or SOL.' })
  asset!: string;

  @Field(() => BigIntScalar, { description: 'Minor units of `asset`.' })
  amountMinor!: bigint;

  @Field(() => String, {
    nullable: true,
    description: 'The address paid; for USD, by default the sender of your latest on-chain deposit.',
  })
  destination?: string | null;
}

@Resolver(() => Withdrawal)
export class WithdrawalResolver {
  @Authenticated()
  @Mutation(() => Withdrawal, {
    description:
      'Hold the amount and pay it out: COMPLETED when the payout service confirms, FAILED (money back) when ' +
      'it refuses, PENDING while it is unconfirmed. USD withdrawals: one per hour (RATE_LIMITED).',
  })
  requestWithdrawal(@Arg('input') input: WithdrawalInput, @Ctx() ctx: SubgraphContext): Promise<Withdrawal> {
    return requestWithdrawal(ctx, ctx.me().accountId, input);
  }

  @Authenticated()
  @Query(() => WithdrawalConnection, { description: 'Your withdrawals, newest first.' })
  withdrawals(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<WithdrawalConnection> {
    return paginate(ctx.em, Withdrawal, ctx.ownedWhere('ownerId'), page);
  }

  @Authenticated()
  @Query(() => Withdrawal, { description: 'One of your withdrawals by id.' })
  withdrawal(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Withdrawal> {
    return ctx.getOwned(Withdrawal, id, (withdrawal) => withdrawal.ownerId);
  }
}
