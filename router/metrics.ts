/**
 * The router's /metrics: this process's registry plus, for subgraphs running as other processes,
 * their own figures (read as JSON with the router's signed identity) added up into one answer.
 * Served on the main port to a caller with METRICS_TOKEN, or on METRICS_PORT (an internal address).
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { isAsyncIterable } from '@graphql-tools/utils';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionResult } from 'graphql';
import {
  IDENTITY_HEADER,
  type Config,
  labelRequest,
  metrics,
  METRICS_PROCESS_HEADER,
  METRICS_PROCESS_ID,
  metricsRegistry,
  metricsText,
  operationLabel,
  PROMETHEUS_CONTENT_TYPE,
  ROUTER_PRINCIPAL,
  sendJson,
  signIdentity,
  type Logger,
  type MetricJson,
  type SubgraphName,
} from '../lib';

const seconds = (since: number) => (performance.now() - since) / 1000;

/** The name of a document's first operation when the client sent no operationName. */
const leadingName = (query: string | undefined) =>
  query && /^\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription)\s+(\w+)/.exec(query)?.[1];

/** GraphQL operation names, subgraph fetch times, open subscriptions and error codes. */
export function useMetrics(): GatewayPlugin {
  return {
    onParams({ params, context }) {
      const req = (context as { req?: IncomingMessage }).req;
      // Only requests that came in over /graphql: REST rows are labelled by their route instead.
      if (req)
        labelRequest(req, 'graphql', operationLabel(params.operationName ?? leadingName(params.query)));
    },
    onSubgraphExecute({ subgraphName }) {
      const started = performance.now();
      return () => metrics.subgraphSeconds.observe({ subgraph: subgraphName }, seconds(started));
    },
    onSubscribe() {
      return {
        onSubscribeResult() {
          metrics.subscriptions.inc();
          return { onEnd: () => metrics.subscriptions.dec() };
        },
      };
    },
    onResultProcess({ result }) {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      for (const error of (result as ExecutionResult).errors ?? [])
        metrics.errors.inc({ surface: 'graphql', code: String(error.extensions?.code ?? 'UNKNOWN') });
    },
  };
}

export interface MetricsEndpointOptions {
  token?: string;
  subgraphUrls: Record<SubgraphName, string>;
  internalSecret: string;
  log: Logger;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Answers /metrics: `protectedByToken` on the public port, open on the internal one. */
export function createMetricsEndpoint(options: MetricsEndpointOptions) {
  const expected = options.token ? digest(options.token) : undefined;

  /** Figures of subgraphs in other processes; one fetch per process, none for this one. */
  async function remoteFigures(): Promise<MetricJson[][]> {
    const headers = {
      accept: 'application/json',
      [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, options.internalSecret),
    };
    const seen = new Set<string>([METRICS_PROCESS_ID]);
    const sets: MetricJson[][] = [];
    for (const [name, url] of Object.entries(options.subgraphUrls)) {
      try {
        const response = await fetch(new URL('/metrics', url), {
          headers,
          signal: AbortSignal.timeout(5000),
        });
        const process = response.headers.get(METRICS_PROCESS_HEADER) ?? '';
        if (!response.ok || seen.has(process)) {
          await response.body?.cancel();
          continue;
        }
        seen.add(process);
        sets.push((await response.json()) as MetricJson[]);
      } catch (error) {
        options.log.warn({ err: error, subgraph: name }, 'subgraph metrics not read');
      }
    }
    return sets;
  }

  return async function serve(req: IncomingMessage, res: ServerResponse, protectedByToken: boolean) {
    if (protectedByToken) {
      const presented = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!expected || !presented || !timingSafeEqual(digest(presented), expected)) {
        return sendJson(res, expected ? 401 : 404, {
          errors: [
            {
              message: expected
                ? '/metrics needs Authorization: Bearer <METRICS_TOKEN>'
                : '/metrics is not served on this port (set METRICS_TOKEN or METRICS_PORT)',
              extensions: { code: expected ? 'UNAUTHENTICATED' : 'NOT_FOUND' },
            },
          ],
        });
      }
    }
    const own = await metricsRegistry.getMetricsAsJSON();
    res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE);
    res.end(await metricsText([own, ...(await remoteFigures())]));
  };
}

type ServeMetrics = ReturnType<typeof createMetricsEndpoint>;

/** METRICS_PORT: /metrics alone, without a token, on an address only the operator's network reaches. */
export async function startMetricsListener(config: Config, serve: ServeMetrics) {
  if (config.METRICS_PORT === undefined) return undefined;
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics')
      return sendJson(res, 404, { errors: [{ message: 'only /metrics is served here' }] });
    serve(req, res, false).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'metrics not gathered' }] });
    });
  });
  await new Promise<void>((resolve) => server.listen(config.METRICS_PORT, config.METRICS_HOST, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.METRICS_HOST}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
