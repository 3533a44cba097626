import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { defaultProtectSingleValidateFn, type ValidateUserFnParams } from '@envelop/generic-auth';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler as rustPlanner } from '@graphql-hive/router-runtime';
import { createGraphQLError } from '@graphql-tools/utils';
import httpTransport from '@graphql-mesh/transport-http';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import {
  ANONYMOUS_PRINCIPAL,
  callerFrom,
  IDENTITY_HEADER,
  inServerSpan,
  MAX_BODY_BYTES,
  metrics,
  observeRequest,
  once,
  REQUEST_ID_HEADER,
  requestIdFrom,
  requestLabel,
  sendJson,
  type Config,
  type Identity,
  type Logger,
  type SubgraphName,
} from '../lib';
import { graphqlErrorBody, useErrorCodes, useTransportErrors } from './error-codes';
import { unsafeParams, useSafeInput } from './safe-input';
import { useStableDocument } from './stable-document';
import { createDashboard } from './dashboard';
import { checkHealth } from './health';
import { useTracing } from './tracing';
import { multiplexedWsTransport } from './upstream-ws';
import { shareSubscriptions } from './shared-subscriptions';
import { createMetricsEndpoint, startMetricsListener, useMetrics } from './metrics';
import { createIdentityResolver, createIdentitySigner, credentialFrom, type Resolution } from './identity';
import {
  MemoryRateLimiter,
  RedisRateLimiter,
  writeRateLimitHeaders,
  type RateLimitResult,
} from './rate-limit';
import { createPaymentGate, createRestFacade, executeThrough, payerKeyOf } from './rest';

export interface Secrets {
  /** Signs and verifies access tokens (shared with the accounts subgraph). */
  jwt: string;
  /** Signs the identity forwarded to subgraphs (shared with every subgraph). */
  internal: string;
}

export interface RouterOptions {
  config: Config;
  secrets: Secrets;
  /** The composed supergraph SDL. */
  supergraph: string;
  /** Where each subgraph serves GraphQL; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<SubgraphName, string>;
  version: string;
  log: Logger;
}

export interface RunningRouter {
  url: string;
  /** The internal /metrics listener, when METRICS_PORT is set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

type WsExtra = Extra & Record<PropertyKey, unknown>;

/** Set by the router when a credential was presented but did not verify; never taken from a client. */
const AUTH_ERROR_HEADER = 'x-agentry-auth-error';

/** The edge's reading of a credential, as the REST dialects that require one need it. */
const CREDENTIAL_OF = { identity: 'valid', anonymous: 'none', invalid: 'invalid' } as const;

/** Node's HTTP parser failures that are not a plain 400, as Node itself answers them. */
const CLIENT_ERROR_STATUS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/**
 * Subscriptions reach subgraphs over graphql-ws, one multiplexed socket per subgraph
 * (router/upstream-ws.ts); everything else over HTTP.
 */
function transportEntries(urls: Record<SubgraphName, string>) {
  return Object.fromEntries(
    Object.entries(urls).map(([name, url]) => [
      name,
      { location: url, options: { subscriptions: { kind: 'ws', location: url } } },
    ]),
  );
}

/**
 * GraphiQL from the platform's own dependency: its scripts and styles are inlined in the page, so
 * it loads without internet. The page (about 9 MB) is rendered once.
 */
function offlineGraphiQL(): (options?: Parameters<typeof renderGraphiQL>[0]) => string {
  let page: string | undefined;
  return (options) => (page ??= renderGraphiQL(options));
}

/** Query shape limits; each rejection is a GraphQL error with a message, not a crash. */
function hardening(config: Config): GatewayPlugin[] {
  return [
    maxDepthPlugin({ n: config.MAX_QUERY_DEPTH, exposeLimits: true }),
    costLimitPlugin({ maxCost: config.MAX_QUERY_COST, exposeLimits: true }),
    maxAliasesPlugin({ n: config.MAX_QUERY_ALIASES, exposeLimits: true }),
    maxTokensPlugin({ n: config.MAX_QUERY_TOKENS, exposeLimits: true }),
  ] as GatewayPlugin[];
}

const refusal = (message: string, code: 'UNAUTHENTICATED' | 'FORBIDDEN') =>
  createGraphQLError(message, {
    extensions: { code, http: { status: code === 'UNAUTHENTICATED' ? 401 : 403 } },
  });

/**
 * The directives' verdict in the platform's codes: no identity is UNAUTHENTICATED (401), an
 * identity without the scope is FORBIDDEN (403).
 */
function validateCaller(params: ValidateUserFnParams<Record<string, unknown>>) {
  const error = defaultProtectSingleValidateFn(params);
  if (!error) return undefined;
  const field = params.fieldNode.name.value;
  return params.user
    ? refusal(`this credential lacks the scope ${field} needs`, 'FORBIDDEN')
    : refusal(`${field} needs a signed-in session or an API key`, 'UNAUTHENTICATED');
}

/** Hands the signed identity to the context, where the graphql-ws transport reads it per operation. */
const useIdentityContext = (anonymous: () => string): GatewayPlugin => ({
  onContextBuilding({ context, extendContext }) {
    extendContext({ agentryIdentity: context.request?.headers.get(IDENTITY_HEADER) || anonymous() });
  },
});

/**
 * The request id joins a subgraph fetch when it is sent, after Hive Gateway's in-flight
 * deduplication, whose key is URL, body and headers: with the id among the propagated headers no
 * two fetches were ever identical. Now identical queries of one caller (same signed identity,
 * router/identity.ts) share one fetch, which carries the id of the request that started it;
 * different callers' identity headers differ, so they never share one.
 */
const useUpstreamRequestId = (): GatewayPlugin => ({
  onFetch({ executionRequest, options }) {
    const requestId = (executionRequest?.context as { request?: Request } | undefined)?.request?.headers.get(
      REQUEST_ID_HEADER,
    );
    if (requestId) options.headers = { ...options.headers, [REQUEST_ID_HEADER]: requestId };
  },
});

/**
 * The edge: request id, credentials resolved once, a per-caller rate limit, then Hive Gateway at
 * /graphql (HTTP, SSE, graphql-ws) with @authenticated / @requiresScopes enforced, plus /health
 * and the live dashboard's files at /dashboard.
 */
const READMIT_AFTER_MS = 60_000;

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const { config, secrets, log } = options;
  const startedAt = Date.now();
  const resolveIdentity = createIdentityResolver({
    mode: config.AUTH_MODE,
    jwtSecret: secrets.jwt,
    internalSecret: secrets.internal,
    accountsUrl: options.subgraphUrls.accounts,
    cacheSeconds: config.API_KEY_CACHE_SECONDS,
    log,
  });
  const limiter = config.REDIS_URL
    ? new RedisRateLimiter(config.REDIS_URL, config.RATE_LIMIT_PER_MINUTE)
    : new MemoryRateLimiter(config.RATE_LIMIT_PER_MINUTE);

  const signIdentity = createIdentitySigner(secrets.internal);
  const anonymous = () => signIdentity(ANONYMOUS_PRINCIPAL);
  const serveDashboard = createDashboard();
  const gateway = createGatewayRuntime({
    supergraph: options.supergraph,
    // QUERY_PLANNER=rust: Hive's Rust query planner (issue 18). Not the default yet: a subgraph's
    // error on a subscription comes back as INTERNAL_SERVER_ERROR instead of its own code.
    ...(config.QUERY_PLANNER === 'rust' && { unifiedGraphHandler: rustPlanner }),
    transportEntries: transportEntries(options.subgraphUrls),
    transports: { http: httpTransport, ws: multiplexedWsTransport(secrets.internal) },
    graphqlEndpoint: '/graphql',
    graphiql: config.GRAPHIQL === 'true' ? { title: 'Agentry' } : false,
    renderGraphiQL: offlineGraphiQL(),
    landingPage: false,
    disableIntrospection: config.INTROSPECTION === 'false' ? { disableIf: () => true } : undefined,
    logging: log.isLevelEnabled('trace') ? 'debug' : 'warn',
    genericAuth: {
      mode: 'protect-granular',
      resolveUserFn: ({ request }: { request?: Request }): Identity | null => {
        const refused = request?.headers.get(AUTH_ERROR_HEADER);
        if (refused) throw refusal(refused, 'UNAUTHENTICATED');
        const header = request?.headers.get(IDENTITY_HEADER) ?? undefined;
        const known = header && signIdentity.signedBy(header);
        if (known) return known;
        const caller = callerFrom(header, secrets.internal);
        return caller.kind === 'account' ? caller.identity : null;
      },
      // Called for anonymous callers too, with no user.
      extractScopes: (identity?: Partial<Identity> | null) => identity?.scopes ?? [],
      validateUser: validateCaller,
      rejectUnauthenticated: true,
    },
    plugins: () => [
      useSafeInput(),
      ...hardening(config),
      useIdentityContext(anonymous),
      useStableDocument(),
      useUpstreamRequestId(),
      useErrorCodes(),
      useTransportErrors(),
      useMetrics(),
      useTracing(),
    ],
    propagateHeaders: {
      // Only the identity: the request id is added after deduplication (useUpstreamRequestId).
      fromClientToSubgraphs: ({ request }) => ({
        [IDENTITY_HEADER]: request.headers.get(IDENTITY_HEADER) || anonymous(),
      }),
    },
  });

  const callerKey = (resolution: Resolution, address: string | undefined) =>
    resolution.kind === 'identity'
      ? resolution.identity.apiKeyId
        ? `key:${resolution.identity.apiKeyId}`
        : `acc:${resolution.identity.accountId}`
      : `ip:${address ?? 'unknown'}`;

  /** Identity and rate limit for one HTTP request or WebSocket connection. */
  async function identify(credential: string | undefined, ticket?: string) {
    const resolution = await resolveIdentity(credential, ticket);
    const headers: Record<string, string> = {};
    if (resolution.kind === 'identity') headers[IDENTITY_HEADER] = signIdentity(resolution.identity);
    if (resolution.kind === 'invalid') headers[AUTH_ERROR_HEADER] = resolution.message;
    return { resolution, headers, credential: CREDENTIAL_OF[resolution.kind] };
  }

  async function admit(credential: string | undefined, address: string | undefined, ticket?: string) {
    const { resolution, headers, credential: verdict } = await identify(credential, ticket);
    const limit: RateLimitResult = await limiter.hit(callerKey(resolution, address));
    if (!limit.allowed) metrics.rateLimited.inc();
    return { limit, headers, credential: verdict };
  }

  const mppEnabled = config.MPP_ENABLED === 'true';
  const payments = mppEnabled
    ? createPaymentGate({
        priceMicroUsd: config.MPP_PRICE_MICRO_USD,
        secret: secrets.internal,
        subgraphUrls: options.subgraphUrls,
        payerOf: async (key) => {
          const resolution = await resolveIdentity(key);
          return resolution.kind === 'identity' ? resolution.identity : undefined;
        },
        log,
      })
    : undefined;

  // REST dialects run their operations through this gateway; their WebSockets pass the same edge.
  const rest = createRestFacade({
    payments,
    execute: executeThrough(gateway),
    config,
    log,
    version: options.version,
    admit: async (req, credential = credentialFrom(req.headers), ticket) => {
      const { limit, headers } = await admit(credential, req.socket.remoteAddress, ticket);
      return { headers, allowed: limit.allowed };
    },
  });

  const serveMetrics = createMetricsEndpoint({
    token: config.METRICS_TOKEN,
    subgraphUrls: options.subgraphUrls,
    internalSecret: secrets.internal,
    log,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    res.once('close', () => observeRequest(req, res.statusCode, (performance.now() - started) / 1000));
    // One id per request, from the client when it sent a well-formed one, forwarded to every subgraph.
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const path = (req.url ?? '/').split('?')[0];
    // Also below the hermes mount: Hermes Workspace probes /health beside the API it talks to.
    if (path === '/health' || path === `${config.REST_MOUNT_HERMES}/health`) {
      const health = await checkHealth(options.subgraphUrls, options.version, startedAt);
      return sendJson(res, health.status === 'ok' ? 200 : 503, health);
    }
    if (path === '/metrics') return serveMetrics(req, res, true);
    // Static files of the live dashboard: no credential, no rate limit (its API calls have both).
    if (await serveDashboard(req, res, path)) return;
    for (const name of Object.keys(req.headers)) if (name.startsWith('x-agentry-')) delete req.headers[name];

    const bearer = credentialFrom(req.headers);
    // An MPP payer's account is resolved here like a Bearer key, but kept aside: only a row whose
    // payment verifies runs as it (router/rest/mpp.ts); everything else sees no credential.
    const payerKey = mppEnabled && !bearer ? await payerKeyOf(req) : undefined;
    const admitted = await admit(bearer ?? payerKey, req.socket.remoteAddress);
    const { limit } = admitted;
    const { headers, credential } = payerKey ? await identify(undefined) : admitted;
    const payer = payerKey
      ? { headers: admitted.headers, credential: admitted.credential as 'valid' | 'invalid' }
      : undefined;
    writeRateLimitHeaders(res, limit);
    // REST dialects answer their own refusals (429, 413, …) in their documented error format.
    if (await rest.handle(req, res, { headers, rateLimited: !limit.allowed, credential, payer })) return;
    if (!limit.allowed) {
      return sendJson(res, 429, {
        errors: [
          {
            message: `rate limit of ${limit.limit} requests a minute exceeded`,
            extensions: { code: 'RATE_LIMITED' },
          },
        ],
      });
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BODY_BYTES) {
      return sendJson(res, 413, {
        errors: [
          {
            message: `request body is larger than ${MAX_BODY_BYTES} bytes`,
            extensions: { code: 'PAYLOAD_TOO_LARGE' },
          },
        ],
      });
    }
    if (req.method === 'POST' && req.headers['content-length'] === undefined) {
      return sendJson(res, 411, {
        errors: [
          { message: 'send a Content-Length with the request body', extensions: { code: 'BAD_REQUEST' } },
        ],
      });
    }
    Object.assign(req.headers, headers);
    await gateway(req, res);
  }

  const server = createServer((req, res) => {
    const name = () => `router ${req.method} ${requestLabel(req) ?? (req.url ?? '/').split('?')[0]}`;
    inServerSpan(req, res, name, () => handle(req, res)).catch((error: unknown) => {
      log.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error' }] });
      else res.end();
    });
  });
  // Bytes that are not HTTP (a body longer than its Content-Length runs into the next request) are
  // answered in the GraphQL error format, not Node's bare 400, and the connection is closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, reason] = CLIENT_ERROR_STATUS[error.code ?? ''] ?? [400, 'Bad Request'];
    const body = graphqlErrorBody(
      `the request is not valid HTTP (${error.code ?? 'unreadable'})`,
      'BAD_REQUEST',
    );
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  const wss = new WebSocketServer({ noServer: true, path: gateway.graphqlEndpoint });
  server.on('upgrade', (req, socket, head) => {
    if (!rest.handleUpgrade(req, socket, head))
      wss.handleUpgrade(req, socket, head, (client) => wss.emit('connection', client, req));
  });
  /** Per connection: its credential and the edge's last admission of it. */
  const admitted = new WeakMap<
    object,
    { credential?: string; address?: string; requestId: string; headers: Record<string, string>; at: number }
  >();
  /**
   * The signed identity expires (lib/identity.ts), and a key may be revoked while a connection
   * stays open: an operation on a connection admitted over a minute ago is admitted again.
   */
  const operationHeaders = async (socket: object): Promise<Record<string, string>> => {
    const entry = admitted.get(socket);
    if (!entry) return {};
    if (Date.now() - entry.at > READMIT_AFTER_MS) {
      const { headers } = await admit(entry.credential, entry.address);
      Object.assign(entry, { headers, at: Date.now() });
    }
    return { ...entry.headers, [REQUEST_ID_HEADER]: entry.requestId };
  };
  const wsOptions = getGraphQLWSOptions<Record<string, unknown>, WsExtra>(gateway, async (ctx) => ({
    request: new Request(`http://router${gateway.graphqlEndpoint}`, {
      headers: await operationHeaders(ctx.extra.socket),
    }),
  }));
  // Subscribers with the same caller and operation share one execution (router/shared-subscriptions.ts).
  const shared = shareSubscriptions(
    { onSubscribe: wsOptions.onSubscribe!, subscribe: wsOptions.subscribe! },
    secrets.internal,
  );
  const ws = useServer<Record<string, unknown>, WsExtra>(
    {
      ...wsOptions,
      subscribe: shared.subscribe,
      // An unsafe string is that operation's error; graphql-ws would close the whole socket on a throw.
      onSubscribe: (ctx, id, payload) => {
        const refused = unsafeParams(payload);
        return refused ? [refused] : shared.onSubscribe(ctx, id, payload);
      },
      // Credentials come in connectionParams (`authorization` or `x-api-key`); refused ones close with 4401.
      onConnect: async (ctx) => {
        const credential = credentialFrom(ctx.connectionParams);
        const address = ctx.extra.request.socket.remoteAddress;
        const { limit, headers } = await admit(credential, address);
        if (!limit.allowed) {
          ctx.extra.socket.close(4429, 'Too many requests');
          return false;
        }
        if (headers[AUTH_ERROR_HEADER]) {
          ctx.extra.socket.close(4401, 'Unauthorized');
          return false;
        }
        const requestId = requestIdFrom(ctx.connectionParams?.[REQUEST_ID_HEADER] as string | undefined);
        admitted.set(ctx.extra.socket, { credential, address, requestId, headers, at: Date.now() });
        return true;
      },
    },
    wss,
  );

  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  log.info({ url: `${url}/graphql` }, 'router listening');
  const internal = await startMetricsListener(config, serveMetrics);

  return {
    url,
    metricsUrl: internal?.url,
    close: once(async () => {
      await internal?.close();
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await rest.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.dispose();
      await limiter.close();
    }),
  };
}
