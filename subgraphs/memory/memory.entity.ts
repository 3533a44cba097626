import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Directive, Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../lib';

/** Working memory is the current context, episodic what happened, semantic what is known. */
export enum MemoryTier {
  WORKING = 'WORKING',
  EPISODIC = 'EPISODIC',
  SEMANTIC = 'SEMANTIC',
}
registerEnumType(MemoryTier, { name: 'MemoryTier' });

@ObjectType({ description: 'One thing an agent remembers.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'memory_entry' })
export class MemoryEntry {
  [OptionalProps]?: 'id' | 'tier' | 'category' | 'importance' | 'createdAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('mem');

  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'string' })
  agentId!: string;

  @Field(() => MemoryTier)
  @Property({ type: 'string' })
  tier: MemoryTier = MemoryTier.EPISODIC;

  @Field()
  @Property({ type: 'string' })
  category: string = 'general';

  @Field()
  @Property({ type: 'text' })
  content!: string;

  @Field(() => Float, { description: 'From 0 (trivia) to 1 (essential).' })
  @Property({ type: 'double' })
  importance: number = 0.5;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}
