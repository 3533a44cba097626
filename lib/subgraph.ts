import { ApolloServer, HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { MigrationObject } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClassType, NonEmptyArray } from 'type-graphql';
import type { SubgraphName } from './config';
import { openDatabase, watchPool, type EntityManager, type MikroORM } from './db';
import { AppError, notFound } from './errors';
import { IDENTITY_HEADER, requireSignedCaller, type Caller, type Identity } from './identity';
import { createPeers, type PeerUrls, type Peers } from './peers';
import { createReferenceChecker, MAX_ID_LENGTH, type ReferenceChecker } from './references';
import { buildFederatedSchema } from './federation';
import { MAX_FORWARDED_BODY_BYTES, once, readBody, sendJson } from './http';
import { logFilterFrom, logRing } from './log-ring';
import { processStats, reportResource } from './process-stats';
import { REQUEST_ID_HEADER, requestIdFrom, type Logger } from './logger';
import {
  metrics,
  METRICS_PROCESS_HEADER,
  METRICS_PROCESS_ID,
  metricsRegistry,
  metricsText,
  PROMETHEUS_CONTENT_TYPE,
  subgraphMetricsJson,
} from './metrics';
import { serveSubscriptions } from './subgraph-ws';
import { inServerSpan } from './tracing';
import type { PubSub } from './pubsub';

type Identified = { id: string };

/** What every resolver receives: a request-scoped EntityManager, batching loaders, the request id. */
export interface SubgraphContext {
  em: EntityManager;
  /** Verified from the router-signed identity header; never from a client-supplied value. */
  caller: Caller;
  /** The calling account, or UNAUTHENTICATED. */
  me(): Identity;
  /** Loads a row the caller owns (admins own everything); another account's row is NOT_FOUND. */
  getOwned<T extends Identified>(entity: ClassType<T>, id: string, owner: (row: T) => string): Promise<T>;
  /** Like `getOwned`, but null for a missing or foreign row; services and the router see every row. */
  findOwned<T extends Identified>(
    entity: ClassType<T>,
    id: string,
    owner: (row: T) => string,
  ): Promise<T | null>;
  /** The filter that limits a list to the caller's rows (none for admins). */
  ownedWhere(field: string): Record<string, string>;
  /** Signs access tokens; only the accounts subgraph issues them. */
  jwtSecret: string;
  requestId: string;
  log: Logger;
  pubsub: PubSub;
  /** Loads one row by id; calls made in the same tick become one `WHERE id IN (…)` statement. */
  load<T extends Identified>(entity: ClassType<T>, id: string): Promise<T | null>;
  /** Like `load`, but a missing row is a NOT_FOUND error naming the kind. */
  get<T extends Identified>(entity: ClassType<T>, id: string): Promise<T>;
  /** Other subgraphs, called with this subgraph's service identity (or the caller's). */
  peers: Peers;
  /** The caller's signed identity as received, to call a peer as the caller. */
  identityHeader: string;
  /** Checks references to other subgraphs' entities on write, batched per request. */
  references: ReferenceChecker;
}

/** Whom a federated entity belongs to; rows of other accounts resolve to null for them. */
export interface OwnedEntityType<T extends Identified = Identified> {
  entity: ClassType<T>;
  owner: (row: T) => string;
}
export type EntityType = ClassType<Identified> | OwnedEntityType;

/** An entity `__resolveReference` answers only to its owner (and admins and peer services). */
export const ownedEntity = <T extends Identified>(entity: ClassType<T>, owner: (row: T) => string) =>
  ({ entity, owner }) as unknown as OwnedEntityType;

/** Everything that makes a subgraph: each folder under subgraphs/ exports one of these. */
export interface SubgraphDefinition {
  name: SubgraphName;
  entities: ClassType<Identified>[];
  migrations: MigrationObject[];
  resolvers: NonEmptyArray<ClassType<object>>;
  /**
   * Federated entities this subgraph resolves by `@key(fields: "id")`, by GraphQL type name: a
   * public entity by its class, an owned one with its owner (`__resolveReference` checks it).
   */
  entityTypes: Record<string, EntityType>;
  /** Background work (job runners) started with the subgraph and stopped before its database closes. */
  background?: (deps: BackgroundDeps) => Promise<Stoppable> | Stoppable;
  /** The state of services outside the product this subgraph depends on, added to its /health. */
  upstream?: () => Promise<Record<string, unknown>>;
}

export interface BackgroundDeps {
  orm: MikroORM;
  pubsub: PubSub;
  log: Logger;
  jwtSecret: string;
  peers: Peers;
}

export interface Stoppable {
  stop(): Promise<void>;
}

export function buildSubgraphSchema(definition: SubgraphDefinition, pubsub: PubSub): Promise<GraphQLSchema> {
  const references = Object.fromEntries(
    Object.entries(definition.entityTypes).map(([typename, type]) => [
      typename,
      {
        __resolveReference: (ref: Identified, context: SubgraphContext) =>
          'owner' in type ? context.findOwned(type.entity, ref.id, type.owner) : context.load(type, ref.id),
      },
    ]),
  );
  return buildFederatedSchema(
    {
      resolvers: definition.resolvers,
      pubSub: pubsub,
      validate: false,
    },
    references,
  );
}

interface ContextDeps {
  orm: MikroORM;
  pubsub: PubSub;
  log: Logger;
  jwtSecret: string;
  peers: Peers;
}

function createContext(
  { orm, pubsub, log, jwtSecret, peers }: ContextDeps,
  requestId: string,
  caller: Caller,
  identityHeader: string,
): SubgraphContext {
  const em = orm.em.fork() as EntityManager;
  const loaders = new Map<ClassType<Identified>, DataLoader<string, Identified | null>>();
  const context: SubgraphContext = {
    em,
    caller,
    me() {
      if (caller.kind !== 'account') throw new AppError('UNAUTHENTICATED', 'sign in or send an API key');
      return caller.identity;
    },
    async getOwned<T extends Identified>(
      entity: ClassType<T>,
      id: string,
      owner: (row: T) => string,
    ): Promise<T> {
      const identity = context.me();
      const row = await context.load(entity, id);
      if (!row || (identity.role !== 'ADMIN' && owner(row) !== identity.accountId))
        throw notFound(entity.name, id);
      return row;
    },
    async findOwned<T extends Identified>(
      entity: ClassType<T>,
      id: string,
      owner: (row: T) => string,
    ): Promise<T | null> {
      if (caller.kind === 'service' || caller.kind === 'router') return context.load(entity, id);
      if (caller.kind !== 'account') return null;
      const row = await context.load(entity, id);
      const { identity } = caller;
      return row && (identity.role === 'ADMIN' || owner(row) === identity.accountId) ? row : null;
    },
    ownedWhere(field: string): Record<string, string> {
      const identity = context.me();
      return identity.role === 'ADMIN' ? {} : { [field]: identity.accountId };
    },
    requestId,
    pubsub,
    jwtSecret,
    peers,
    identityHeader,
    references: createReferenceChecker(peers, () => ({ identity: identityHeader, requestId })),
    log: log.child({ requestId }),
    async get<T extends Identified>(entity: ClassType<T>, id: string): Promise<T> {
      return (await context.load(entity, id)) ?? Promise.reject(notFound(entity.name, id));
    },
    load<T extends Identified>(entity: ClassType<T>, id: string): Promise<T | null> {
      // No id is that long, nor empty: answered without a query (and without a 1 MB statement).
      if (typeof id !== 'string' || !id || id.length > MAX_ID_LENGTH) return Promise.resolve(null);
      let loader = loaders.get(entity);
      if (!loader) {
        loader = new DataLoader(async (ids: readonly string[]) => {
          const rows = await em.find(entity, { id: { $in: [...ids] } } as never);
          const byId = new Map(rows.map((row) => [row.id, row]));
          return ids.map((id) => byId.get(id) ?? null);
        });
        loaders.set(entity, loader);
      }
      return loader.load(id) as Promise<T | null>;
    },
  };
  return context;
}

/** Unexpected failures are logged in full and reach the client only as a generic internal error. */
function formatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    if (original instanceof AppError || (code && code !== 'INTERNAL_SERVER_ERROR')) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    log.error({ err: original }, 'unexpected error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

export interface RunningSubgraph {
  name: SubgraphName;
  url: string;
  orm: MikroORM;
  close(): Promise<void>;
}

export interface StartSubgraphOptions {
  databaseUrl: string;
  pubsub: PubSub;
  log: Logger;
  host: string;
  port: number;
  poolMax: number;
  /** Verifies the identity the router signs; shared by the router and every subgraph. */
  internalSecret: string;
  /** Where the other subgraphs are; may be filled after this one starts. */
  peerUrls: PeerUrls;
  jwtSecret: string;
}

/**
 * Apollo Server over HTTP and graphql-ws on one port, plus /health (open, for probes) and /metrics
 * (like /graphql, only for a caller the router or a peer signed: its counters describe the traffic).
 */
export async function startSubgraph(
  definition: SubgraphDefinition,
  options: StartSubgraphOptions,
): Promise<RunningSubgraph> {
  const log = options.log.child({ subgraph: definition.name });
  const orm = await openDatabase({
    url: options.databaseUrl,
    schema: definition.name,
    entities: definition.entities,
    migrations: definition.migrations,
    poolMax: options.poolMax,
    log,
  });
  metrics.sqlStatements.inc({ subgraph: definition.name }, 0);
  const unwatchPool = watchPool(definition.name, orm);
  const schema = await buildSubgraphSchema(definition, options.pubsub);
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    formatError: formatError(log),
    includeStacktraceInErrorResponses: false,
    introspection: true,
    // Inline traces are for Apollo Studio, which this platform does not report to.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();
  const deps: ContextDeps = {
    orm,
    pubsub: options.pubsub,
    log,
    jwtSecret: options.jwtSecret,
    peers: createPeers(definition.name, options.peerUrls, options.internalSecret),
  };
  const background = await definition.background?.({ ...deps, orm });
  const stopReportingPool = reportResource(`${definition.name}.db_pool`, () => {
    const pool = (orm.em.getConnection().getKnex().client as { pool?: KnexPool }).pool;
    return { used: pool?.numUsed() ?? 0, limit: options.poolMax, waiting: pool?.numPendingAcquires() ?? 0 };
  });

  /** The caller of a request that must carry a signed identity; answers 401 itself when it does not. */
  const signedCaller = (req: IncomingMessage, res: ServerResponse): Caller | undefined => {
    try {
      return requireSignedCaller(req.headers[IDENTITY_HEADER] as string | undefined, options.internalSecret);
    } catch (error) {
      sendJson(res, 401, {
        errors: [{ message: (error as Error).message, extensions: { code: 'UNAUTHENTICATED' } }],
      });
      return undefined;
    }
  };

  /** This process's log lines or figures, for the peer that gathers every service's (never an account). */
  const sendToServices = (req: IncomingMessage, res: ServerResponse, read: () => unknown) => {
    const caller = signedCaller(req, res);
    if (!caller) return;
    if (caller.kind === 'account' || caller.kind === 'anonymous')
      return sendJson(res, 403, {
        errors: [{ message: 'only services read this', extensions: { code: 'FORBIDDEN' } }],
      });
    sendJson(res, 200, read());
  };

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const caller = signedCaller(req, res);
    if (!caller) return;
    const identityHeader = req.headers[IDENTITY_HEADER] as string;
    const body = req.method === 'POST' ? await readBody(req, MAX_FORWARDED_BODY_BYTES) : undefined;
    log.debug(
      { requestId, operationName: (body as { operationName?: string } | undefined)?.operationName },
      'graphql request',
    );
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => createContext(deps, requestId, caller, identityHeader!),
    });
    res.statusCode = result.status ?? 200;
    for (const [key, value] of result.headers) res.setHeader(key, value);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://subgraph');
    const route =
      url.pathname === '/graphql'
        ? inServerSpan(
            req,
            res,
            () => `subgraph ${definition.name}`,
            () => handleGraphQL(req, res, url),
            {
              'agentry.subgraph': definition.name,
            },
          )
        : url.pathname === '/health'
          ? Promise.all([orm.isConnected(), definition.upstream?.()]).then(([db, upstream]) =>
              sendJson(res, db ? 200 : 503, {
                status: db ? 'ok' : 'degraded',
                service: definition.name,
                database: db,
                ...(upstream && { upstream }),
              }),
            )
          : url.pathname === '/metrics'
            ? signedCaller(req, res)
              ? sendMetrics(req, res, definition.name)
              : Promise.resolve()
            : url.pathname === '/logs'
              ? Promise.resolve(
                  sendToServices(req, res, () => ({
                    instance: logRing.instance,
                    lines: logRing.read(logFilterFrom(url.searchParams)),
                  })),
                )
              : url.pathname === '/stats'
                ? Promise.resolve(sendToServices(req, res, processStats))
                : Promise.resolve(sendJson(res, 404, { error: 'not found' }));
    route.catch((error: unknown) => {
      const status = (error as { status?: number }).status ?? 500;
      if (status >= 500) log.error({ err: error }, 'request failed');
      if (!res.headersSent)
        sendJson(res, status, {
          errors: [{ message: status >= 500 ? 'Internal server error' : (error as Error).message }],
        });
      else res.end();
    });
  });

  // The router's pooled connections close after a few idle seconds; the subgraph keeps them open
  // longer, so it never closes one just as the router sends on it (ECONNRESET under load).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const subscriptions = serveSubscriptions({
    server,
    schema,
    subgraph: definition.name,
    secret: options.internalSecret,
    context: ({ caller, identityHeader, requestId }) =>
      createContext(deps, requestId, caller, identityHeader),
  });

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}/graphql`;
  log.info({ url }, 'subgraph listening');

  return {
    name: definition.name,
    url,
    orm,
    close: once(async () => {
      await subscriptions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await background?.stop();
      stopReportingPool();
      unwatchPool();
      await orm.close();
    }),
  };
}

/** The parts of knex's connection pool (tarn) its figures come from. */
interface KnexPool {
  numUsed(): number;
  numPendingAcquires(): number;
}

/**
 * This subgraph's figures as Prometheus text; or, for the router to add up, prom-client JSON of
 * every figure of this process (all the subgraphs it runs), marked with the process's id so the
 * router reads each process once and skips its own.
 */
async function sendMetrics(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
  res.setHeader(METRICS_PROCESS_HEADER, METRICS_PROCESS_ID);
  if (/\bapplication\/json\b/.test(req.headers.accept ?? ''))
    return sendJson(res, 200, await metricsRegistry.getMetricsAsJSON());
  res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE);
  res.end(await metricsText([await subgraphMetricsJson(name)]));
}
