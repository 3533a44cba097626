import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// Only pg here: the global setup and teardown load this file, and they must not load MikroORM.

/** The PostgreSQL server the tests create their databases on (set by the global setup). */
export function testServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is set by the global setup');
  return url;
}

/** The URL of one database on the test server. */
export const testDatabaseUrl = (database: string) =>
  Object.assign(new URL(testServerUrl()), { pathname: `/${database}` }).toString();

export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * What a Jest run builds once and every file shares (see prepared.ts): a template database the
 * migrations have run on, and the composed supergraph in a file. Named by a run id, as several runs
 * (other checkouts) may share the server; absent outside Jest (benchmarks), where each platform
 * migrates and composes for itself.
 */
export interface TestRun {
  template: string;
  supergraphFile: string;
  /** How the names of the run's own test databases begin. */
  databasePrefix: string;
}

const RUN_ENV = 'AGENTRY_TEST_RUN';

export function testRun(): TestRun | undefined {
  const id = process.env[RUN_ENV];
  return id
    ? {
        template: `agentry_template_${id}`,
        supergraphFile: join(tmpdir(), `agentry-test-${id}.graphql`),
        databasePrefix: `agentry_t_${id}_`,
      }
    : undefined;
}

/** Called by the global setup; Jest's workers inherit the id through the environment. */
export function beginTestRun(): void {
  process.env[RUN_ENV] = randomBytes(5).toString('hex');
}

/**
 * Called by the global teardown: the run's template and supergraph go, and any database of the
 * run a file did not drop (it failed before its close).
 */
export async function endTestRun(): Promise<void> {
  const run = testRun();
  if (!run) return;
  await withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `select datname from pg_database where starts_with(datname, $1)`,
      [run.databasePrefix],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await client.query(`DROP DATABASE IF EXISTS ${run.template} WITH (FORCE)`);
  });
  await rm(run.supergraphFile, { force: true });
}

/**
 * A database of its own on the test server: fresh (a copy of `template` when given), or `keep`
 * (created when absent; drop leaves it). Dropped WITH (FORCE) at once, not at the end of the run:
 * that also ends any connection a file leaked, which would otherwise hold one of the server's
 * connections (shared with other runs) until then, and one DROP at a time at the end took longer.
 */
export async function createTestDatabase(
  keep?: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const run = testRun();
  const database = keep ?? `${run?.databasePrefix ?? 'agentry_t_'}${randomBytes(5).toString('hex')}`;
  await withAdmin(async (client) => {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount)
      await client.query(`CREATE DATABASE ${database}${template ? ` TEMPLATE ${template}` : ''}`);
  });
  return {
    url: testDatabaseUrl(database),
    drop: async () => {
      if (!keep)
        await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    },
  };
}
