/**
 * `node dist/launcher/main.js` starts everything: embedded PostgreSQL when DATABASE_URL is unset,
 * then the router and the six subgraphs in worker processes of their own (launcher/processes.ts). `node dist/launcher/main.js <subgraph|router>` starts one
 * service on PORT, as docker-compose does.
 */
import 'reflect-metadata';
import { join, resolve } from 'node:path';
import {
  ConfigError,
  createLogger,
  createPubSub,
  loadConfig,
  projectVersion,
  startEmbeddedPostgres,
  startSubgraph,
  startTracing,
  SUBGRAPHS,
  subgraphUrl,
  type Config,
  type Logger,
  type SubgraphName,
} from '../lib';
import { startRouter } from '../router/gateway';
import { subgraphs } from '../subgraphs';
import { readCommittedSupergraph } from './supergraph';
import { startProcesses } from './processes';
import { resolveSecrets } from './secrets';

type Stop = () => Promise<void>;

async function database(config: Config, log: Logger): Promise<{ url: string; stop: Stop }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, stop: async () => {} };
  return startEmbeddedPostgres({
    dataDir: resolve(join(config.DATA_DIR, 'postgres')),
    port: config.EMBEDDED_PG_PORT,
    persistent: true,
    database: 'agentry',
    log,
  });
}

async function startAll(config: Config, log: Logger, onCrash: (label: string) => void): Promise<Stop[]> {
  const db = await database(config, log);
  try {
    const processes = await startProcesses({
      databaseUrl: db.url,
      secrets: await resolveSecrets(config, true),
      // On the embedded default's first start: an admin and its API key, so a new user can act at once.
      firstAdmin: !config.DATABASE_URL,
      log,
      onCrash,
    });
    const admin = processes.adminKey;
    const lines = [
      `Agentry ${projectVersion()} is running`,
      `  GraphQL   ${processes.routerUrl}/graphql  (GraphiQL in a browser, graphql-ws and SSE on the same URL)`,
      `  Health    ${processes.routerUrl}/health`,
      ...Object.entries(processes.subgraphUrls).map(([name, url]) => `  ${name.padEnd(9)} ${url}`),
      `  Database  ${config.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL in ${config.DATA_DIR}/postgres`}`,
      `  Auth      ${config.AUTH_MODE === 'open' ? 'open: every request acts as the local owner' : 'required'}`,
      ...(admin
        ? [
            '',
            `First admin created. Its API key, shown only this once:`,
            `  ${admin}`,
            `  curl -H 'Authorization: Bearer ${admin}' …`,
          ]
        : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return [() => processes.close(), db.stop];
  } catch (error) {
    await db.stop();
    throw error;
  }
}

async function startOne(service: SubgraphName | 'router', config: Config, log: Logger): Promise<Stop[]> {
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, subgraphUrl(config, name)]),
  ) as Record<SubgraphName, string>;
  if (service === 'router') {
    const router = await startRouter({
      config,
      secrets: await resolveSecrets(config, false),
      supergraph: await readCommittedSupergraph(),
      subgraphUrls,
      version: projectVersion(),
      log,
    });
    return [() => router.close()];
  }
  const secrets = await resolveSecrets(config, false);
  const db = await database(config, log);
  const pubsub = createPubSub({ databaseUrl: db.url, redisUrl: config.REDIS_URL, log });
  const subgraph = await startSubgraph(subgraphs[service], {
    databaseUrl: db.url,
    pubsub,
    log,
    host: config.HOST,
    port: config.PORT,
    poolMax: config.DB_POOL_MAX,
    internalSecret: secrets.internal,
    jwtSecret: secrets.jwt,
    peerUrls: subgraphUrls,
  });
  return [() => subgraph.close(), () => pubsub.close(), db.stop];
}

async function main(): Promise<void> {
  const service = process.argv[2] ?? 'all';
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const log = createLogger('agentry', config.LOG_LEVEL);
  if (service !== 'all' && service !== 'router' && !SUBGRAPHS.includes(service as SubgraphName)) {
    process.stderr.write(`unknown service "${service}": use all, router or one of ${SUBGRAPHS.join(', ')}\n`);
    process.exit(2);
  }

  let stopping = false;
  let stops: Stop[] = [];
  /** A signal stops everything with 0; a worker process that died stops the rest with 1. */
  const shutdown = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      log.error('shutdown took longer than 10 s, exiting');
      process.exit(1);
    }, 10_000);
    for (const stop of stops)
      await stop().catch((error: unknown) => log.error({ err: error }, 'stop failed'));
    clearTimeout(timer);
    process.exit(code);
  };
  stops =
    service === 'all'
      ? await startAll(config, log, (label) => void shutdown(`${label} died`, 1))
      : await startOne(service as SubgraphName | 'router', config, log);
  // A service started alone traces its requests (the all-in-one start's workers trace their own);
  // off without OTEL_EXPORTER_OTLP_ENDPOINT.
  if (service !== 'all') {
    const tracing = startTracing({
      serviceName: `${config.OTEL_SERVICE_NAME}-${service}`,
      endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    });
    if (tracing) stops.push(() => tracing.shutdown());
  }

  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
