import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../../lib';

export enum OrderStatus {
  PROCESSING = 'PROCESSING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(OrderStatus, {
  name: 'OrderStatus',
  description: 'PROCESSING while the agent works; COMPLETED (paid) or FAILED (refunded) once it answered.',
});

/** Where an order's price is in the wallet. */
export enum OrderSettlement {
  /** Free agent: nothing was held. */
  NONE = 'NONE',
  HELD = 'HELD',
  /** Paid to the agent's owner, less the platform fee. */
  RELEASED = 'RELEASED',
  REFUNDED = 'REFUNDED',
}
registerEnumType(OrderSettlement, { name: 'OrderSettlement' });

/** One paid call to an agent (AUTX's order): the price is held, then paid on success or refunded. */
@ObjectType({ description: "A paid call to an agent, settled from the buyer's USD credits." })
@Entity({ tableName: 'order' })
export class Order {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'settlement'
    | 'amountPaidMinor'
    | 'platformFeeMinor'
    | 'outputText'
    | 'outputHash'
    | 'error'
    | 'latencyMs'
    | 'createdAt'
    | 'updatedAt'
    | 'completedAt';

  /** Also the prefix of the order's ledger ids (`ord_….hold`, `.release`, `.payout`, `.fee`, `.refund`). */
  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('ord');

  @Property({ type: 'string' })
  buyerId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  agentId!: string;

  @Field()
  @Property({ type: 'text' })
  prompt!: string;

  @Field({ description: 'What the buyer said it pays with; metadata only, orders settle from credits.' })
  @Property({ type: 'text' })
  paymentMethod!: string;

  @Field(() => BigIntScalar, { description: "The agent's price when ordered, in minor units of `asset`." })
  @Property({ type: new BigIntType('bigint') })
  priceMinor!: bigint;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => OrderStatus)
  @Property({ type: 'string' })
  status: OrderStatus = OrderStatus.PROCESSING;

  @Field(() => OrderSettlement)
  @Property({ type: 'string' })
  settlement: OrderSettlement = OrderSettlement.NONE;

  @Field(() => BigIntScalar, {
    description:
      "What the buyer was charged (the posted hold), from the wallet's transfer; 0 unless RELEASED.",
  })
  @Property({ type: new BigIntType('bigint') })
  amountPaidMinor: bigint = 0n;

  @Field(() => BigIntScalar, {
    description: "The platform's fee kept from the payment (PLATFORM_REVENUE), from the wallet's transfer.",
  })
  @Property({ type: new BigIntType('bigint') })
  platformFeeMinor: bigint = 0n;

  @Field(() => String, { nullable: true, description: "The agent's answer as text." })
  @Property({ type: 'text', nullable: true })
  outputText: string | null = null;

  @Field(() => String, { nullable: true, description: 'sha256:<hex> of the answer as received.' })
  @Property({ type: 'text', nullable: true })
  outputHash: string | null = null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED order failed.' })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Field(() => Int, { nullable: true, description: "The agent call's round trip in milliseconds." })
  @Property({ type: 'integer', nullable: true })
  latencyMs: number | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  completedAt: Date | null = null;
}
