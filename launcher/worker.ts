/**
 * One process of the all-in-one start (launcher/processes.ts): the router, or a group of subgraphs.
 * It does only what the launcher asks over IPC, and stops when the launcher goes away.
 */
import 'reflect-metadata';
import {
  createLogger,
  createPubSub,
  loadConfig,
  projectVersion,
  startSubgraph,
  startTracing,
  type PeerUrls,
  type SubgraphName,
} from '../lib';
import { readCommittedSupergraph } from './supergraph';
import type { FromWorker, ToWorker } from './processes';

const config = loadConfig();
const log = createLogger('agentry', config.LOG_LEVEL);
const closes: Array<() => Promise<void>> = [];
// Filled by the launcher once every group has started; the subgraphs here hold this same object.
const peerUrls: PeerUrls = {};
let tracing: ReturnType<typeof startTracing> | undefined;

const answer = (message: FromWorker) => process.send?.(message);

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<FromWorker> {
  // Before anything serves, so every request is traced; off without OTEL_EXPORTER_OTLP_ENDPOINT.
  const role = message.role === 'router' ? 'router' : message.names.join('+');
  tracing = startTracing({
    serviceName: `${config.OTEL_SERVICE_NAME}-${role}`,
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  // Each role loads only its own code: the router process never loads the subgraphs' ORM.
  if (message.role === 'router') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startRouter } = require('../router/gateway') as typeof import('../router/gateway');
    const router = await startRouter({
      config,
      secrets: message.secrets,
      supergraph: await readCommittedSupergraph(),
      subgraphUrls: message.subgraphUrls,
      version: projectVersion(),
      log,
    });
    closes.push(() => router.close());
    return { type: 'started', urls: { router: router.url } };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { subgraphs } = require('../subgraphs') as typeof import('../subgraphs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ensureAdmin } = require('../subgraphs/accounts') as typeof import('../subgraphs/accounts');
  const pubsub = createPubSub({ databaseUrl: message.databaseUrl, redisUrl: config.REDIS_URL, log });
  closes.push(() => pubsub.close());
  const urls: Partial<Record<SubgraphName, string>> = {};
  let adminKey: string | undefined;
  for (const name of message.names) {
    const subgraph = await startSubgraph(subgraphs[name], {
      databaseUrl: message.databaseUrl,
      pubsub,
      log,
      host: '127.0.0.1',
      port: 0,
      poolMax: config.DB_POOL_MAX,
      internalSecret: message.secrets.internal,
      jwtSecret: message.secrets.jwt,
      peerUrls,
    });
    closes.unshift(() => subgraph.close());
    urls[name] = peerUrls[name] = subgraph.url;
    if (name === 'accounts' && message.firstAdmin) adminKey = (await ensureAdmin(subgraph.orm.em.fork())).key;
  }
  return { type: 'started', urls, adminKey };
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const close of closes)
      await close().catch((error: unknown) => log.error({ err: error }, 'stop failed'));
    await tracing?.shutdown().catch(() => undefined);
  }
  process.exit(code);
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start')
    start(message).then(answer, (error: unknown) => {
      answer({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      void stop(1);
    });
  else if (message.type === 'peers') Object.assign(peerUrls, message.peerUrls);
  else if (message.type === 'stop') void stop(0);
});
// Ctrl-C reaches the whole process group; the launcher decides the order of the stop.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop(0));
// The launcher is gone (killed): nobody will stop this process, so it stops itself.
process.on('disconnect', () => void stop(0));
