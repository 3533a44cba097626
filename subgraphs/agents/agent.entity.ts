import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

export enum AgentStatus {
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
}
registerEnumType(AgentStatus, { name: 'AgentStatus' });

/** A marketplace listing: an agent others can hire, priced per call in minor units. */
@ObjectType({ description: 'An agent listed in the marketplace.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'agent' })
export class Agent {
  [OptionalProps]?: 'id' | 'description' | 'priceMinor' | 'asset' | 'status' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('agt');

  @Field()
  @Property({ type: 'string' })
  name!: string;

  @Field({ description: 'Unique upper-case symbol, 2 to 10 letters or digits.' })
  @Property({ type: 'string', unique: true })
  ticker!: string;

  @Field()
  @Property({ type: 'text' })
  description: string = '';

  @Property({ type: 'string' })
  ownerId!: string;

  @Field(() => BigIntScalar, { description: 'Price of one call, in minor units of `asset`.' })
  @Property({ type: new BigIntType('bigint') })
  priceMinor: bigint = 0n;

  @Field()
  @Property({ type: 'string' })
  asset: string = 'USD';

  @Field(() => AgentStatus)
  @Property({ type: 'string' })
  status: AgentStatus = AgentStatus.ACTIVE;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
