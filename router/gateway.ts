import { createGatewayRuntime, getGraphQLWSOptions } from '@graphql-hive/gateway-runtime';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { once, REQUEST_ID_HEADER, requestIdFrom, sendJson, type Logger, type SubgraphName } from '../lib';
import { useVariableErrorCodes } from './error-codes';
import { checkHealth } from './health';

export interface RouterOptions {
  host: string;
  port: number;
  /** The composed supergraph SDL. */
  supergraph: string;
  /** Where each subgraph serves GraphQL; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<SubgraphName, string>;
  graphiql: boolean;
  version: string;
  log: Logger;
}

export interface RunningRouter {
  url: string;
  close(): Promise<void>;
}

/** Subscriptions reach subgraphs over graphql-ws on the same address as their HTTP endpoint. */
function transportEntries(urls: Record<SubgraphName, string>) {
  return Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [
      name,
      { location: url, options: { subscriptions: { kind: 'ws', location: url.replace(/^http/, 'ws') } } },
    ]),
  );
}

/** Hive Gateway serving the supergraph at /graphql over HTTP, SSE and graphql-ws, plus /health. */
export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const startedAt = Date.now();
  const gateway = createGatewayRuntime({
    supergraph: options.supergraph,
    transportEntries: transportEntries(options.subgraphUrls),
    graphqlEndpoint: '/graphql',
    graphiql: options.graphiql ? { title: 'Agentry' } : false,
    landingPage: false,
    logging: options.log.isLevelEnabled('trace') ? 'debug' : 'warn',
    plugins: () => [useVariableErrorCodes()],
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => ({
        [REQUEST_ID_HEADER]: request.headers.get(REQUEST_ID_HEADER) ?? '',
      }),
    },
  });

  const server = createServer((req: IncomingMessage, res) => {
    // One id per request, from the client when it sent a well-formed one, forwarded to every subgraph.
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      checkHealth(options.subgraphUrls, options.version, startedAt).then(
        (health) => sendJson(res, health.status === 'ok' ? 200 : 503, health),
        (error: unknown) => {
          options.log.error({ err: error }, 'health check failed');
          sendJson(res, 500, { status: 'error' });
        },
      );
      return;
    }
    void gateway(req, res);
  });

  const wss = new WebSocketServer({ server, path: gateway.graphqlEndpoint });
  const ws = useServer(
    getGraphQLWSOptions<Record<string, unknown>, Extra>(gateway, (ctx) => ({
      req: ctx.extra?.request,
      socket: ctx.extra?.socket,
    })),
    wss,
  );

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  options.log.info({ url: `${url}/graphql` }, 'router listening');

  return {
    url,
    close: once(async () => {
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.dispose();
    }),
  };
}
