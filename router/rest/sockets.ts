/**
 * WebSocket endpoints of the dialects: a declared path whose frames come from a subscription run
 * through the router. The subscription is opened before the upgrade, so a refused one (bad
 * credential, bad parameter) is an ordinary HTTP error in the dialect's format, not a dead socket.
 */
import type { GraphQLSchema } from 'graphql';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../lib';
import {
  forwardedHeaders,
  isEventStream,
  matchPattern,
  SUBSCRIPTION_ACCEPT,
  type CompiledSocket,
  type Engine,
  type Execute,
} from './engine';
import { problemOf, RestError } from './errors';
import { readEventStream, splitUrl } from './http';
import type { Dialect } from './types';
import { buildVariables, checkVariables } from './variables';

/** The edge's decision for a connection: its identity headers, and whether its rate limit allows it. */
export interface Admission {
  headers: Record<string, string>;
  allowed: boolean;
}
export type Admit = (req: IncomingMessage) => Promise<Admission>;

/** Close codes in graphql-ws's convention (4400, 4401, …), so clients of both read them alike. */
const closeCode = (status: number) => (status >= 500 ? 1011 : 4000 + status);

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

export interface SocketOptions {
  engine: Engine;
  execute: Execute;
  schema: GraphQLSchema;
  admit?: Admit;
  log: Logger;
}

export function createSocketServer({ engine, execute, schema, admit, log }: SocketOptions) {
  const wss = new WebSocketServer({ noServer: true });

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
    // Identity comes only from the edge's admission, never from a header the client sent.
    for (const name of Object.keys(req.headers)) if (name.startsWith('x-agentry-')) delete req.headers[name];
    const admission = admit ? await admit(req) : { headers: {}, allowed: true };
    if (!admission.allowed)
      throw new RestError('RATE_LIMITED', 'rate limit exceeded, retry after the Retry-After seconds');
    const input = { params, query, body: {}, headers: req.headers };
    const variables = buildVariables(compiled.sources, input);
    checkVariables(schema, compiled.operation, variables, compiled.sources);
    const headers = forwardedHeaders(req, { headers: admission.headers });
    headers.set('accept', SUBSCRIPTION_ACCEPT);
    const response = await execute(compiled.operation.text, variables, headers, abort.signal);
    if (!isEventStream(response)) {
      engine.dataOf(await response.json().catch(() => ({})), response.status, compiled, headers);
      throw new RestError('INTERNAL_SERVER_ERROR', `router answered ${response.status} to a subscription`);
    }
    const body = response.body!;
    wss.handleUpgrade(req, socket, head, (ws) => void pump(ws, body, abort, dialect, compiled, headers));
  }

  async function pump(
    ws: WebSocket,
    body: ReadableStream<Uint8Array>,
    abort: AbortController,
    dialect: Dialect,
    compiled: CompiledSocket,
    headers: Headers,
  ): Promise<void> {
    ws.on('close', () => abort.abort());
    const ping = setInterval(() => ws.ping(), engine.heartbeatMs);
    ws.send(JSON.stringify(compiled.spec.greeting));
    try {
      for await (const message of readEventStream(body, abort.signal)) {
        if (message.event === 'complete') break;
        if (!message.data) continue;
        const data = engine.dataOf(JSON.parse(message.data), 200, compiled, headers);
        ws.send(JSON.stringify(compiled.spec.frame(data)));
      }
      ws.close(1000, 'subscription complete');
    } catch (error) {
      if (abort.signal.aborted) return;
      const style = compiled.spec.errors ?? dialect.errors;
      const problem = problemOf(
        error instanceof RestError ? error : new RestError('INTERNAL_SERVER_ERROR', ''),
        style,
      );
      if (problem.status === 500) log.error({ err: error, socket: compiled.spec.path }, 'REST socket failed');
      ws.send(JSON.stringify({ type: 'error', ...(style.body(problem) as object) }));
      ws.close(closeCode(problem.status), problem.code);
    } finally {
      clearInterval(ping);
      abort.abort();
    }
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
        const problem = problemOf(
          error instanceof RestError ? error : new RestError('INTERNAL_SERVER_ERROR', ''),
          style,
        );
        if (problem.status === 500) log.error({ err: error, path }, 'REST socket refused');
        refuseUpgrade(socket, problem.status, style.body(problem), dialect.headers);
      };
      if (!match?.params) refuse(new RestError('NOT_FOUND', `no WebSocket endpoint at ${found.below}`));
      else accept(req, socket, head, dialect, match.compiled, match.params, query).catch(refuse);
      return true;
    },

    close(): Promise<void> {
      for (const ws of wss.clients) ws.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}
