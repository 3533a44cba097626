import {
  ArrayType,
  BigIntType,
  Entity,
  JsonType,
  OptionalProps,
  PrimaryKey,
  Property,
} from '@mikro-orm/core';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

export enum AgentStatus {
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
  DELETED = 'DELETED',
}
registerEnumType(AgentStatus, {
  name: 'AgentStatus',
  description:
    'ACTIVE takes new tasks; PAUSED takes none (its tasks under way continue); DELETED is gone from ' +
    'lists and by-id reads and takes no work (a task or order pointing at it still shows it).',
});

/** The figures the platform derives from its own events; nobody writes them through the API. */
type Derived =
  | 'ratingSum'
  | 'ratingCount'
  | 'rating'
  | 'tasksCompleted'
  | 'tasksFailed'
  | 'successRate'
  | 'totalRequests'
  | 'totalRevenueMinor';

/** A marketplace listing: an agent others can hire, priced per call in minor units. */
@ObjectType({ description: 'An agent listed in the marketplace.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'agent' })
export class Agent {
  [OptionalProps]?:
    | 'id'
    | 'description'
    | 'category'
    | 'tags'
    | 'endpointUrl'
    | 'wallet'
    | 'priceMinor'
    | 'asset'
    | 'authTier'
    | 'manifest'
    | 'maxConcurrent'
    | 'status'
    | 'deletedAt'
    | 'createdWithKeyId'
    | 'createdAt'
    | 'updatedAt'
    | Derived;

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

  @Field(() => String, { nullable: true, description: 'A marketplace category, e.g. "Productivity".' })
  @Property({ type: 'text', nullable: true })
  category: string | null = null;

  @Field(() => [String], { description: 'Capability tags, lower case.' })
  @Property({ type: ArrayType })
  tags: string[] = [];

  @Field(() => String, { nullable: true, description: 'Where the agent takes requests (http or https).' })
  @Property({ type: 'text', nullable: true })
  endpointUrl: string | null = null;

  @Field(() => String, { nullable: true, description: 'The payout wallet address (Solana or EVM).' })
  @Property({ type: 'text', nullable: true })
  wallet: string | null = null;

  @Property({ type: 'string' })
  ownerId!: string;

  /** The API key the agent was listed with: hermesx402's `/agents/me` is the agent of the calling key. */
  @Property({ type: 'string', nullable: true })
  createdWithKeyId: string | null = null;

  @Field(() => BigIntScalar, { description: 'Price of one call, in minor units of `asset`.' })
  @Property({ type: new BigIntType('bigint') })
  priceMinor: bigint = 0n;

  @Field()
  @Property({ type: 'string' })
  asset: string = 'USD';

  @Field({ description: 'How callers authenticate to the agent (AUTX auth_tier), e.g. "jwt_default".' })
  @Property({ type: 'string' })
  authTier: string = 'jwt_default';

  @Field(() => GraphQLJSON, { nullable: true, description: "The agent's manifest (JSON, up to 16 KB)." })
  @Property({ type: JsonType, nullable: true })
  manifest: unknown = null;

  @Field(() => Int, { nullable: true, description: 'Most tasks it works on at once; null: no limit given.' })
  @Property({ type: 'integer', nullable: true })
  maxConcurrent: number | null = null;

  @Field(() => AgentStatus)
  @Property({ type: 'string' })
  status: AgentStatus = AgentStatus.ACTIVE;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date' })
  updatedAt: Date = new Date();

  @Field(() => Date, { nullable: true, description: 'When its owner (or an admin) deleted it.' })
  @Property({ type: 'Date', nullable: true })
  deletedAt: Date | null = null;

  // Derived figures, kept current by recordAgentTaskOutcome (see agent.stats.ts) and orders
  // (orders/order.service.ts).

  @Property({ type: new BigIntType('bigint') })
  ratingSum: bigint = 0n;

  @Field(() => Int, { description: 'How many confirmed tasks were rated.' })
  @Property({ type: 'integer' })
  ratingCount: number = 0;

  /** numeric(3,2) as PostgreSQL returns it (a string); generated from ratingSum / ratingCount. */
  @Property({ type: 'decimal', nullable: true, generated: 'stored' })
  rating: string | null = null;

  @Field(() => Int, { description: 'Tasks it delivered that were confirmed (or resolved in its favour).' })
  @Property({ type: 'integer' })
  tasksCompleted: number = 0;

  @Field(() => Int, { description: 'Tasks it took and failed, or lost in a dispute.' })
  @Property({ type: 'integer' })
  tasksFailed: number = 0;

  /** numeric(5,2) percent, generated from tasksCompleted and tasksFailed. */
  @Property({ type: 'decimal', nullable: true, generated: 'stored' })
  successRate: string | null = null;

  @Field(() => BigIntScalar, {
    description: 'Tasks assigned to it and orders it completed (free proxy calls are not counted).',
  })
  @Property({ type: new BigIntType('bigint') })
  totalRequests: bigint = 0n;

  @Field(() => BigIntScalar, {
    description:
      'What its paid orders earned (their prices before the platform fee), in minor units of `asset`.',
  })
  @Property({ type: new BigIntType('bigint') })
  totalRevenueMinor: bigint = 0n;
}
