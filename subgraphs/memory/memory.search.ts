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
import { executePrepared } from './memory.prepared';

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

/** Half-life of an entry's weight, in seconds (180 days); migration 0004's rank_key uses it too. */
const HALF_LIFE = 15_552_000;

/**
 * The score of a hit: its class (2 the query's words side by side in order, 1 all the words
 * anywhere, 0 words that only look like the query's) plus its weight now, above 0 and at most 1:
 * (0.5 + importance) / 1.5, halved every 180 days of age. So an exact phrase always outranks
 * scattered words, and importance and recency order the entries of one class.
 */
const SCORE = `c."class" + least(1, power(2, c."rank_key" - extract(epoch from now())::double precision / ${HALF_LIFE}) / 1.5)`;

/** How many of an owner's entries, in rank order, a class reads before turning to the GIN index. */
const WALK = 500;

/** The owner's words of an entry, as memory_entry_owner_words_idx indexes them. */
const OWNER_WORDS = `"memory"."owner_words"(e."owner_id", e."search_vector")`;

/** A tsquery literal of a lexeme (quotes doubled; lexemes with a backslash are left out). */
const LEXEME = `'''' || replace(k."word", '''', '''''') || ''''`;

/**
 * The best `wanted` matches of each class, exactly, with bounded work however many entries match.
 *
 * Each class first reads the owner's entries in rank order (`memory_entry_rank_idx`), stopping at
 * `wanted` matches or after WALK entries: those matches are the best of the class. A class with
 * fewer matches among the first WALK entries is rare in the owner's memory, so all its matches
 * are read from the GIN index and sorted (`rank_key + 0` keeps the planner on the GIN index). An
 * owner holding fewer than WALK entries is read whole and its count of matches is exact. Only when
 * full text finds fewer than `wanted` do the owner's words that look like the query's (typos,
 * fragments) stand in for them, still through full text. A query of stop words or punctuation
 * only matches nothing.
 */
function matchesSql(ownerId: string, query: string, filter: CheckedFilter, wanted: number) {
  const where = whereOf(ownerId, filter);
  const walk = Math.max(WALK, 2 * wanted);
  const found = (from: string) => `(select count(*) from ${from})`;
  const queryWords = `unnest(tsvector_to_array(to_tsvector('simple', querytree(t."ts")::text)))`;
  const ownerRows = `(select e."id", e."owner_id", e."agent_id", e."session_id", e."tier", e."category",
      e."metadata", e."created_at", e."rank_key", e."search_vector"
    from ${TABLE} e where e."owner_id" = ? order by e."rank_key" desc, e."id" desc limit ${walk}) e`;
  const params: unknown[] = [query, ownerId, ownerId];
  /**
   * A class: `gate` (SQL) says whether it is needed, `match` which entries belong to it. Its GIN
   * read goes through the owner's own words (`memory_entry_owner_words_idx`) when all the query's
   * words are required (`k."words"`), else through the (owner, tsvector) index.
   */
  const rankClass = (name: string, rank: number, gate: string, match: string, sources: string) => {
    const walked = found(`"${name}_walk"`);
    const needed = `${gate} and not (select "small" from "owner") and ${walked} < ${wanted}`;
    // The owner's words carry the owner: coalesce keeps the planner from adding (BitmapAnd) the
    // owner's 100,000 postings of another index to the few of the words. Which read applies is a
    // scalar subquery on "keys", so a one-time filter: a prepared statement's generic plan skips
    // the other read instead of scanning it and joining "keys" after.
    const fromIndex = (
      via: string,
      condition: string,
      filters: string,
    ) => `(select e."id", e."rank_key", ${rank}
         from ${TABLE} e, ${sources} where ${needed} and ${via} and ${condition} and ${filters}
         order by e."rank_key" + 0 desc, e."id" desc limit ${wanted})`;
    params.push(ownerId, ...where.params, ...where.params, ...where.params);
    return `"${name}_walk" as (
        select e."id", e."rank_key", ${rank} as "class" from ${ownerRows}, ${sources}
        where ${gate} and ${where.sql} and ${match}
        order by e."rank_key" desc, e."id" desc limit ${wanted}),
      "${name}" as (
        select * from "${name}_walk" where ${walked} >= ${wanted} or (select "small" from "owner")
        union all
        ${fromIndex(
          `${rank} > 0 and (select k."words" is not null from "keys" k)`,
          `${OWNER_WORDS} @> (select k."words" from "keys" k) and coalesce(${match}, false)`,
          `coalesce(${where.sql}, false)`,
        )}
        union all
        ${fromIndex(`(${rank} = 0 or (select k."words" is null from "keys" k))`, match, where.sql)})`;
  };
  const best = rankClass(
    'best',
    2,
    'true',
    `e."search_vector" @@ t."ts" and e."search_vector" @@ t."phrase"`,
    '"t"',
  );
  const good = rankClass(
    'good',
    1,
    `${found('"best"')} < ${wanted}`,
    `e."search_vector" @@ t."ts" and not (e."search_vector" @@ t."phrase")`,
    '"t"',
  );
  params.push(ownerId); // the vocabulary's
  const similar = rankClass(
    'similar',
    0,
    `${found('"best"')} + ${found('"good"')} < ${wanted} and f."all"`,
    `e."search_vector" @@ f."ts" and not (e."search_vector" @@ t."ts")`,
    '"t", "fuzzy" f',
  );
  const sql = `"q" as (select websearch_to_tsquery('english', ?) as "ts"),
      "t" as (select q."ts", replace(q."ts"::text, ' & ', ' <-> ')::tsquery as "phrase" from "q" where numnode(q."ts") > 0),
      "keys" as (
        select case when querytree(t."ts")::text <> 'T' and strpos(querytree(t."ts")::text, '|') = 0 then
          array(select ? || ' ' || replace(m[1], '''''', '''')
            from regexp_matches(querytree(t."ts")::text, '''(([^'']|'''')+)''', 'g') m)
          end as "words"
        from "t"),
      "owner" as (
        select count(*) < ${walk} as "small"
        from (select 1 from ${TABLE} e where e."owner_id" = ? order by e."rank_key" desc, e."id" desc limit ${walk}) e),
      ${best},
      ${good},
      "fuzzy" as (
        select string_agg(a."alternatives", ' & ')::tsquery as "ts", count(*) = ${found(queryWords)} as "all"
        from "t", lateral (
          select '(' || string_agg(${LEXEME}, ' | ') || ')' as "alternatives"
          from ${queryWords} l("word"),
            lateral (
              select k."word" from "memory"."memory_word" k
              where k."owner_id" = ? and (k."word" % l."word" or k."word" %> l."word") and strpos(k."word", chr(92)) = 0
              order by similarity(k."word", l."word") desc, k."word" limit 5) k
          group by l."word") a
        where querytree(t."ts")::text <> 'T'
        group by t."ts"),
      ${similar},
      "candidates" as (select * from "best" union all select * from "good" union all select * from "similar"),
      "counted" as (
        select case when o."small" then
          (select count(*) from ${ownerRows}, "t" where ${where.sql} and e."search_vector" @@ t."ts")
          + ${found('"similar"')} end as "exact",
          case when not o."small" then ${estimateOf(where)} end as "estimate"
        from "owner" o, "q")`;
  params.push(ownerId, ...where.params, ...where.params);
  return { sql, params };
}

/**
 * How many entries match, for an owner the search did not read whole: the planner's estimate for
 * the full-text query (counting every match of a common word would cost as much as ranking them
 * all), in the search statement itself (migration 0006's plan_rows), so no second round trip.
 * format() quotes the filter's values (%L) into the statement explained.
 */
function estimateOf(where: { sql: string; params: unknown[] }) {
  const explained = `select 1 from ${TABLE} e where ${where.sql.replaceAll('?', '%L')} and e."search_vector" @@ %L::tsquery`;
  const args = where.params.map(() => '?::text').join(', ');
  return `"memory"."plan_rows"(format('${explained.replaceAll("'", "''")}', ${args}, q."ts"::text))`;
}

/** One page of the candidates, best first. */
const HITS = `"hits" as (
  select c."id", ${SCORE} as "score" from "candidates" c
  order by c."class" desc, c."rank_key" desc, c."id" desc limit ? offset ?)`;

/**
 * Matched words between « and », a few fragments of the best passages: only of the page's rows,
 * and only when the caller asked for snippets (ts_headline re-parses each entry's text).
 */
const SNIPPET = `ts_headline('english', e."content", q."ts",
  'StartSel=«, StopSel=», MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "')`;
const snippetOf = (wanted: boolean) => (wanted ? SNIPPET : 'null');

export interface SearchOutcome {
  hits: MemoryHit[];
  total: number;
  totalExact: boolean;
}

/**
 * The hits of a page and how many entries match: exact when the search read all the owner's
 * entries, or else the estimate, never fewer than the hits seen so far.
 */
async function outcomeOf(
  em: EntityManager,
  statement: Promise<Row[]>,
  offset: number,
): Promise<SearchOutcome> {
  const rows = await statement;
  const hits = rows
    .filter((row) => row.id !== null)
    .map(({ score, snippet, exact: _exact, estimate: _estimate, ...row }) => ({
      entry: entryOf(em, row),
      score: Number(score),
      snippet: snippet === null ? '' : String(snippet),
    }));
  const exact = rows[0]?.exact;
  if (exact !== null && exact !== undefined) return { hits, total: Number(exact), totalExact: true };
  return { hits, total: Math.max(offset + hits.length, Number(rows[0]?.estimate ?? 0)), totalExact: false };
}

/** The search statement (`?` placeholders), also for EXPLAIN in the benchmark. */
export function searchStatement(
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  page: { limit: number; offset: number },
  snippets = true,
) {
  const matches = matchesSql(ownerId, query, filter, page.limit + page.offset);
  return {
    sql: `with ${matches.sql}, ${HITS},
      "page" as (select ${COLUMNS}, h."score", ${snippetOf(snippets)} as "snippet"
        from "hits" h join ${TABLE} e on e."id" = h."id", "q")
     select p.*, n."exact", n."estimate" from "counted" n left join "page" p on true
     order by p."score" desc, p."id" desc`,
    params: [...matches.params, page.limit, page.offset],
  };
}

export async function searchMemories(
  em: EntityManager,
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  page: { limit: number; offset: number },
  snippets = true,
): Promise<SearchOutcome> {
  const statement = searchStatement(ownerId, query, filter, page, snippets);
  const rows = executePrepared<Row>(em, statement.sql, statement.params);
  return outcomeOf(em, rows, page.offset);
}

/** The top few matches, marked as recalled (last time, count) in the same statement. */
export async function recallMemories(
  em: EntityManager,
  ownerId: string,
  query: string,
  filter: CheckedFilter,
  limit: number,
  snippets = true,
): Promise<SearchOutcome> {
  const matches = matchesSql(ownerId, query, filter, limit);
  const rows = executePrepared<Row>(
    em,
    `with ${matches.sql}, ${HITS},
      "recalled" as (
        update ${TABLE} e set "last_recalled_at" = now(), "recall_count" = e."recall_count" + 1
        from "hits" h where e."id" = h."id"
        returning ${COLUMNS}, h."score"),
      "page" as (select e.*, ${snippetOf(snippets)} as "snippet" from "recalled" e, "q")
     select p.*, n."exact", n."estimate" from "counted" n left join "page" p on true
     order by p."score" desc, p."id" desc`,
    [...matches.params, limit, 0],
  );
  return outcomeOf(em, rows, 0);
}

/** The indexes search depends on (see migrations 0003 and 0004). */
export const SEARCH_INDEXES = [
  'memory_entry_search_idx',
  'memory_entry_rank_idx',
  'memory_entry_owner_words_idx',
  'memory_word_trgm_idx',
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
       where n."nspname" = 'memory' and c."relname" like 'memory\\_%'`,
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
