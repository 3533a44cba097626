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
import { buildFederatedSchema } from './federation';
import { once, readBody, sendJson } from './http';
import { REQUEST_ID_HEADER, requestIdFrom, type Logger } from './logger';
import type { PubSub } from './pubsub';

type Identified = { id: string };

/** What every resolver receives: a request-scoped EntityManager, batching loaders, the request id. */
export interface SubgraphContext {
  em: EntityManager;
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

function createContext(orm: MikroORM, pubsub: PubSub, log: Logger, requestId: string): SubgraphContext {
  const em = orm.em.fork() as EntityManager;
  const loaders = new Map<ClassType<Identified>, DataLoader<string, Identified | null>>();
  const context: SubgraphContext = {
    em,
    requestId,
    pubsub,
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

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    res.setHeader(REQUEST_ID_HEADER, requestId);
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
      context: async () => createContext(orm, options.pubsub, log, requestId),
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
          ? orm.isConnected().then((db) =>
              sendJson(res, db ? 200 : 503, {
                status: db ? 'ok' : 'degraded',
                service: definition.name,
                database: db,
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
      context: (ctx) => {
        const params = ctx.connectionParams as Record<string, unknown> | undefined;
        return createContext(
          orm,
          options.pubsub,
          log,
          requestIdFrom(params?.[REQUEST_ID_HEADER] as string | undefined),
        );
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
