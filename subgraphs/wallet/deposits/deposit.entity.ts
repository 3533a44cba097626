import { BigIntType, Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar } from '../../../lib';

export enum DepositSource {
  ONCHAIN = 'ONCHAIN',
  TEST = 'TEST',
  SOLANA = 'SOLANA',
  X402 = 'X402',
}
registerEnumType(DepositSource, {
  name: 'DepositSource',
  description:
    'ONCHAIN: a verified USDC transfer to the credit vault; TEST: development credits; ' +
    "SOLANA: SOL sent to the platform's escrow address (hermesx402's paid hire); " +
    'X402: an x402 v2 payment a facilitator settled (a paid hire of a USDC agent).',
});

/** Money brought into an account, with the ledger transfer that credited it. Written once. */
@ObjectType({ description: 'Credits brought into your account.' })
@Entity({ tableName: 'deposit' })
export class Deposit {
  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field(() => DepositSource)
  @Property({ type: 'string' })
  source!: DepositSource;

  @Field()
  @Property({ type: 'string' })
  asset!: string;

  @Field(() => BigIntScalar, { description: 'Minor units of `asset` credited.' })
  @Property({ type: new BigIntType('bigint'), fieldName: 'amount' })
  amountMinor!: bigint;

  @Field(() => String, { nullable: true, description: 'The chain transaction (ONCHAIN), lower case.' })
  @Property({ type: 'string', nullable: true })
  txHash!: string | null;

  @Field(() => String, { nullable: true, description: 'The address that sent the USDC (ONCHAIN).' })
  @Property({ type: 'string', nullable: true })
  fromAddress!: string | null;

  @Property({ type: new BigIntType('bigint'), nullable: true })
  blockNumber!: bigint | null;

  @Field(() => ID, { description: 'The ledger transfer that credited it.' })
  @Property({ type: 'string' })
  transferId!: string;

  @Field()
  @Property({ type: 'Date' })
  createdAt!: Date;
}
