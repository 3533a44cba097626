import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
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
  [OptionalProps]?:
    | 'id'
    | 'tier'
    | 'category'
    | 'importance'
    | 'createdAt'
    | 'agentId'
    | 'sessionId'
    | 'metadata'
    | 'source'
    | 'idempotencyKey'
    | 'lastRecalledAt'
    | 'recallCount';

  @Field(() => ID)
  @PrimaryKey({ type: 'string' })
  id: string = newId('mem');

  @Property({ type: 'string' })
  ownerId!: string;

  @Property({ type: 'string', nullable: true })
  agentId: string | null = null;

  @Field(() => ID, { nullable: true, description: 'The chat session it came from or belongs to.' })
  @Property({ type: 'string', nullable: true })
  sessionId: string | null = null;

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

  @Field(() => GraphQLJSON, { description: 'Free JSON object stored with it (up to 8 KB).' })
  @Property({ type: 'json' })
  metadata: Record<string, unknown> = {};

  @Field({ description: 'Who wrote it: "api", "chat" (a finished chat turn) or a client name.' })
  @Property({ type: 'string' })
  source: string = 'api';

  @Property({ type: 'string', nullable: true })
  idempotencyKey: string | null = null;

  @Field(() => Date, { nullable: true, description: 'When a recall last returned it.' })
  @Property({ type: 'Date', nullable: true })
  lastRecalledAt: Date | null = null;

  @Field(() => Int, { description: 'How many recalls returned it.' })
  @Property({ type: 'integer' })
  recallCount: number = 0;

  @Field()
  @Property({ type: 'Date' })
  createdAt: Date = new Date();
}

export enum MemoryEventKind {
  STORED = 'STORED',
  DELETED = 'DELETED',
}
registerEnumType(MemoryEventKind, { name: 'MemoryEventKind' });

@ObjectType({ description: 'One of your memory entries was stored or deleted.' })
export class MemoryEvent {
  @Field(() => MemoryEventKind)
  kind!: MemoryEventKind;

  @Field(() => MemoryEntry)
  entry!: MemoryEntry;

  @Field()
  at!: Date;
}

@ObjectType({ description: 'A search result: the entry, how well it matched, and where.' })
export class MemoryHit {
  @Field(() => MemoryEntry)
  entry!: MemoryEntry;

  @Field(() => Float, {
    description: 'Relevance (text rank and word similarity) weighted by importance and recency.',
  })
  score!: number;

  @Field({ description: 'The best passage, matched words between « and ».' })
  snippet!: string;
}

@ObjectType()
export class MemorySearchResult {
  @Field(() => [MemoryHit])
  hits!: MemoryHit[];

  @Field(() => Int, {
    description:
      'How many of your entries match (all pages): counted when the search read all your entries ' +
      "(fewer than 500 of them), otherwise the database planner's estimate (see totalExact).",
  })
  total!: number;

  @Field({ description: 'Whether total is an exact count (true) or an estimate (false).' })
  totalExact!: boolean;

  @Field({ description: 'The query as searched (trimmed).' })
  query!: string;
}

@ObjectType()
export class MemoryCount {
  @Field()
  key!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ description: 'An index the search relies on, as PostgreSQL reports it.' })
export class MemoryIndexHealth {
  @Field()
  name!: string;

  @Field({ description: 'Present, valid and ready (pg_index).' })
  healthy!: boolean;
}

@ObjectType({ description: 'Figures of your memory, and the health of its search.' })
export class MemoryStats {
  @Field(() => Int)
  total!: number;

  @Field(() => [MemoryCount])
  byTier!: MemoryCount[];

  @Field(() => [MemoryCount])
  byCategory!: MemoryCount[];

  @Field(() => Float, { description: 'UTF-8 bytes of content and metadata.' })
  sizeBytes!: number;

  @Field(() => Date, { nullable: true })
  oldest!: Date | null;

  @Field(() => Date, { nullable: true })
  newest!: Date | null;

  @Field(() => Int, { description: 'Entries recalled at least once.' })
  recalled!: number;

  @Field(() => [MemoryIndexHealth])
  indexes!: MemoryIndexHealth[];

  @Field({ description: 'Every search index healthy.' })
  healthy!: boolean;
}
