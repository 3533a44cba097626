import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from '../../lib';

/*
 * The search statement is large (about 8 KB, some 20 CTEs): parsing and planning it took longer
 * than running it for most queries. As a named prepared statement, each pooled connection parses
 * it once, and after five runs PostgreSQL keeps a generic plan (its shape does not depend on the
 * owner or the words: the CTEs and their one-time filters decide the work), so a search sends
 * only its parameters and is neither parsed nor planned again.
 */

/**
 * Statement texts differ by the filters present and by limit + offset; only this many distinct
 * ones are prepared per process (first come), so neither this process nor a database connection
 * holds an unbounded number of plans. Others run as plain statements.
 */
const MAX_PREPARED = 64;
const names = new Map<string, string>();

function nameOf(text: string): string | undefined {
  const known = names.get(text);
  if (known || names.size >= MAX_PREPARED) return known;
  const name = `memory_${createHash('sha256').update(text).digest('base64url').slice(0, 20)}`;
  names.set(text, name);
  return name;
}

/** `?` placeholders as PostgreSQL's `$n` (the statements have no other question marks). */
export const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}
interface KnexClient {
  acquireConnection(): Promise<PgClient>;
  releaseConnection(connection: PgClient): Promise<void>;
}

/**
 * Runs one statement (`?` placeholders) on a connection of the subgraph's pool, outside any
 * transaction of `em`, prepared by name, and reports it to the ORM's logger like any other
 * statement (metrics, tracing).
 */
export async function executePrepared<T>(em: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  const text = numbered(sql);
  const client = em.getConnection().getKnex().client as KnexClient;
  const connection = await client.acquireConnection();
  const started = performance.now();
  try {
    const { rows } = await connection.query({ name: nameOf(text), text, values: params });
    return rows as T[];
  } finally {
    await client.releaseConnection(connection);
    em.config.getLogger().logQuery({ query: sql, took: Math.round(performance.now() - started) });
  }
}
