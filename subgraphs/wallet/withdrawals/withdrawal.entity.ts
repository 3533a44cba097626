import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar } from '../../../lib';

export enum WithdrawalStatus {
  PENDING = 'PENDING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(WithdrawalStatus, {
  name: 'WithdrawalStatus',
  description:
    'PENDING: held, the payout not yet confirmed; COMPLETED: paid out, hold posted; FAILED: hold voided, money back.',
});

/** Money sent out of an account by the payout service, held in the ledger until it confirms. */
@ObjectType({ description: 'A payout of your balance to an address outside the platform.' })
@Entity({ tableName: 'withdrawal' })
export class Withdrawal {
  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => BigIntScalar, { description: 'Minor units of `asset` taken from your balance.' })
  @Property({ type: new BigIntType('bigint'), fieldName: 'amount' })
  amountMinor!: bigint;

  @Field(() => BigIntScalar, {
    description: 'The network fee the payout service reports, in minor units (informational).',
  })
  @Property({ type: new BigIntType('bigint'), fieldName: 'fee' })
  feeMinor: bigint = 0n;

  @Field({ description: 'The address paid.' })
  @Property({ type: 'string' })
  destination!: string;

  @Field(() => WithdrawalStatus)
  @Property({ type: 'string' })
  status!: WithdrawalStatus;

  @Field(() => ID, { description: 'The PENDING ledger transfer holding the amount.' })
  @Property({ type: 'string' })
  holdId!: string;

  @Field(() => String, { nullable: true, description: 'The payout transaction, once paid.' })
  @Property({ type: 'string', nullable: true })
  tx: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  failureReason: string | null = null;

  @Field(() => Int, { description: 'How often the payout service was asked (it pays each id once).' })
  @Property({ type: 'integer' })
  attempts: number = 1;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  completedAt: Date | null = null;
}
