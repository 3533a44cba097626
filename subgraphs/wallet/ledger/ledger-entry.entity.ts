import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar } from '../../../lib';
import { TransferKind } from './transfer.entity';

export enum EntrySide {
  DEBIT = 'DEBIT',
  CREDIT = 'CREDIT',
}
registerEnumType(EntrySide, { name: 'EntrySide', description: 'Which side of its transfer an entry is.' });

/**
 * One side of a transfer on one account, with the balance right after it. Deltas are changes to
 * credits less debits, so a transfer's two entries sum to zero and an account's entries sum to it.
 */
@ObjectType({ description: "One transfer's change to one of your balances." })
@Entity({ tableName: 'ledger_entry' })
export class LedgerEntry {
  @PrimaryKey({ type: 'string' })
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  transferId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  accountId!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => TransferKind)
  @Property({ type: 'string' })
  kind!: TransferKind;

  @Field(() => EntrySide)
  @Property({ type: 'string' })
  side!: EntrySide;

  @Field(() => BigIntScalar, { description: 'Change to the posted balance (negative: money out).' })
  @Property({ type: new BigIntType('bigint') })
  postedDelta!: bigint;

  @Field(() => BigIntScalar, { description: 'Change to pending credits less pending debits.' })
  @Property({ type: new BigIntType('bigint') })
  pendingDelta!: bigint;

  @Field(() => BigIntScalar, { description: 'Posted balance right after this entry.' })
  @Property({ type: new BigIntType('bigint') })
  postedAfter!: bigint;

  @Field(() => BigIntScalar, { description: 'Available balance right after this entry.' })
  @Property({ type: new BigIntType('bigint') })
  availableAfter!: bigint;

  @Field()
  @Property({ type: 'Date' })
  createdAt!: Date;
}
