import { isAsyncIterable } from '@graphql-tools/utils';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { IDENTITY_HEADER, requireSignedCaller, type Caller } from './identity';
import { REQUEST_ID_HEADER, requestIdFrom } from './logger';
import { metrics } from './metrics';

/** Who one subscription runs as, with the signed header it came in (forwarded to peers). */
export interface OperationCaller {
  caller: Caller;
  identityHeader: string;
  requestId: string;
}

type Params = Record<string, unknown> | undefined;

/**
 * The caller of one operation on a graphql-ws connection. A connection the router opened carries
 * many callers' subscriptions (router/upstream-ws.ts): each operation then runs as the identity
 * signed in its own `extensions`, and one without it is refused; the router's own identity is never
 * an operation's. A connection opened with any other identity runs every operation as that one.
 */
export function operationCaller(
  params: Params,
  payload: SubscribePayload,
  secret: string,
): OperationCaller | GraphQLError {
  try {
    const connectionHeader = params?.[IDENTITY_HEADER] as string | undefined;
    const connection = requireSignedCaller(connectionHeader, secret);
    if (connection.kind !== 'router')
      return {
        caller: connection,
        identityHeader: connectionHeader!,
        requestId: requestIdFrom(params?.[REQUEST_ID_HEADER] as string | undefined),
      };
    const extensions = payload.extensions ?? {};
    const identityHeader = extensions[IDENTITY_HEADER];
    if (typeof identityHeader !== 'string')
      return unauthenticated('an operation on the router’s connection carries its caller’s identity');
    const caller = requireSignedCaller(identityHeader, secret);
    if (caller.kind === 'router') return unauthenticated('the router’s identity is not an operation’s');
    const requestId = requestIdFrom(extensions[REQUEST_ID_HEADER] as string | undefined);
    return { caller, identityHeader, requestId };
  } catch (error) {
    return unauthenticated((error as Error).message);
  }
}

const unauthenticated = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });

/**
 * graphql-ws on the subgraph's HTTP server. A connection whose identity does not verify is closed
 * (4403) before any subscription; an operation whose caller does not verify gets its own error and
 * the connection, which may carry other callers' subscriptions, stays open.
 */
export function serveSubscriptions(options: {
  server: Server;
  schema: GraphQLSchema;
  subgraph: string;
  secret: string;
  context(operation: OperationCaller): unknown;
}) {
  const { subgraph, secret } = options;
  const wss = new WebSocketServer({ server: options.server, path: '/graphql' });
  /** Per connection, the ids of its operations that are streams, counted until they complete. */
  const streams = new WeakMap<object, Set<string>>();
  wss.on('connection', (socket) => {
    metrics.subgraphSocketsOpened.inc({ subgraph });
    metrics.subgraphSockets.inc({ subgraph });
    socket.once('close', () => metrics.subgraphSockets.dec({ subgraph }));
  });
  const ws = useServer(
    {
      schema: options.schema,
      onConnect: (ctx) => {
        try {
          requireSignedCaller(ctx.connectionParams?.[IDENTITY_HEADER] as string | undefined, secret);
          return true;
        } catch {
          return false;
        }
      },
      // A throw here would close the whole connection: a refusal is this operation's error.
      onSubscribe: (ctx, _id, payload) => {
        const operation = operationCaller(ctx.connectionParams, payload, secret);
        return operation instanceof GraphQLError ? [operation] : undefined;
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        if (!isAsyncIterable(result)) return;
        streams.set(ctx, (streams.get(ctx) ?? new Set()).add(id));
        metrics.subgraphSubscriptions.inc({ subgraph });
      },
      onComplete: (ctx, id) => {
        if (streams.get(ctx)?.delete(id)) metrics.subgraphSubscriptions.dec({ subgraph });
      },
      context: (ctx, _id, payload) => {
        const operation = operationCaller(ctx.connectionParams, payload, secret);
        // Verified in onSubscribe an instant ago; should the token expire in between, nobody.
        return options.context(
          operation instanceof GraphQLError
            ? { caller: { kind: 'anonymous' }, identityHeader: '', requestId: requestIdFrom(undefined) }
            : operation,
        );
      },
    },
    wss,
  );
  return {
    close: async () => {
      await ws.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
