import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

export enum MessageRole {
  USER = 'USER',
  ASSISTANT = 'ASSISTANT',
  SYSTEM = 'SYSTEM',
}
registerEnumType(MessageRole, { name: 'MessageRole' });

export enum TurnStatus {
  RUNNING = 'RUNNING',
  COMPLETE = 'COMPLETE',
  /** The answer stopped part-way (upstream failure, time-out or cancel); what came is kept. */
  INTERRUPTED = 'INTERRUPTED',
  /** No answer at all. */
  FAILED = 'FAILED',
}
registerEnumType(TurnStatus, { name: 'TurnStatus' });

/** Where a turn's payment stands in the wallet (README "Billing"). */
export enum TurnSettlement {
  /** Billing is off: metered and recorded, never charged. */
  UNBILLED = 'UNBILLED',
  /** Its most possible price is held; the post or void is still to be sent. */
  HELD = 'HELD',
  /** Its price was posted from the hold (the rest went back). */
  POSTED = 'POSTED',
  /** It failed or was cancelled: the whole hold went back. */
  VOIDED = 'VOIDED',
  /** The hold ended without this turn resolving it (expired in the wallet); nothing was charged. */
  LAPSED = 'LAPSED',
}
registerEnumType(TurnSettlement, { name: 'TurnSettlement' });

@ObjectType({ description: 'One message of a chat session.' })
@Entity({ tableName: 'message' })
export class Message {
  [OptionalProps]?: 'id' | 'tokens' | 'complete' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('msg');

  @Field(() => ID)
  @Property({ type: 'string' })
  sessionId!: string;

  @Field(() => MessageRole)
  @Property({ type: 'string' })
  role!: MessageRole;

  @Field()
  @Property({ type: 'text' })
  content!: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  tokens: number = 0;

  @Field({ description: 'False for an answer that was interrupted before it ended.' })
  @Property({ type: 'boolean' })
  complete: boolean = true;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

@ObjectType({ description: 'A message as it was sent upstream.' })
export class ContextMessage {
  @Field(() => MessageRole)
  role!: MessageRole;

  @Field()
  content!: string;
}

@ObjectType({ description: 'Sampling parameters of one answer; unset ones were left to the upstream.' })
export class TurnParameters {
  @Field(() => Float, { nullable: true })
  temperature?: number;

  @Field(() => Int, { nullable: true })
  maxTokens?: number;
}

/** One user message and its answer. */
@ObjectType({ description: 'One user message and the answer to it.' })
@Entity({ tableName: 'turn' })
export class Turn {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'parameters'
    | 'idempotencyKey'
    | 'assistantMessageId'
    | 'promptTokens'
    | 'completionTokens'
    | 'costMicroUsd'
    | 'latencyMs'
    | 'firstTokenLatencyMs'
    | 'errorCode'
    | 'errorMessage'
    | 'createdAt'
    | 'finishedAt'
    | 'settlement'
    | 'holdId'
    | 'heldMicroUsd'
    | 'chargedMicroUsd'
    | 'callFeeMicroUsd'
    | 'settledAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('turn');

  @Field(() => ID)
  @Property({ type: 'string' })
  sessionId!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'string' })
  userMessageId!: string;

  @Property({ type: 'string', nullable: true })
  assistantMessageId: string | null = null;

  @Field({ description: 'The upstream LLM provider that answered.' })
  @Property({ type: 'string' })
  provider!: string;

  @Field()
  @Property({ type: 'string' })
  model!: string;

  @Field({ description: 'Why this model was chosen, e.g. "session default".' })
  @Property({ type: 'string' })
  modelReason!: string;

  @Field(() => TurnStatus)
  @Property({ type: 'string' })
  status: TurnStatus = TurnStatus.RUNNING;

  @Field(() => [ContextMessage], { description: 'The messages sent upstream for this answer.' })
  @Property({ type: 'json' })
  context!: ContextMessage[];

  @Field(() => String, {
    nullable: true,
    description: 'The key it was sent with, if any (ChatInput.idempotencyKey).',
  })
  @Property({ type: 'string', nullable: true })
  idempotencyKey: string | null = null;

  @Field(() => TurnParameters, { description: 'The sampling parameters sent upstream with it.' })
  @Property({ type: 'json' })
  parameters: TurnParameters = {};

  @Field(() => Int)
  @Property({ type: 'integer' })
  promptTokens: number = 0;

  @Field(() => Int)
  @Property({ type: 'integer' })
  completionTokens: number = 0;

  @Field(() => BigIntScalar, { description: 'Metered price in micro-USD.' })
  @Property({ type: new BigIntType('bigint') })
  costMicroUsd: bigint = 0n;

  @Field(() => Int, { nullable: true, description: 'From sending upstream to the last token.' })
  @Property({ type: 'integer', nullable: true })
  latencyMs: number | null = null;

  @Field(() => Int, { nullable: true, description: 'From sending upstream to the first token.' })
  @Property({ type: 'integer', nullable: true })
  firstTokenLatencyMs: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'string', nullable: true })
  errorCode: string | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  errorMessage: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  finishedAt: Date | null = null;

  @Field(() => TurnSettlement, { description: 'Where its payment from your credits stands.' })
  @Property({ type: 'string' })
  settlement: TurnSettlement = TurnSettlement.UNBILLED;

  @Field(() => ID, { nullable: true, description: 'The wallet hold (a PENDING transfer) that pays it.' })
  @Property({ type: 'string', nullable: true })
  holdId: string | null = null;

  @Field(() => BigIntScalar, { nullable: true, description: 'Micro-USD held before it went upstream.' })
  @Property({ type: new BigIntType('bigint'), nullable: true })
  heldMicroUsd: bigint | null = null;

  @Field(() => BigIntScalar, {
    nullable: true,
    description: 'Micro-USD charged from the hold once it ended: its price when complete, else 0.',
  })
  @Property({ type: new BigIntType('bigint'), nullable: true })
  chargedMicroUsd: bigint | null = null;

  @Field(() => BigIntScalar, { description: 'The flat per-call part of costMicroUsd.' })
  @Property({ type: new BigIntType('bigint') })
  callFeeMicroUsd: bigint = 0n;

  @Field(() => Date, { nullable: true, description: 'When the hold was posted or voided.' })
  @Property({ type: 'Date', nullable: true })
  settledAt: Date | null = null;
}

@ObjectType({ description: 'A grade (1 to 5) of one answer.' })
@Entity({ tableName: 'feedback' })
export class Feedback {
  [OptionalProps]?: 'id' | 'comment' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('fb');

  @Field(() => ID)
  @Property({ type: 'string' })
  turnId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  sessionId!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  grade!: number;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  comment: string | null = null;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

/** What one finished turn costs, ready for the wallet to charge once (idempotency key: the turn id). */
@ObjectType({ description: 'The metered usage of one turn, charged later by the wallet.' })
@Entity({ tableName: 'usage_record' })
export class UsageRecord {
  [OptionalProps]?: 'id' | 'createdAt' | 'chargedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('use');

  @Field({ description: 'The turn id: charging twice with it is a no-op.' })
  @Property({ type: 'string' })
  idempotencyKey!: string;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  sessionId!: string;

  @Field(() => ID)
  @Property({ type: 'string' })
  turnId!: string;

  @Field()
  @Property({ type: 'string' })
  provider!: string;

  @Field()
  @Property({ type: 'string' })
  model!: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  promptTokens!: number;

  @Field(() => Int)
  @Property({ type: 'integer' })
  completionTokens!: number;

  @Field({ description: 'True when the upstream sent no usage and the tokens were counted approximately.' })
  @Property({ type: 'boolean' })
  estimated!: boolean;

  @Field(() => BigIntScalar, { description: 'Price in micro-USD (1 USD = 1,000,000).' })
  @Property({ type: new BigIntType('bigint') })
  priceMicroUsd!: bigint;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  chargedAt: Date | null = null;
}
