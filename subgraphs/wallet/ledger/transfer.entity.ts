import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar } from '../../../lib';

export enum TransferKind {
  SINGLE = 'SINGLE',
  PENDING = 'PENDING',
  POST = 'POST',
  VOID = 'VOID',
  EXPIRE = 'EXPIRE',
}
registerEnumType(TransferKind, {
  name: 'TransferKind',
  description:
    'SINGLE moves money at once; PENDING holds it; POST (fully or partly), VOID or EXPIRE resolve a hold, once.',
});

/**
 * A movement of money, immutable once written, keyed by the id its requester chose: the same id
 * again answers this row. Written only by `apply_transfers` (migrations/0002-ledger.ts).
 */
@ObjectType({ description: 'A movement of money between two ledger accounts.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'transfer' })
export class Transfer {
  @Field(() => ID, { description: "The requester's idempotency key." })
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Field(() => TransferKind)
  @Property({ type: 'string' })
  kind!: TransferKind;

  @Field(() => ID)
  @Property({ type: 'string' })
  debitAccountId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  creditAccountId!: string;

  @Property({ type: 'string' })
  debitOwnerId!: string;

  @Property({ type: 'string' })
  creditOwnerId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => BigIntScalar, {
    description: 'Minor units: posted (SINGLE, POST), held (PENDING) or released (VOID, EXPIRE).',
  })
  @Property({ type: new BigIntType('bigint'), fieldName: 'amount' })
  amountMinor!: bigint;

  @Field(() => ID, { nullable: true, description: 'The pending transfer a POST, VOID or EXPIRE resolves.' })
  @Property({ type: 'string', nullable: true })
  pendingId!: string | null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  timeoutSeconds!: number | null;

  @Field(() => Date, { nullable: true, description: 'When a PENDING transfer expires unless resolved.' })
  @Property({ type: 'Date', nullable: true })
  timeoutAt!: Date | null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  memo!: string | null;

  @Field()
  @Property({ type: 'Date' })
  createdAt!: Date;
}

/**
 * Whom a transfer belongs to, for reference resolution: the paying user, else the paid one. (A
 * transfer between two users is visible to both through `transfer(id)`.)
 */
export const ownerOfTransfer = (transfer: Transfer) =>
  transfer.debitOwnerId.startsWith('system:') ? transfer.creditOwnerId : transfer.debitOwnerId;

export const isParty = (transfer: Transfer, accountId: string) =>
  transfer.debitOwnerId === accountId || transfer.creditOwnerId === accountId;
