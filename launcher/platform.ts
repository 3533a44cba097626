import {
  createPubSub,
  projectVersion,
  startSubgraph,
  SUBGRAPHS,
  type Config,
  type Logger,
  type PeerUrls,
  type PubSub,
  type RunningSubgraph,
  type SubgraphName,
} from '../lib';
import { startRouter, type RunningRouter, type Secrets } from '../router/gateway';
import { subgraphs } from '../subgraphs';

export { readCommittedSupergraph } from './supergraph';

export interface Platform {
  router: RunningRouter;
  subgraphs: RunningSubgraph[];
  pubsub: PubSub;
  close(): Promise<void>;
}

export interface PlatformOptions {
  config: Config;
  databaseUrl: string;
  supergraph: string;
  secrets: Secrets;
  log: Logger;
}

/** All six subgraphs on free local ports and the router in front of them, in one process. */
export async function startPlatform({
  config,
  databaseUrl,
  supergraph,
  secrets,
  log,
}: PlatformOptions): Promise<Platform> {
  const pubsub = createPubSub({ databaseUrl, redisUrl: config.REDIS_URL, log });
  const started: RunningSubgraph[] = [];
  // Filled as each subgraph starts; every subgraph holds this same object to find its peers.
  const peerUrls: PeerUrls = {};
  const start = async (name: SubgraphName) => {
    const subgraph = await startSubgraph(subgraphs[name], {
      databaseUrl,
      pubsub,
      log,
      host: '127.0.0.1',
      port: 0,
      poolMax: config.DB_POOL_MAX,
      internalSecret: secrets.internal,
      jwtSecret: secrets.jwt,
      peerUrls,
    });
    started[SUBGRAPHS.indexOf(name)] = subgraph; // in SUBGRAPHS' order, whichever starts first
    peerUrls[name] = subgraph.url;
  };
  try {
    // Accounts first: sessions reads the platform settings from it as it starts. The others do
    // not call a peer while starting, so they start side by side (their waits on PostgreSQL overlap).
    const [first, ...rest] = SUBGRAPHS;
    await start(first);
    const results = await Promise.allSettled(rest.map(start));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const subgraphUrls = Object.fromEntries(started.map((s) => [s.name, s.url])) as Record<
      SubgraphName,
      string
    >;
    const router = await startRouter({
      config,
      secrets,
      supergraph,
      subgraphUrls,
      version: projectVersion(),
      log,
    });
    return {
      router,
      subgraphs: started,
      pubsub,
      async close() {
        await router.close();
        await Promise.all(started.map((s) => s.close()));
        await pubsub.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.close()));
    await pubsub.close();
    throw error;
  }
}
