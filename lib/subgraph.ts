import { ApolloServer, HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { MigrationObject } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClassType, NonEmptyArray } from 'type-graphql';
import { WebSocketServer } from 'ws';
import type { SubgraphName } from './config';
import { openDatabase, sqlStatementCounts, type EntityManager, type MikroORM } from './db';
import { AppError, notFound } from './errors';
import { callerFrom, IDENTITY_HEADER, type Caller, type Identity } from './identity';
import { buildFederatedSchema } from './federation';
import { once, readBody, sendJson } from './http';
import { REQUEST_ID_HEADER, requestIdFrom, type Logger } from './logger';
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
}

/** Everything that makes a subgraph: each folder under subgraphs/ exports one of these. */
export interface SubgraphDefinition {
  name: SubgraphName;
  entities: ClassType<Identified>[];
  migrations: MigrationObject[];
  resolvers: NonEmptyArray<ClassType<object>>;
  /** Federated entities this subgraph resolves by `@key(fields: "id")`, by GraphQL type name. */
  entityTypes: Record<string, ClassType<Identified>>;
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
}

export interface Stoppable {
  stop(): Promise<void>;
}

export function buildSubgraphSchema(definition: SubgraphDefinition, pubsub: PubSub): Promise<GraphQLSchema> {
  const references = Object.fromEntries(
    Object.entries(definition.entityTypes).map(([typename, entity]) => [
      typename,
      { __resolveReference: (ref: Identified, context: SubgraphContext) => context.load(entity, ref.id) },
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
}

function createContext(
  { orm, pubsub, log, jwtSecret }: ContextDeps,
  requestId: string,
  caller: Caller,
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
    ownedWhere(field: string): Record<string, string> {
      const identity = context.me();
      return identity.role === 'ADMIN' ? {} : { [field]: identity.accountId };
    },
    requestId,
    pubsub,
    jwtSecret,
    log: log.child({ requestId }),
    async get<T extends Identified>(entity: ClassType<T>, id: string): Promise<T> {
      return (await context.load(entity, id)) ?? Promise.reject(notFound(entity.name, id));
    },
    load<T extends Identified>(entity: ClassType<T>, id: string): Promise<T | null> {
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
  jwtSecret: string;
}

/** Apollo Server over HTTP and graphql-ws on one port, plus /health and /metrics. */
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
  const deps: ContextDeps = { orm, pubsub: options.pubsub, log, jwtSecret: options.jwtSecret };
  const background = await definition.background?.({ ...deps, orm });

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let caller: Caller;
    try {
      caller = callerFrom(req.headers[IDENTITY_HEADER] as string | undefined, options.internalSecret);
    } catch (error) {
      sendJson(res, 401, {
        errors: [{ message: (error as Error).message, extensions: { code: 'UNAUTHENTICATED' } }],
      });
      return;
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
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
      context: async () => createContext(deps, requestId, caller),
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
        ? handleGraphQL(req, res, url)
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
            ? Promise.resolve(sendMetrics(res, definition.name))
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

  const wss = new WebSocketServer({ server, path: '/graphql' });
  const ws = useServer(
    {
      schema,
      // A connection whose identity does not verify is closed with 4403 before any subscription.
      onConnect: (ctx) => {
        try {
          callerFrom(ctx.connectionParams?.[IDENTITY_HEADER] as string | undefined, options.internalSecret);
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => {
        const params = ctx.connectionParams as Record<string, unknown> | undefined;
        const caller = callerFrom(params?.[IDENTITY_HEADER] as string | undefined, options.internalSecret);
        const requestId = requestIdFrom(params?.[REQUEST_ID_HEADER] as string | undefined);
        return createContext(deps, requestId, caller);
      },
    },
    wss,
  );

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}/graphql`;
  log.info({ url }, 'subgraph listening');

  return {
    name: definition.name,
    url,
    orm,
    close: once(async () => {
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
      await background?.stop();
      await orm.close();
    }),
  };
}

function sendMetrics(res: ServerResponse, name: string): void {
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end(
    [
      '# HELP agentry_sql_statements_total SQL statements this process ran, per subgraph schema.',
      '# TYPE agentry_sql_statements_total counter',
      `agentry_sql_statements_total{subgraph="${name}"} ${sqlStatementCounts.get(name) ?? 0}`,
      '',
    ].join('\n'),
  );
}
