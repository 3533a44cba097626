import { BigIntType, Entity, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../../lib';

export enum LedgerAccountKind {
  USER = 'USER',
  SYSTEM = 'SYSTEM',
}
registerEnumType(LedgerAccountKind, {
  name: 'LedgerAccountKind',
  description:
    "USER accounts never spend more than they hold; SYSTEM accounts are the platform's (see SystemAccountRole for which may go negative).",
});

/** TigerBeetle's account flags, as stored in `flags`. */
export const DEBITS_MUST_NOT_EXCEED_CREDITS = 1;
export const CREDITS_MUST_NOT_EXCEED_DEBITS = 2;

/**
 * One owner's balance in one asset, as TigerBeetle keeps it: posted and pending debit and credit
 * totals, only ever changed by transfers (see ledger.engine.ts). A user's balance is credit-normal.
 */
@ObjectType({ description: "An account's balance in one asset." })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'ledger_account' })
@Unique({ properties: ['ownerId', 'asset'] })
export class LedgerAccount {
  [OptionalProps]?:
    | 'id'
    | 'kind'
    | 'flags'
    | 'debitsPosted'
    | 'creditsPosted'
    | 'debitsPending'
    | 'creditsPending'
    | 'createdAt'
    | 'balanceMinor'
    | 'postedMinor';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('lac');

  /** An account id, or `system:<ROLE>` for the platform's own accounts. */
  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => LedgerAccountKind)
  @Property({ type: 'string' })
  kind: LedgerAccountKind = LedgerAccountKind.USER;

  @Property({ type: 'integer' })
  flags: number = DEBITS_MUST_NOT_EXCEED_CREDITS;

  @Field(() => BigIntScalar, { description: 'Debits posted, in minor units.' })
  @Property({ type: new BigIntType('bigint') })
  debitsPosted: bigint = 0n;

  @Field(() => BigIntScalar, { description: 'Credits posted, in minor units.' })
  @Property({ type: new BigIntType('bigint') })
  creditsPosted: bigint = 0n;

  @Field(() => BigIntScalar, { description: 'Debits held by pending transfers, in minor units.' })
  @Property({ type: new BigIntType('bigint') })
  debitsPending: bigint = 0n;

  @Field(() => BigIntScalar, { description: 'Credits on their way in by pending transfers, in minor units.' })
  @Property({ type: new BigIntType('bigint') })
  creditsPending: bigint = 0n;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => BigIntScalar, {
    description:
      'What can be spent now: posted credits less posted and held debits, in minor units of `asset`.',
  })
  get balanceMinor(): bigint {
    return this.creditsPosted - this.debitsPosted - this.debitsPending;
  }

  @Field(() => BigIntScalar, { description: 'Posted credits less posted debits, in minor units.' })
  get postedMinor(): bigint {
    return this.creditsPosted - this.debitsPosted;
  }
}

export const ownerOfAccount = (account: LedgerAccount) => account.ownerId;
