import { buildGraphQLWSExecutor } from '@graphql-tools/executor-graphql-ws';
import type { DisposableExecutor, Transport } from '@graphql-mesh/transport-common';
import type { ExecutionRequest } from '@graphql-tools/utils';
import { createGraphQLError } from '@graphql-tools/utils';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { IDENTITY_HEADER, REQUEST_ID_HEADER, ROUTER_PRINCIPAL, signIdentity } from '../lib';

/**
 * Subscriptions to subgraphs over graphql-ws, multiplexed: one socket per subgraph for the whole
 * router process, carrying every caller's subscriptions (issue 18).
 *
 * Hive Gateway's own ws transport keys its sockets by their connection params, and the caller's
 * signed identity sat in them, so each subscribing request opened a socket of its own. Here the
 * socket itself is the router's (signed afresh at every connect, so a reconnect never presents an
 * expired token), and each operation carries its caller's signed identity in the subscribe
 * message's `extensions`; the subgraph (lib/subgraph.ts) runs each operation as that caller and
 * refuses one that carries none.
 */
export function multiplexedWsTransport(internalSecret: string): Transport {
  return {
    getSubgraphExecutor({ transportEntry, log }) {
      if (!transportEntry.location)
        throw new Error(`no subscription location for ${transportEntry.subgraph}`);
      const client = createClient({
        url: transportEntry.location.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        lazy: true,
        // Kept open a moment after the last subscription ends, for the next one.
        lazyCloseTimeout: 3_000,
        connectionParams: () => ({ [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, internalSecret) }),
        on: {
          closed: (event) =>
            log.debug(
              { subgraph: transportEntry.subgraph, code: (event as { code?: number }).code },
              'upstream ws closed',
            ),
        },
      });
      const upstream = buildGraphQLWSExecutor(client);
      const executor = (request: ExecutionRequest) => {
        const caller = callerExtensions(request);
        if (!caller) {
          // Never run an operation as the socket's own (router) identity.
          return {
            errors: [
              createGraphQLError('subscription without a caller identity', {
                extensions: { code: 'INTERNAL_SERVER_ERROR' },
              }),
            ],
          };
        }
        return upstream({ ...request, extensions: { ...request.extensions, ...caller } });
      };
      return Object.assign(executor, {
        [Symbol.asyncDispose]: async () => client.dispose(),
      }) as DisposableExecutor;
    },
  };
}

/** The caller's signed identity and request id, as the gateway's context holds them (gateway.ts). */
function callerExtensions(request: ExecutionRequest): Record<string, string> | undefined {
  const context = request.context as
    { agentryIdentity?: string; request?: { headers: { get(name: string): string | null } } } | undefined;
  const identity = context?.agentryIdentity;
  if (!identity) return undefined;
  const requestId = context?.request?.headers.get(REQUEST_ID_HEADER);
  return { [IDENTITY_HEADER]: identity, ...(requestId && { [REQUEST_ID_HEADER]: requestId }) };
}
