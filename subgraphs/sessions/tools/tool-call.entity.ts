import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../../lib';

export enum ToolCallStatus {
  /** The tool answered; `success` says whether it reported the call a success. */
  SUCCESS = 'SUCCESS',
  /** The tool answered that the call failed (an MCP result with isError). */
  FAILED = 'FAILED',
  /** It did not answer usably: arguments refused, time limit, result too large, server gone. */
  ERROR = 'ERROR',
}
registerEnumType(ToolCallStatus, { name: 'ToolCallStatus' });

@ObjectType({ description: 'One call of a plugin tool: by the model in a chat turn, or called directly.' })
@Entity({ tableName: 'tool_call' })
export class ToolCall {
  [OptionalProps]?: 'id' | 'turnId' | 'output' | 'metadata' | 'error' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('tc');

  @Field(() => ID, {
    nullable: true,
    description: 'The chat turn whose model asked for it; null when called directly.',
  })
  @Property({ type: 'string', nullable: true })
  turnId: string | null = null;

  @Property({ type: 'string' })
  ownerId!: string;

  @Field()
  @Property({ type: 'string' })
  plugin!: string;

  @Field()
  @Property({ type: 'string' })
  tool!: string;

  @Field(() => GraphQLJSON, { description: 'The arguments as sent (a JSON object).' })
  @Property({ type: 'json' })
  arguments!: unknown;

  @Field(() => String, { nullable: true, description: "The tool's text answer." })
  @Property({ type: 'text', nullable: true })
  output: string | null = null;

  @Field(() => GraphQLJSON, { nullable: true, description: "The tool's structured answer, if any." })
  @Property({ type: 'json', nullable: true })
  metadata: unknown = null;

  @Field(() => ToolCallStatus)
  @Property({ type: 'string' })
  status!: ToolCallStatus;

  @Field(() => String, { nullable: true, description: 'Why it did not answer usably.' })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Field(() => Int)
  @Property({ type: 'integer' })
  durationMs!: number;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
