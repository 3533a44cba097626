import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Direct imports: the global setup shares its globals with every test file, so it must not load
// MikroORM (whose metadata store lives on globalThis).
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../lib/embedded-postgres';
import { createLogger } from '../../lib/logger';
import { beginTestRun } from './database';
import { freePort } from './ports';

/**
 * With DATABASE_URL the suite uses that server; without it, a throwaway embedded PostgreSQL.
 * Each test file then creates its own database on the server (see platform.ts). Jest passes its
 * configuration; then the files also share what a run builds once (database.ts). Benchmarks call
 * this without it.
 */
export default async function globalSetup(jestConfig?: unknown): Promise<void> {
  if (jestConfig) beginTestRun();
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const parent = await mkdtemp(join(tmpdir(), 'agentry-test-pg-'));
  await chmod(parent, 0o755); // initdb runs as the postgres user and must reach its folder
  const postgres = await startEmbeddedPostgres({
    dataDir: join(parent, 'data'),
    port: await freePort(),
    persistent: false,
    database: 'agentry_test',
    log: createLogger('test-postgres', 'warn'),
  });
  process.env.TEST_DATABASE_URL = postgres.url;
  (globalThis as { embeddedPostgres?: EmbeddedPostgres }).embeddedPostgres = postgres;
}
