import { BigIntType, Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

/**
 * One balance of one asset. Balances only ever change through double-entry transactions
 * (a later slice); opening an account starts it at zero.
 */
@ObjectType({ description: "An account's balance in one asset." })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'ledger_account' })
@Unique({ properties: ['ownerId', 'asset'] })
export class LedgerAccount {
  [OptionalProps]?: 'id' | 'balanceMinor' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('lac');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => BigIntScalar, { description: 'Balance in minor units of `asset`.' })
  @Property({ type: new BigIntType('bigint') })
  balanceMinor: bigint = 0n;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
