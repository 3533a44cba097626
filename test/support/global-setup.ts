import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, startEmbeddedPostgres, type EmbeddedPostgres } from '../../lib';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * With DATABASE_URL the suite uses that server; without it, a throwaway embedded PostgreSQL.
 * Each test file then creates its own database on the server (see platform.ts).
 */
export default async function globalSetup(): Promise<void> {
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
