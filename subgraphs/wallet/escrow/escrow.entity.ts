import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar } from '../../../lib';

export enum EscrowStatus {
  LOCKED = 'LOCKED',
  RELEASED = 'RELEASED',
  REFUNDED = 'REFUNDED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(EscrowStatus, {
  name: 'EscrowStatus',
  description:
    'LOCKED: held from the payer; RELEASED: paid to the recipient; REFUNDED: back to the payer; ' +
    'EXPIRED: its TTL passed unreleased (the hold went back to the payer; it may still be marked refunded).',
});

/**
 * Money locked for a task's reward: a PENDING ledger transfer from the payer straight to the
 * recipient, with the TTL as its timeout. Release posts it, refund voids it, the TTL expires it.
 */
@ObjectType({ description: 'Funds locked for a task reward until released to the recipient or refunded.' })
@Entity({ tableName: 'escrow' })
export class Escrow {
  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Field(() => ID, { description: 'The task the reward is for.' })
  @Property({ type: 'string' })
  taskId!: string;

  @Field(() => ID, { description: 'The account the money is held from.' })
  @Property({ type: 'string' })
  payerId!: string;

  @Field(() => ID, { description: 'The account paid on release.' })
  @Property({ type: 'string' })
  recipientId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => Int, { description: 'One unit of the asset is 10^decimals minor units.' })
  @Property({ type: 'smallint' })
  decimals!: number;

  @Field(() => BigIntScalar, { description: 'Minor units of `asset` locked.' })
  @Property({ type: new BigIntType('bigint'), fieldName: 'amount' })
  amountMinor!: bigint;

  /** As stored; the `status` field also answers EXPIRED for a LOCKED escrow past its expiry. */
  @Property({ type: 'string' })
  status!: EscrowStatus;

  @Field({ description: 'Release needs a verified gaze attestation.' })
  @Property({ type: 'boolean' })
  gazeRequired: boolean = false;

  @Field(() => Int)
  @Property({ type: 'integer' })
  ttlSeconds!: number;

  @Field(() => ID, { description: 'The PENDING ledger transfer holding the amount.' })
  @Property({ type: 'string' })
  holdId!: string;

  @Field({ description: 'When the hold expires unless released or refunded first.' })
  @Property({ type: 'Date' })
  expiresAt!: Date;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When it was released, refunded or found expired.' })
  @Property({ type: 'Date', nullable: true })
  settledAt: Date | null = null;
}

/** Payer and recipient both see an escrow; the payer alone releases it. */
export const isEscrowParty = (escrow: Escrow, accountId: string) =>
  escrow.payerId === accountId || escrow.recipientId === accountId;
