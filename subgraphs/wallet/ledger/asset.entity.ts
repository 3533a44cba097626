import { Entity, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';

/** A currency the ledger keeps: amounts of it are integers of 10^-decimals units. */
@ObjectType({ description: 'An asset the wallet holds, and how many decimals its minor unit has.' })
@Entity({ tableName: 'asset' })
export class Asset {
  @Field({ description: 'USD (credits, in micro-dollars), USDC, SOL (lamports), …' })
  @PrimaryKey({ type: 'string' })
  code!: string;

  @Field(() => Int, { description: 'One unit of the asset is 10^decimals minor units.' })
  @Property({ type: 'smallint' })
  decimals!: number;

  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  /** Every entity of a subgraph answers to `id`; an asset's is its code. */
  get id(): string {
    return this.code;
  }
}
