import {
  badInput,
  decodeCursor,
  encodeCursor,
  MAX_PAGE_SIZE,
  type EntityManager,
  type Page,
} from '../../lib';
import { MemoryEntry, type MemoryHit, type MemoryStats } from './memory.entity';
import { MEMORY_LIMITS, type CheckedFilter } from './memory.input';

/*
 * Search, recall, lists and figures of one account's memory, in SQL: every statement starts from
 * `owner_id = ?`, so another account's entries are never read, ranked or counted.
 */

const TABLE = `"memory"."memory_entry"`;
const COLUMNS = `e."id", e."owner_id", e."agent_id", e."session_id", e."tier", e."category", e."content",
  e."importance", e."metadata", e."source", e."idempotency_key", e."last_recalled_at", e."recall_count",
  e."created_at"`;

/** A WHERE clause over `e` with its parameters, owner first. */
function whereOf(ownerId: string, filter: CheckedFilter): { sql: string; params: unknown[] } {
  const parts = ['e."owner_id" = ?'];
  const params: unknown[] = [ownerId];
  const add = (sql: string, value: unknown) => {
    parts.push(sql);
    params.push(value);
  };
  if (filter.tier) add('e."tier" = ?', filter.tier);
  if (filter.category) add('e."category" = ?', filter.category);
  if (filter.agentId) add('e."agent_id" = ?', filter.agentId);
  if (filter.sessionId) add('e."session_id" = ?', filter.sessionId);
  if (filter.metadata) add('e."metadata" @> ?::jsonb', JSON.stringify(filter.metadata));
  if (filter.since) add('e."created_at" >= ?', filter.since);
  if (filter.until) add('e."created_at" < ?', filter.until);
  return { sql: parts.join(' and '), params };
}

type Row = Record<string, unknown>;
const entryOf = (em: EntityManager, row: Row) => em.map(MemoryEntry, row);

/** Newest first, keyset-paginated like every list of the API. */
export async function listMemories(
  em: EntityManager,
  ownerId: string,
  filter: CheckedFilter,
  page: { first: number; after?: string | null },
): Promise<Page<MemoryEntry>> {
  if (!Number.isInteger(page.first) || page.first < 1 || page.first > MAX_PAGE_SIZE)
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, { argument: 'first' });
  const where = whereOf(ownerId, filter);
  const after = page.after ? decodeCursor(page.after) : undefined;
  const connection = em.getConnection();
  const [rows, [{ count }]] = await Promise.all([
    connection.execute<Row[]>(
      `select ${COLUMNS} from ${TABLE} e where ${where.sql} ${after ? 'and e."id" < ?' : ''}
       order by e."id" desc limit ?`,
      [...where.params, ...(after ? [after] : []), page.first + 1],
    ),
    connection.execute<{ count: string }[]>(
      `select count(*) from ${TABLE} e where ${where.sql}`,
      where.params,
    ),
  ]);
  const nodes = rows.slice(0, page.first).map((row) => entryOf(em, row));
  const last = nodes.at(-1);
  return {
    nodes,
    totalCount: Number(count),
    pageInfo: { endCursor: last ? encodeCursor(last.id) : null, hasNextPage: rows.length > page.first },
  };
}

/**
 * At most this many matching entries are ranked (and counted in `total`): a common word can match
 * a large part of an account's memory, and ranking every match would grow with the account.
 */
export const RANKED_MATCHES = 1_000;

/**
 * Relevance (cover density: adjacent words rank above scattered ones; word similarity for entries
 * found only by trigrams), weighted by importance (x0.5 to x1.5) and recency (x1 today, toward
 * x0.8 over months).
 */
const SCORE = `c."relevance" * (0.5 + c."importance")
  * (0.8 + 0.2 / (1 + extract(epoch from now() - c."created_at") / 2592000))`;

/**
 * The matching entries, best first. Full text (websearch syntax: "a phrase", or, -not) reads at
 * most RANKED_MATCHES matches from the owner-led GIN index (in storage order, no sort before the
 * limit, so the work is bounded however many match); only when full text finds fewer than the
 * page does trigram word similarity (typos, word fragments) add entries, again bounded. A query
 * of stop words or punctuation only has no terms and matches nothing.
 */
function matchesSql(ownerId: string, query: string, filter: CheckedFilter, wanted: number) {
  const where = whereOf(ownerId, filter);
  return {
    sql: `"q" as (select websearch_to_tsquery('english', ?) as "ts", ?::text as "raw"),
      "text_hits" as (
        select e."id", ts_rank_cd(e."search_vector", q."ts") as "relevance", e."importance", e."created_at"
        from ${TABLE} e, "q"
        where ${where.sql} and numnode(q."ts") > 0 and e."search_vector" @@ websearch_to_tsquery('english', ?)
        limit ${RANKED_MATCHES}),
      "similar_hits" as (
        select e."id", 0.1 * word_similarity(q."raw", e."content") as "relevance", e."importance", e."created_at"
        from ${TABLE} e, "q"
        where (select count(*) from "text_hits") < ? and ${where.sql} and numnode(q."ts") > 0
          and q."raw" <% e."content" and not (e."search_vector" @@ q."ts")
        limit ${RANKED_MATCHES}),
      "candidates" as (select * from "text_hits" union all select * from "similar_hits")`,
    params: [query, query, ...where.params, query, wanted, ...where.params],
  };
}

/** One page of the candidates, best first, with how many there are. */
const HITS = `"hits" as (
  select c."id", ${SCORE} as "score", count(*) over () as "total" from "candidates" c
  order by "score" desc, c."id" desc limit ? offset ?)`;

/** Matched words between « and », a few fragments of the best passages. */
const SNIPPET = `ts_headline('english', e."content", q."ts",
  'StartSel=«, StopSel=», MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')`;

export interface SearchOutcome {
  hits: MemoryHit[];
  total: number;
}

function outcomeOf(em: EntityManager, rows: Row[]): SearchOutcome {
  return {
    total: rows.length ? Number(rows[0].total) : 0,
    hits: rows.map(({ score, snippet, total: _total, ...row }) => ({
      entry: entryOf(em, row),
      score: Number(score),
      snippet: String(snippet),
    })),
  };
}

/** The search statement (`?` placeholders), also for EXPLAIN in the benchmark. */
export function searchStatement(
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  page: { limit: number; offset: number },
) {
  const matches = matchesSql(ownerId, query, filter, page.limit + page.offset);
  return {
    sql: `with ${matches.sql}, ${HITS}
     select ${COLUMNS}, h."score", h."total", ${SNIPPET} as "snippet"
     from "hits" h join ${TABLE} e on e."id" = h."id", "q"
     order by h."score" desc, e."id" desc`,
    params: [...matches.params, page.limit, page.offset],
  };
}

export async function searchMemories(
  em: EntityManager,
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  page: { limit: number; offset: number },
): Promise<SearchOutcome> {
  const statement = searchStatement(ownerId, query, filter, page);
  const rows = await em.getConnection().execute<Row[]>(statement.sql, statement.params);
  // An offset past the last match still knows the total.
  if (rows.length === 0 && page.offset > 0) {
    const all = matchesSql(ownerId, query, filter, page.limit + page.offset);
    const [{ total }] = await em
      .getConnection()
      .execute<{ total: string }[]>(
        `with ${all.sql} select count(*) as "total" from "candidates"`,
        all.params,
      );
    return { hits: [], total: Number(total) };
  }
  return outcomeOf(em, rows);
}

/** The top few matches, marked as recalled (last time, count) in the same statement. */
export async function recallMemories(
  em: EntityManager,
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  limit: number,
): Promise<SearchOutcome> {
  const matches = matchesSql(ownerId, query, filter, limit);
  const rows = await em.getConnection().execute<Row[]>(
    `with ${matches.sql}, ${HITS},
      "recalled" as (
        update ${TABLE} e set "last_recalled_at" = now(), "recall_count" = e."recall_count" + 1
        from "hits" h where e."id" = h."id"
        returning ${COLUMNS}, h."score", h."total")
     select e.*, ${SNIPPET} as "snippet" from "recalled" e, "q"
     order by e."score" desc, e."id" desc`,
    [...matches.params, limit, 0],
  );
  return outcomeOf(em, rows);
}

/** The indexes search depends on (see migration 0003). */
export const SEARCH_INDEXES = [
  'memory_entry_search_idx',
  'memory_entry_trgm_idx',
  'memory_entry_tier_idx',
  'memory_entry_session_idx',
  'memory_entry_metadata_idx',
] as const;

export async function memoryStats(em: EntityManager, ownerId: string): Promise<MemoryStats> {
  const connection = em.getConnection();
  const [[totals], tiers, categories, indexes] = await Promise.all([
    connection.execute<Row[]>(
      `select count(*) as "total",
         coalesce(sum(octet_length(e."content") + octet_length(e."metadata"::text)), 0) as "size",
         min(e."created_at") as "oldest", max(e."created_at") as "newest",
         count(*) filter (where e."recall_count" > 0) as "recalled"
       from ${TABLE} e where e."owner_id" = ?`,
      [ownerId],
    ),
    connection.execute<{ key: string; count: string }[]>(
      `select e."tier" as "key", count(*) from ${TABLE} e where e."owner_id" = ? group by e."tier" order by 1`,
      [ownerId],
    ),
    connection.execute<{ key: string; count: string }[]>(
      `select e."category" as "key", count(*) from ${TABLE} e where e."owner_id" = ?
       group by e."category" order by count(*) desc, 1 limit ?`,
      [ownerId, MEMORY_LIMITS.categories],
    ),
    connection.execute<{ name: string; healthy: boolean }[]>(
      `select c."relname" as "name", i."indisvalid" and i."indisready" and i."indislive" as "healthy"
       from pg_index i join pg_class c on c."oid" = i."indexrelid"
       join pg_namespace n on n."oid" = c."relnamespace"
       where n."nspname" = 'memory' and c."relname" like 'memory\\_entry\\_%'`,
    ),
  ]);
  const found = new Map(indexes.map((index) => [index.name, index.healthy]));
  const health = SEARCH_INDEXES.map((name) => ({ name, healthy: found.get(name) ?? false }));
  const count = (rows: { key: string; count: string }[]) =>
    rows.map(({ key, count }) => ({ key, count: Number(count) }));
  const date = (value: unknown) => (value ? new Date(value as string) : null);
  return {
    total: Number(totals.total),
    byTier: count(tiers),
    byCategory: count(categories),
    sizeBytes: Number(totals.size),
    oldest: date(totals.oldest),
    newest: date(totals.newest),
    recalled: Number(totals.recalled),
    indexes: health,
    healthy: health.every((index) => index.healthy),
  };
}

/** The categories of one tier with their counts, most used first. */
export async function memoryCategories(em: EntityManager, ownerId: string, tier: string) {
  const rows = await em.getConnection().execute<{ key: string; count: string }[]>(
    `select e."category" as "key", count(*) from ${TABLE} e where e."owner_id" = ? and e."tier" = ?
     group by e."category" order by count(*) desc, 1 limit ?`,
    [ownerId, tier, MEMORY_LIMITS.categories],
  );
  return rows.map(({ key, count }) => ({ key, count: Number(count) }));
}
