import { BigIntType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, newId } from '../../lib';

export enum SessionStatus {
  ACTIVE = 'ACTIVE',
  CLOSED = 'CLOSED',
}
registerEnumType(SessionStatus, { name: 'SessionStatus' });

/** A chat between an account and a model, optionally through a marketplace agent. */
@ObjectType({ description: 'A chat session.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'session' })
export class Session {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'messageCount'
    | 'startedAt'
    | 'endedAt'
    | 'agentId'
    | 'inputTokens'
    | 'outputTokens'
    | 'costMicroUsd'
    | 'deletedAt'
    | 'clientKey';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('ses');

  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'string', nullable: true })
  agentId: string | null = null;

  @Field()
  @Property({ type: 'string' })
  title!: string;

  @Field()
  @Property({ type: 'string' })
  model!: string;

  @Field(() => SessionStatus)
  @Property({ type: 'string' })
  status: SessionStatus = SessionStatus.ACTIVE;

  @Field(() => Int)
  @Property({ type: 'integer' })
  messageCount: number = 0;

  @Field()
  @Property({ type: 'Date' })
  startedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'Date', nullable: true })
  endedAt: Date | null = null;

  @Field(() => Int, { description: 'Prompt tokens of every turn so far.' })
  @Property({ type: 'integer' })
  inputTokens: number = 0;

  @Field(() => Int, { description: 'Generated tokens of every turn so far.' })
  @Property({ type: 'integer' })
  outputTokens: number = 0;

  @Field(() => BigIntScalar, { description: 'Metered price of every turn so far, in micro-USD.' })
  @Property({ type: new BigIntType('bigint') })
  costMicroUsd: bigint = 0n;

  /** The client's own name for the conversation (X-Hermes-Session-Id); unique per owner. */
  @Property({ type: 'string', nullable: true })
  clientKey: string | null = null;

  /** Deleted sessions are kept for their metered usage but read as not found. */
  @Property({ type: 'Date', nullable: true })
  deletedAt: Date | null = null;
}
