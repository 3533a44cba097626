/**
 * Memory (002): the tier views and full-text search, rows of the runtime dialect; an entry reads
 * as in hermes.memory.ts. Errors answer as `{"error": …}` (400).
 */
import { MemoryCategoriesDocument, MemoryListDocument, MemorySearchDocument } from '../generated/graphql';
import { fixed, fromPath, fromQuery, integer, required, withDefault } from '../mapping';
import { route } from '../types';
import { hits, memoryEntry, tier } from './hermes.memory';

/** 002's list of one tier (optionally one session or category): `{entries, count}` plus the page. */
const tierList = (
  path: string,
  summary: string,
  which: string,
  extra: { key: 'session_id' | 'category'; filter: 'filter.sessionId' | 'filter.category' } | undefined,
) =>
  route({
    method: 'GET',
    path,
    summary,
    operation: MemoryListDocument,
    paged: { connection: (d) => d.memories },
    variables: {
      'filter.tier': fixed(which),
      ...(extra && { [extra.filter]: fromPath(extra.key) }),
    },
    shape: ({ memories }, { input, page }) => ({
      ...(extra && { [extra.key]: input.params[extra.key] }),
      entries: memories.nodes.map(memoryEntry),
      count: memories.totalCount,
      ...page,
    }),
  });

export const runtimeMemoryRoutes = [
  tierList(
    '/api/memory/working',
    'All working memory entries (recent context of open sessions)',
    'WORKING',
    undefined,
  ),
  tierList('/api/memory/working/:session_id', "One session's working memory", 'WORKING', {
    key: 'session_id',
    filter: 'filter.sessionId',
  }),
  tierList('/api/memory/episodic', 'Episodic memory: what was asked and answered', 'EPISODIC', undefined),
  tierList('/api/memory/semantic', 'All semantic memory entries (facts)', 'SEMANTIC', undefined),
  route({
    method: 'GET',
    path: '/api/memory/semantic/categories',
    summary: 'Semantic memory categories with their counts',
    operation: MemoryCategoriesDocument,
    variables: { tier: fixed('SEMANTIC') },
    shape: ({ memoryCategories }) => ({
      categories: memoryCategories.map((c) => ({ category: c.key, count: c.count })),
      count: memoryCategories.length,
    }),
  }),
  tierList('/api/memory/semantic/:category', 'Semantic memory: the facts of one category', 'SEMANTIC', {
    key: 'category',
    filter: 'filter.category',
  }),
  route({
    method: 'GET',
    path: '/api/memory/search',
    summary: 'Full-text memory search (`q` required)',
    operation: MemorySearchDocument,
    variables: {
      query: required(fromQuery('q', undefined, 'the words searched for')),
      limit: withDefault(fromQuery('limit', integer(1, 100)), 10),
      offset: fixed(0),
      'filter.tier': fromQuery('tier', tier),
      'filter.category': fromQuery('category'),
    },
    shape: ({ searchMemory }) => ({
      results: hits(searchMemory),
      count: searchMemory.total,
      query: searchMemory.query,
    }),
  }),
];
