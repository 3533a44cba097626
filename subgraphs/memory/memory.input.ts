import { GraphQLJSON } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { badInput } from '../../lib';
import { MemoryTier } from './memory.entity';

export const MEMORY_LIMITS = {
  content: 32_000,
  metadataBytes: 8_192,
  /** A query longer than this is not a memory search (a pasted document); refused, not cut. */
  query: 1_000,
  searchResults: 100,
  recallResults: 10,
  /** A session's working memory: its most recent messages, older ones dropped as new ones come. */
  workingPerSession: 20,
  categories: 200,
  source: 50,
} as const;

@InputType()
export class StoreMemoryInput {
  @Field(() => ID, { nullable: true, description: 'The agent that remembers (one you can see).' })
  agentId?: string | null;

  @Field(() => ID, { nullable: true, description: 'The chat session it belongs to, if any.' })
  sessionId?: string | null;

  @Field()
  content!: string;

  @Field(() => MemoryTier, { defaultValue: MemoryTier.SEMANTIC })
  tier: MemoryTier = MemoryTier.SEMANTIC;

  @Field({ defaultValue: 'general' })
  category: string = 'general';

  @Field(() => Float, { defaultValue: 0.5 })
  importance: number = 0.5;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object, up to 8 KB.' })
  metadata?: unknown;

  @Field(() => String, { nullable: true, description: 'Who writes it (default "api").' })
  source?: string | null;
}

@InputType({ description: 'Narrows a list or search; every field left out matches all.' })
export class MemoryFilter {
  @Field(() => MemoryTier, { nullable: true })
  tier?: MemoryTier | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => ID, { nullable: true })
  agentId?: string | null;

  @Field(() => ID, { nullable: true })
  sessionId?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'Entries whose metadata contains this JSON object (jsonb @>).',
  })
  metadata?: unknown;

  @Field(() => Date, { nullable: true, description: 'Stored at or after.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Stored before.' })
  until?: Date | null;
}

@ArgsType()
export class SearchMemoryArgs {
  @Field({
    description: `Words, "a phrase", -excluded (web search syntax); 1 to ${MEMORY_LIMITS.query} characters.`,
  })
  query!: string;

  @Field(() => Int, { defaultValue: 10, description: `1 to ${MEMORY_LIMITS.searchResults}.` })
  limit: number = 10;

  @Field(() => Int, { defaultValue: 0 })
  offset: number = 0;

  @Field(() => MemoryFilter, { nullable: true })
  filter?: MemoryFilter | null;
}

const CATEGORY = /^[\w.-]{1,50}$/;

export function categoryOf(value: string, field = 'category'): string {
  const category = value.trim();
  if (!CATEGORY.test(category)) throw badInput(`${field} must be 1 to 50 word characters`, { field });
  return category;
}

function metadataOf(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw badInput(`${field} must be a JSON object`, { field });
  if (Buffer.byteLength(JSON.stringify(value)) > MEMORY_LIMITS.metadataBytes)
    throw badInput(`${field} must be at most ${MEMORY_LIMITS.metadataBytes} bytes of JSON`, { field });
  return value as Record<string, unknown>;
}

export function contentOf(value: string): string {
  const content = value.trim();
  if (content.length < 1 || content.length > MEMORY_LIMITS.content)
    throw badInput(`content must be 1 to ${MEMORY_LIMITS.content} characters`, { field: 'content' });
  return content;
}

export function validateStoreMemory(input: StoreMemoryInput) {
  if (!(input.importance >= 0 && input.importance <= 1))
    throw badInput('importance must be between 0 and 1', { field: 'importance' });
  const source = (input.source ?? 'api').trim();
  if (source.length < 1 || source.length > MEMORY_LIMITS.source)
    throw badInput(`source must be 1 to ${MEMORY_LIMITS.source} characters`, { field: 'source' });
  return {
    agentId: input.agentId ?? null,
    sessionId: input.sessionId ?? null,
    tier: input.tier,
    content: contentOf(input.content),
    category: categoryOf(input.category),
    importance: input.importance,
    metadata: metadataOf(input.metadata, 'metadata'),
    source,
  };
}

/** A filter checked once, ready for SQL. */
export interface CheckedFilter {
  tier?: MemoryTier;
  category?: string;
  agentId?: string;
  sessionId?: string;
  metadata?: Record<string, unknown>;
  since?: Date;
  until?: Date;
}

export function checkFilter(filter: MemoryFilter | null | undefined): CheckedFilter {
  if (!filter) return {};
  const metadata = metadataOf(filter.metadata, 'filter.metadata');
  return {
    ...(filter.tier && { tier: filter.tier }),
    ...(filter.category != null && { category: categoryOf(filter.category, 'filter.category') }),
    ...(filter.agentId != null && { agentId: filter.agentId }),
    ...(filter.sessionId != null && { sessionId: filter.sessionId }),
    ...(Object.keys(metadata).length > 0 && { metadata }),
    ...(filter.since && { since: filter.since }),
    ...(filter.until && { until: filter.until }),
  };
}

/** The words searched for: trimmed, bounded; empty is refused (there is nothing to rank by). */
export function queryOf(value: string, field = 'query'): string {
  const query = value.trim();
  if (query.length < 1) throw badInput(`${field} must not be empty`, { field });
  if (query.length > MEMORY_LIMITS.query)
    throw badInput(`${field} must be at most ${MEMORY_LIMITS.query} characters`, { field });
  return query;
}

export function boundedInt(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw badInput(`${field} must be ${min} to ${max}`, { field });
  return value;
}
