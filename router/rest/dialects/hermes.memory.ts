/**
 * Memory: 001's store, list, search, recall, delete and stats, rows of the hermes dialect (002's
 * tier views and search are runtime.memory.ts). An entry is shown in one snake_case shape everywhere; a search hit
 * adds its `score` and a `snippet` with the matched words between « and ». 002's rows answer
 * errors as `{"error": …}` (400).
 */
import {
  MemoryDeleteDocument,
  MemoryListDocument,
  MemoryRecallDocument,
  MemorySearchDocument,
  MemoryStatsDocument,
  MemoryStoreDocument,
  type MemoryFieldsFragment,
  type MemorySearchFieldsFragment,
  type MemoryStatsQuery,
} from '../generated/graphql';
import { fromBody, fromPath, fromQuery, integer, lower, oneOf, required, withDefault } from '../mapping';
import { InputError, route, type Converter } from '../types';

export const memoryEntry = (m: MemoryFieldsFragment) => ({
  id: m.id,
  content: m.content,
  category: m.category,
  importance: m.importance,
  tier: lower(m.tier),
  agent_id: m.agent?.id ?? null,
  session_id: m.sessionId ?? null,
  metadata: m.metadata,
  source: m.source,
  created_at: m.createdAt,
  last_recalled_at: m.lastRecalledAt ?? null,
  recall_count: m.recallCount,
});

export const TIERS = { working: 'WORKING', episodic: 'EPISODIC', semantic: 'SEMANTIC' };
export const tier = oneOf(TIERS);

export const hits = (r: MemorySearchFieldsFragment) =>
  r.hits.map((hit) => ({ ...memoryEntry(hit.entry), score: hit.score, snippet: hit.snippet }));

/** 001's search answer. */
const searchResult = (r: MemorySearchFieldsFragment) => ({
  results: hits(r),
  total: r.total,
  query: r.query,
});

/** 001's `filters` object (snake_case) as the GraphQL MemoryFilter. */
const FILTER_FIELDS: Record<string, string> = {
  tier: 'tier',
  category: 'category',
  agent_id: 'agentId',
  session_id: 'sessionId',
  metadata: 'metadata',
  since: 'since',
  until: 'until',
};
const memoryFilters: Converter = {
  schema: {
    type: 'object',
    properties: {
      tier: { type: 'string', enum: Object.keys(TIERS) },
      category: { type: 'string' },
      agent_id: { type: 'string' },
      session_id: { type: 'string' },
      metadata: { type: 'object', description: 'entries whose metadata contains this object' },
      since: { type: 'string', format: 'date-time' },
      until: { type: 'string', format: 'date-time' },
    },
  },
  convert: (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new InputError('must be an object');
    const filter: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (!Object.hasOwn(FILTER_FIELDS, key))
        throw new InputError(`has an unknown key ${JSON.stringify(key).slice(0, 60)}`);
      if (item === null || item === undefined) continue;
      if (key === 'tier') filter.tier = tier.convert(item);
      else if (key !== 'metadata' && typeof item !== 'string')
        throw new InputError(`${key} must be a string`);
      else filter[FILTER_FIELDS[key]] = item;
    }
    return filter;
  },
};

const statsOf = ({ memoryStats: s }: MemoryStatsQuery) => ({
  status: s.healthy ? 'ok' : 'degraded',
  backend: 'postgresql',
  total: s.total,
  by_tier: Object.fromEntries(
    Object.keys(TIERS).map((name) => [name, s.byTier.find((t) => lower(t.key) === name)?.count ?? 0]),
  ),
  by_category: Object.fromEntries(s.byCategory.map((c) => [c.key, c.count])),
  size_bytes: s.sizeBytes,
  oldest: s.oldest ?? null,
  newest: s.newest ?? null,
  recalled: s.recalled,
  healthy: s.healthy,
  indexes: s.indexes,
});

export const memoryRoutes = [
  route({
    method: 'GET',
    path: '/api/memory',
    summary: 'List all memories',
    operation: MemoryListDocument,
    paged: { connection: (d) => d.memories },
    variables: {
      agentId: fromQuery('agent_id', undefined, "only this agent's memories"),
      'filter.tier': fromQuery('tier', tier),
      'filter.category': fromQuery('category'),
    },
    shape: ({ memories }, { page }) => ({
      memories: memories.nodes.map(memoryEntry),
      total: memories.totalCount,
      ...page,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/memory',
    summary: 'Store a memory (a semantic fact unless `tier` says otherwise)',
    operation: MemoryStoreDocument,
    variables: {
      'input.agentId': fromBody('agent_id', undefined, 'the agent that remembers'),
      'input.sessionId': fromBody('session_id', undefined, 'the chat session it belongs to'),
      'input.content': fromBody('content'),
      'input.category': withDefault(fromBody('category'), 'general'),
      'input.importance': withDefault(fromBody('importance'), 0.5),
      'input.tier': fromBody('tier', tier),
      'input.metadata': fromBody('metadata', undefined, 'a JSON object, up to 8 KB'),
      'input.source': fromBody('source', undefined, 'who writes it (default "api")'),
    },
    shape: ({ storeMemory }) => memoryEntry(storeMemory),
  }),
  route({
    method: 'POST',
    path: '/api/memory/search',
    summary: 'Search memories: ranked full text and typo-tolerant matching, with filters and snippets',
    operation: MemorySearchDocument,
    variables: {
      query: required(fromBody('query')),
      limit: withDefault(fromBody('limit', integer(1, 100)), 10),
      offset: withDefault(fromBody('offset', integer(0, 10_000)), 0),
      filter: fromBody(
        'filters',
        memoryFilters,
        'tier, category, agent_id, session_id, metadata, since, until',
      ),
    },
    shape: ({ searchMemory }) => searchResult(searchMemory),
  }),
  route({
    method: 'GET',
    path: '/api/memory/recall',
    summary: 'Quick recall: the top few matches, marked as recalled',
    operation: MemoryRecallDocument,
    variables: {
      query: required(fromQuery('q', undefined, 'what to recall')),
      limit: withDefault(fromQuery('limit', integer(1, 10)), 5),
      'filter.tier': fromQuery('tier', tier),
      'filter.category': fromQuery('category'),
    },
    shape: ({ recallMemory }) => searchResult(recallMemory),
  }),
  route({
    method: 'GET',
    path: '/api/memory/stats',
    summary: 'Memory statistics and health: counts per tier and category, size, oldest and newest, indexes',
    operation: MemoryStatsDocument,
    shape: statsOf,
  }),
  route({
    method: 'DELETE',
    path: '/api/memory/:id',
    summary: 'Delete a memory',
    operation: MemoryDeleteDocument,
    variables: { id: fromPath('id') },
    shape: ({ deleteMemory }) => ({ deleted: true, id: deleteMemory.id }),
  }),
];
