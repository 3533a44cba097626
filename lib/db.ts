import { stripVTControlCharacters } from 'node:util';
import { DefaultLogger, type LogContext, type LoggerOptions, type MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from './logger';
import { metrics, watchGauge } from './metrics';
import { recordQuerySpan } from './tracing';

export type { EntityManager } from '@mikro-orm/postgresql';
export { MikroORM };

class CountingLogger extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly schema: string,
    private readonly sqlLog: Logger,
  ) {
    super(options);
  }

  /** MikroORM's own messages (the migrator's progress) go to the JSON log, not the console. */
  override log(namespace: string, message: string): void {
    this.sqlLog.debug({ namespace }, stripVTControlCharacters(message));
  }

  override logQuery(context: { query: string } & LogContext): void {
    metrics.sqlStatements.inc({ subgraph: this.schema });
    recordQuerySpan(this.schema, context.query, context.took);
    this.sqlLog.trace({ sql: context.query, took: context.took }, 'sql');
  }
}

export interface DatabaseOptions {
  url: string;
  /** The Postgres schema this subgraph owns; nobody else writes it. */
  schema: string;
  entities: (abstract new (...args: never[]) => unknown)[];
  migrations: MigrationObject[];
  poolMax: number;
  log: Logger;
}

/** Connects a subgraph to its own Postgres schema and applies its pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: options.url,
    schema: options.schema,
    entities: options.entities,
    extensions: [Migrator],
    migrations: {
      migrationsList: options.migrations,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    pool: { min: 0, max: options.poolMax },
    debug: ['query'],
    loggerFactory: (loggerOptions) => new CountingLogger(loggerOptions, options.schema, options.log),
    allowGlobalContext: false,
    ensureDatabase: false,
  });
  await orm.getMigrator().up();
  return orm;
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** Reports a subgraph's connection pool (knex's tarn pool) on /metrics until the returned stop. */
export function watchPool(subgraph: string, orm: MikroORM): () => void {
  return watchGauge('pool', subgraph, () => {
    const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
    return {
      used: pool?.numUsed() ?? 0,
      free: pool?.numFree() ?? 0,
      pending: pool?.numPendingAcquires() ?? 0,
    };
  });
}
