import { ArrayType, Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../../../lib';

/**
 * A sub-agent definition (002's runtime views): a named helper its owner runs under one of their
 * listed agents or on its own, with the model it uses and the models it falls back to.
 */
@ObjectType({ description: "A sub-agent definition: a named helper and the model it uses (002's roster)." })
@Entity({ tableName: 'subagent' })
export class SubAgent {
  [OptionalProps]?:
    'id' | 'agentId' | 'description' | 'fallbackModels' | 'skills' | 'enabled' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('sub');

  @Property({ type: 'string' })
  ownerId!: string;

  @Field(() => ID, { nullable: true, description: 'The listed agent it works under, if any (yours).' })
  @Property({ type: 'string', nullable: true })
  agentId: string | null = null;

  @Field({ description: 'Unique among your sub-agents: lower-case letters, digits, - and _.' })
  @Property({ type: 'string' })
  name!: string;

  @Field()
  @Property({ type: 'string' })
  displayName!: string;

  @Field()
  @Property({ type: 'text' })
  description: string = '';

  @Field({ description: 'The model chat uses for it.' })
  @Property({ type: 'string' })
  model!: string;

  @Field(() => [String], { description: 'Models tried in order when `model` is unavailable.' })
  @Property({ type: ArrayType })
  fallbackModels: string[] = [];

  @Field(() => [String], { description: 'Skill ids it may use.' })
  @Property({ type: ArrayType })
  skills: string[] = [];

  @Field({ description: 'Whether it takes work.' })
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();

  @Field()
  @Property({ type: 'Date' })
  updatedAt: Date = new Date();
}
