/**
 * WebSocket endpoints of the dialects: a declared path whose frames come from a subscription run
 * through the router. The subscription is opened before the upgrade, so a refused one (bad
 * credential, bad parameter) is an ordinary HTTP error in the dialect's format, not a dead socket.
 *
 * A dialogue (AUTX's chat) is two-way instead: the upgrade carries no credential, the first frame
 * does, and each later frame is a request its handler answers with frames, running operations
 * through the router as the caller the credential names.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { GraphQLSchema } from 'graphql';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { IDENTITY_HEADER, MAX_BODY_BYTES, REQUEST_ID_HEADER, requestIdFrom, type Logger } from '../../lib';
import {
  forwardedHeaders,
  isEventStream,
  matchPattern,
  refuseBadText,
  SUBSCRIPTION_ACCEPT,
  type CompiledSocket,
  type Engine,
  type Execute,
} from './engine';
import { problemOf, RestError } from './errors';
import { readEventStream, splitUrl } from './http';
import type { Conversation, Dialect, Dialogue, Frame, Problem } from './types';
import { buildVariables, checkVariables, operationOf, type Operation } from './variables';

/** The edge's decision for a connection: its identity headers, and whether its rate limit allows it. */
export interface Admission {
  headers: Record<string, string>;
  allowed: boolean;
}
/**
 * Admits a connection by its request's credential, or by `credential` when given (a dialogue's auth
 * frame); without either, by `ticket` (a socket ticket, redeemed and so used up).
 */
export type Admit = (req: IncomingMessage, credential?: string, ticket?: string) => Promise<Admission>;

/** Close codes in graphql-ws's convention (4400, 4401, …), so clients of both read them alike. */
const closeCode = (status: number) => (status >= 500 ? 1011 : 4000 + status);

/** The largest client frame a socket with an `ack` answers. */
const MAX_CLIENT_FRAME_BYTES = 4096;

/** A dialogue's client has this long to send its credential (graphql-ws closes such a socket with 4408). */
export const AUTH_TIMEOUT_MS = 10_000;

function refuseUpgrade(socket: Duplex, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
}

/** Identity comes only from the edge's admission, never from a header the client sent. */
function dropClaimedIdentity(req: IncomingMessage) {
  for (const name of Object.keys(req.headers)) if (name.startsWith('x-agentry-')) delete req.headers[name];
}

/**
 * Browsers always send Origin; a dialogue opened by a page of another site is refused. The
 * credential travels in a frame, never in a cookie, so this only keeps foreign pages out; clients
 * that send no Origin (SDKs, servers) pass. Same site means the Origin's host:port is the Host
 * header, as the client sent it (a proxy that rewrites Host must keep it).
 */
function sameOrigin(req: IncomingMessage): boolean {
  const { origin, host } = req.headers;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === host?.toLowerCase();
  } catch {
    return false; // "null" (sandboxed pages, files) and anything unreadable
  }
}

export interface SocketOptions {
  engine: Engine;
  execute: Execute;
  schema: GraphQLSchema;
  admit?: Admit;
  log: Logger;
}

export function createSocketServer({ engine, execute, schema, admit, log }: SocketOptions) {
  // A frame is held to the size of a request body; a larger one closes the socket with 1009.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  /** Work a dialogue does after its client left (closing what it opened), awaited by close(). */
  const leaving = new Set<Promise<unknown>>();

  /** Runs a socket's subscription through the router: its results, or the REST error of its refusal. */
  async function subscribe(
    compiled: CompiledSocket,
    variables: Record<string, unknown>,
    headers: Headers,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<Record<string, unknown>>> {
    const asSubscription = new Headers(headers);
    asSubscription.set('accept', SUBSCRIPTION_ACCEPT);
    const response = await execute(compiled.operation.text, variables, asSubscription, signal);
    if (!isEventStream(response)) {
      engine.dataOf(await response.json().catch(() => ({})), response.status, compiled, headers);
      throw new RestError('INTERNAL_SERVER_ERROR', `router answered ${response.status} to a subscription`);
    }
    return (async function* results() {
      for await (const message of readEventStream(response.body!, signal)) {
        if (message.event === 'complete') return;
        if (message.data) yield engine.dataOf(JSON.parse(message.data), 200, compiled, headers);
      }
    })();
  }

  /** The frames of several subscriptions as they come; ends when all have ended. */
  async function* merged(sources: AsyncGenerator<unknown>[]): AsyncGenerator<unknown> {
    const next = (i: number) => sources[i].next().then((result) => ({ i, result }));
    const pending = new Map(sources.map((_, i) => [i, next(i)]));
    while (pending.size) {
      const { i, result } = await Promise.race(pending.values());
      if (result.done) pending.delete(i);
      else {
        pending.set(i, next(i));
        yield result.value;
      }
    }
  }

  async function* framed<D>(results: AsyncGenerator<D>, frame: (data: D) => unknown) {
    for await (const data of results) yield frame(data);
  }

  const send = (ws: WebSocket, frame: unknown) => {
    if (frame !== null && frame !== undefined && ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };

  async function accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    dialect: Dialect,
    compiled: CompiledSocket,
    params: Record<string, string>,
    query: URLSearchParams,
  ): Promise<void> {
    const abort = new AbortController();
    const untrack = engine.track(abort);
    socket.once('close', () => {
      abort.abort();
      untrack();
    });
    dropClaimedIdentity(req);
    const ticket = compiled.spec.tickets ? (query.get('ticket') ?? undefined) : undefined;
    const admission = admit ? await admit(req, undefined, ticket) : { headers: {}, allowed: true };
    if (!admission.allowed)
      throw new RestError('RATE_LIMITED', 'rate limit exceeded, retry after the Retry-After seconds');
    const input = { params, query, body: {}, headers: req.headers };
    const variables = buildVariables(compiled.sources, input);
    checkVariables(schema, compiled.operation, variables, compiled.sources);
    const headers = forwardedHeaders(req, { headers: admission.headers });
    const main = framed(await subscribe(compiled, variables, headers, abort.signal), compiled.spec.frame);
    const feeds = await Promise.all(
      (compiled.spec.feeds ?? []).map(async ({ operation, frame }) => {
        const feed = {
          ...compiled,
          operation: operationFor(operation as TypedDocumentNode<unknown, unknown>),
        };
        return framed(await subscribe(feed, {}, headers, abort.signal), frame as (data: unknown) => unknown);
      }),
    );
    const frames = feeds.length ? merged([main, ...feeds]) : main;
    wss.handleUpgrade(req, socket, head, (ws) => void pump(ws, frames, abort, dialect, compiled));
  }

  async function pump(
    ws: WebSocket,
    frames: AsyncGenerator<unknown>,
    abort: AbortController,
    dialect: Dialect,
    compiled: CompiledSocket,
  ): Promise<void> {
    ws.on('close', () => abort.abort());
    ws.on('error', (error) => log.debug({ err: error }, 'REST socket error'));
    const ping = setInterval(() => ws.ping(), engine.heartbeatMs);
    const { spec } = compiled;
    send(ws, spec.hello ? spec.hello({ version: engine.version }) : spec.greeting);
    if (spec.ack !== undefined)
      ws.on('message', (raw: Buffer, binary: boolean) => {
        if (binary) return;
        // Ironclad closes on a frame over 4 KiB rather than buffer it.
        if (raw.length > MAX_CLIENT_FRAME_BYTES) ws.close(1009, 'frame too large');
        else send(ws, spec.ack);
      });
    try {
      for await (const frame of frames) send(ws, frame);
      ws.close(1000, 'subscription complete');
    } catch (error) {
      if (abort.signal.aborted) return;
      const style = compiled.spec.errors ?? dialect.errors;
      const problem = problemOf(error, style);
      if (problem.status === 500) log.error({ err: error, socket: compiled.spec.path }, 'REST socket failed');
      send(ws, { type: 'error', ...(style.body(problem) as object) });
      ws.close(closeCode(problem.status), problem.code);
    } finally {
      clearInterval(ping);
      abort.abort();
    }
  }

  const operations = new WeakMap<object, Operation>();
  const operationFor = (document: TypedDocumentNode<unknown, unknown>) => {
    let operation = operations.get(document);
    if (!operation) operations.set(document, (operation = operationOf(document)));
    return operation;
  };

  /**
   * One dialogue connection. Every frame after the first is admitted again with the same
   * credential, as an HTTP request would be: it counts against the caller's rate limit, a key
   * revoked meanwhile ends the conversation, and the signed identity forwarded is always fresh.
   */
  function converse(
    ws: WebSocket,
    req: IncomingMessage,
    dialect: Dialect,
    compiled: CompiledSocket,
    params: Record<string, string>,
  ) {
    const dialogue = compiled.spec.dialogue as Dialogue<unknown, unknown, unknown>;
    const style = compiled.spec.errors ?? dialect.errors;
    const abort = new AbortController();
    const untrack = engine.track(abort);
    abort.signal.addEventListener('abort', () => ws.close(1001, 'going away'), { once: true });
    const ping = setInterval(() => ws.ping(), engine.heartbeatMs);
    let credential: string | undefined;
    let state: unknown;
    let opened = false;
    let busy = false;

    const fail = (problem: Problem, close: boolean) => {
      send(ws, dialogue.error(problem));
      if (close) ws.close(closeCode(problem.status), problem.code);
    };
    const timeout = setTimeout(
      () => fail({ status: 408, code: 'AUTH_TIMEOUT', message: 'no auth frame came in time' }, true),
      AUTH_TIMEOUT_MS,
    );

    /** The caller's headers for this frame's operations; a credential that no longer resolves ends it. */
    async function admitted(limited: boolean): Promise<Headers> {
      const admission = admit ? await admit(req, credential) : { headers: {}, allowed: true };
      if (!admission.headers[IDENTITY_HEADER])
        throw new RestError('UNAUTHENTICATED', 'the token is not a valid API key or access token');
      if (limited && !admission.allowed)
        throw new RestError('RATE_LIMITED', 'rate limit exceeded, retry after the Retry-After seconds');
      const headers = forwardedHeaders(req, admission);
      headers.set(REQUEST_ID_HEADER, requestIdFrom(undefined));
      return headers;
    }

    const conversation = (headers: Headers): Conversation<unknown, unknown, unknown> => ({
      params,
      state,
      async run(document, variables) {
        const operation = operationFor(document as TypedDocumentNode<unknown, unknown>);
        const response = await execute(operation.text, variables as Record<string, unknown>, headers);
        const result = await response.json().catch(() => undefined);
        if (!result)
          throw new RestError('INTERNAL_SERVER_ERROR', `router answered ${response.status} without JSON`);
        return engine.dataOf(result, response.status, { ...compiled, operation }, headers) as never;
      },
      async stream(variables) {
        let last: Record<string, unknown> | undefined;
        const results = await subscribe(
          compiled,
          variables as Record<string, unknown>,
          headers,
          abort.signal,
        );
        for await (const data of results) send(ws, compiled.spec.frame((last = data)));
        return last;
      },
      send: (frame) => send(ws, frame),
    });

    /** The first frame: the credential, then the dialogue's own opening. Any refusal closes the socket. */
    async function authenticate(frame: Frame | undefined) {
      clearTimeout(timeout);
      credential = frame && dialogue.credential(frame);
      if (!credential) throw new RestError('UNAUTHENTICATED', 'the first frame must authenticate');
      const opening = await dialogue.open(conversation(await admitted(true)) as never);
      state = opening.state;
      opened = true;
      send(ws, opening.greeting);
    }

    async function respond(frame: Frame | undefined) {
      if (!frame) throw new RestError('BAD_REQUEST', 'a frame must be a JSON object');
      const handler = Object.hasOwn(dialogue.on, String(frame.type))
        ? dialogue.on[String(frame.type)]
        : undefined;
      if (!handler)
        throw new RestError(
          'BAD_REQUEST',
          `unknown frame type; send one of ${Object.keys(dialogue.on).join(', ')}`,
        );
      await handler(frame, conversation(await admitted(true)));
    }

    async function receive(raw: RawData) {
      if (ws.readyState !== ws.OPEN) return; // closing: frames still in flight are not answered
      if (busy)
        return fail(
          { status: 409, code: 'BUSY', message: 'the previous frame is still being answered' },
          false,
        );
      busy = true;
      const first = credential === undefined;
      let frame: Frame | undefined;
      try {
        const value: unknown = JSON.parse(raw.toString());
        if (value && typeof value === 'object' && !Array.isArray(value)) frame = value as Frame;
      } catch {
        // not JSON: handled as no frame at all
      }
      try {
        if (frame) refuseBadText(frame);
        await (first ? authenticate(frame) : respond(frame));
      } catch (error) {
        if (abort.signal.aborted) return;
        const problem = problemOf(error, style);
        if (problem.status === 500)
          log.error({ err: error, socket: compiled.spec.path }, 'REST dialogue failed');
        fail(problem, first || problem.status === 401);
      } finally {
        busy = false;
      }
    }

    ws.on('message', (raw) => void receive(raw));
    // A protocol error (oversized or malformed frame) closes the socket; without a listener it would throw.
    ws.on('error', (error) => log.debug({ err: error }, 'REST dialogue error'));
    ws.on('close', () => {
      clearTimeout(timeout);
      clearInterval(ping);
      abort.abort();
      untrack();
      if (!opened || !dialogue.close) return;
      const goodbye = admitted(false)
        .then((headers) => dialogue.close!(conversation(headers)))
        .catch((error: unknown) =>
          log.warn({ err: error, socket: compiled.spec.path }, 'REST dialogue close failed'),
        )
        .finally(() => leaving.delete(goodbye));
      leaving.add(goodbye);
    });
  }

  return {
    /** Takes an upgrade below a dialect's mount; false when no dialect owns the path. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      const { path, query } = splitUrl(req.url);
      const found = engine.locate(path);
      if (!found) return false;
      const { dialect, sockets } = found.compiled;
      const segments = found.below.split('/').filter(Boolean);
      const match = sockets
        .map((compiled) => ({ compiled, params: matchPattern(compiled.pattern, segments) }))
        .find(({ params }) => params);
      const refuse = (error: unknown) => {
        const style = match?.compiled.spec.errors ?? dialect.errors;
        const problem = problemOf(error, style);
        if (problem.status === 500) log.error({ err: error, path }, 'REST socket refused');
        refuseUpgrade(socket, problem.status, style.body(problem), dialect.headers);
      };
      if (!match?.params) refuse(new RestError('NOT_FOUND', `no WebSocket endpoint at ${found.below}`));
      else if (!match.compiled.spec.dialogue)
        accept(req, socket, head, dialect, match.compiled, match.params, query).catch(refuse);
      else if (!sameOrigin(req))
        refuse(new RestError('FORBIDDEN', 'WebSocket connections from this Origin are not allowed'));
      else {
        dropClaimedIdentity(req);
        // The dialogue's credential is its auth frame, never one the upgrade request carried.
        delete req.headers.authorization;
        delete req.headers['x-api-key'];
        wss.handleUpgrade(req, socket, head, (ws) =>
          converse(ws, req, dialect, match.compiled, match.params!),
        );
      }
      return true;
    },

    async close(): Promise<void> {
      // Each socket's own close handlers run first, so a dialogue's goodbye is in `leaving` before it is awaited.
      const closed = [...wss.clients].map((ws) => new Promise((resolve) => ws.once('close', resolve)));
      for (const ws of wss.clients) ws.terminate();
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await Promise.all(leaving);
    },
  };
}
