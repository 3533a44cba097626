/**
 * Added latency of streamed chat tokens: from the moment an OpenAI-compatible upstream (a paced test
 * double) writes a token to the moment a client of the router receives it as a TOKEN event of
 * `chatEvents`, through the sessions subgraph (each event stored, then published on the pub/sub) and
 * the router, over graphql-ws and over GraphQL-over-SSE, at several numbers of concurrent streams.
 * Also checks every stream (each token exactly once, in order, ending with COMPLETED) and measures
 * the memory one open stream costs. Results go to bench/results/chat-latency.md.
 *
 *   npm run bench:chat                                 # graphql-ws and SSE, at 1, 100 and 500 streams
 *   TRANSPORTS=sse STREAMS=1,100 npm run bench:chat     # a subset
 *   TOKENS=50 INTERVAL_MS=20 STREAMS_PER_ACCOUNT=1 DB_POOL_MAX=20 npm run bench:chat
 *
 * Threads: the platform (router and six subgraphs) runs on the main thread, as in production one
 * process; the upstream double and the clients each run on a worker thread of their own, so that
 * neither the load they generate nor their own bookkeeping runs on the platform's event loop.
 * Times are `process.hrtime` (CLOCK_MONOTONIC), one clock for every thread: each token's text is
 * `<index>@<hrtime ns at write> ` and latency = hrtime at receipt − that stamp.
 *
 * Each round: N fresh sessions; each client subscribes to chatEvents(sessionId, afterSeq: 0) first
 * and proves its stream live with a one-token warm-up answer; then memory is taken, every client
 * sends its measured message, and the double holds all N answers until the N upstream requests have
 * arrived, then streams TOKENS tokens INTERVAL_MS apart in each, the N streams' phases spread evenly
 * over one interval (no synchronised bursts). To show where the time goes, the main thread also notes
 * when each token's event is handed to the platform's PubSub (a wrapper around its `publish`) and when
 * it comes back from it (a passive subscriber of the same topic); neither changes what is sent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';

// The platform's modules (MikroORM, the subgraphs, the router) are loaded on the main thread only:
// the worker threads run this same file and must stay light.
type PlatformModule = typeof import('../test/support/platform');
type GlobalSetupModule = typeof import('../test/support/global-setup');
type GlobalTeardownModule = typeof import('../test/support/global-teardown');
type LibModule = typeof import('../lib');
type PgModule = typeof import('pg');
type SupportModule = typeof import('./support');
type ChatEventsModule = typeof import('../subgraphs/sessions/chat.events');

const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

type Transport = 'graphql-ws' | 'sse';
const TRANSPORTS = list(process.env.TRANSPORTS, 'graphql-ws,sse') as Transport[];
const STREAMS = list(process.env.STREAMS, '1,100,500').map(Number);
const TOKENS = Number(process.env.TOKENS ?? 50);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 20);
const STREAMS_PER_ACCOUNT = Number(process.env.STREAMS_PER_ACCOUNT ?? 1);
const DB_POOL_MAX = process.env.DB_POOL_MAX ?? '20';
/** Requests (sign-ups, new sessions, messages) in flight at once while setting a round up. */
const SETUP_CONCURRENCY = 32;
/** Longer than the one catch-up read each new subscription makes 1 s after it opens. */
const SETTLE_MS = 1500;
const BENCH_MODEL = 'bench';
const WARM_MODEL = 'warm';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hrNow = () => process.hrtime.bigint();
const gc = (globalThis as { gc?: () => void }).gc;

async function eachLimited<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return results;
}

async function graphql<T>(url: string, credential: string, query: string, variables: object): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (response.status !== 200 || body.errors || !body.data)
    throw new Error(`GraphQL failed (${response.status}): ${JSON.stringify(body)}`);
  return body.data;
}

const START_SESSION = 'mutation ($input: StartSessionInput!) { startSession(input: $input) { id } }';
const SEND_MESSAGE =
  'mutation ($sessionId: ID!, $content: String!, $model: String) ' +
  '{ sendMessage(sessionId: $sessionId, content: $content, model: $model) { id } }';
const CHAT_EVENTS =
  'subscription ($sessionId: ID, $afterSeq: Int) ' +
  '{ chatEvents(sessionId: $sessionId, afterSeq: $afterSeq) { seq kind delta at error { code message } } }';

// --- a tiny request/response protocol between the main thread and the workers -------------------

type Role = 'double' | 'clients';
interface Call {
  id: number;
  method: string;
  args: unknown;
}
interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}
type Handlers = Record<string, (args: never) => unknown>;

function serve(handlers: Handlers): void {
  const port = parentPort!;
  port.on('message', (call: Call) => {
    Promise.resolve()
      .then(() => handlers[call.method](call.args as never))
      .then(
        (result) => port.postMessage({ id: call.id, result } satisfies Reply),
        (error: unknown) =>
          port.postMessage({ id: call.id, error: (error as Error)?.stack ?? String(error) } satisfies Reply),
      );
  });
}

class Remote {
  private readonly worker: Worker;
  private last = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(role: Role) {
    this.worker = new Worker(__filename, { workerData: { role } });
    this.worker.on('message', (reply: Reply) => {
      const call = this.calls.get(reply.id);
      this.calls.delete(reply.id);
      if (reply.error !== undefined) call?.reject(new Error(`${role} worker: ${reply.error}`));
      else call?.resolve(reply.result);
    });
    this.worker.on('error', (error) => {
      for (const call of this.calls.values()) call.reject(error);
      this.calls.clear();
    });
  }

  call<T>(method: string, args: object = {}): Promise<T> {
    const id = ++this.last;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, method, args } satisfies Call);
    });
  }

  terminate() {
    return this.worker.terminate();
  }
}

interface Memory {
  rss: number;
  heapUsed: number;
}
/** Collects garbage first when node runs with --expose-gc (the npm script does). */
function memory(): Memory {
  gc?.();
  const { rss, heapUsed } = process.memoryUsage(); // heapUsed: this thread's V8 heap only
  return { rss, heapUsed };
}

// --- the upstream: an OpenAI-compatible server that paces its tokens ------------------------------

interface DoubleStats {
  streams: number;
  tokensWritten: number;
  /** How late the double's timers wrote tokens against their schedule (ms), p50/p99/max. */
  lateness: { p50: number; p99: number; max: number };
  unexpectedRequests: number;
  closedEarly: number;
}

function runDouble(): void {
  const created = Math.floor(Date.now() / 1000);
  let nextId = 0;
  const chunk = (id: string, model: string, body: object) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, ...body })}\n\n`;
  const choice = (id: string, model: string, delta: object, finish: string | null) =>
    chunk(id, model, { choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const finish = (res: ServerResponse, id: string, model: string, tokens: number) => {
    res.write(choice(id, model, {}, 'stop'));
    res.write(
      chunk(id, model, {
        choices: [],
        usage: { prompt_tokens: 8, completion_tokens: tokens, total_tokens: 8 + tokens },
      }),
    );
    res.end('data: [DONE]\n\n');
  };

  interface Held {
    res: ServerResponse;
    id: string;
  }
  let round:
    | { expected: number; tokens: number; intervalMs: number; held: Held[]; paced?: Promise<void>[] }
    | undefined;
  let lateness: number[] = [];
  let tokensWritten = 0;
  let unexpected = 0;
  let closedEarly = 0;

  async function pace(held: Held, startAt: number, tokens: number, intervalMs: number) {
    for (let index = 0; index < tokens; index++) {
      const due = startAt + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (held.res.destroyed) {
        closedEarly++;
        return;
      }
      lateness.push(performance.now() - due);
      held.res.write(choice(held.id, BENCH_MODEL, { content: `${index}@${hrNow()} ` }, null));
      tokensWritten++;
    }
    finish(held.res, held.id, BENCH_MODEL, tokens);
  }

  async function answer(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const data = [BENCH_MODEL, WARM_MODEL].map((id) => ({ id, object: 'model', owned_by: 'bench' }));
      res.end(JSON.stringify({ object: 'list', data }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `unknown path ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString() || '{}') as { model?: string; stream?: boolean };
    if (body.stream !== true) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: 'this double only streams', type: 'invalid_request_error' } }),
      );
      return;
    }
    const model = String(body.model);
    const id = `chatcmpl-${++nextId}`;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(choice(id, model, { role: 'assistant', content: '' }, null));
    if (model === BENCH_MODEL && round && !round.paced) {
      round.held.push({ res, id });
      return;
    }
    if (model === BENCH_MODEL) unexpected++;
    res.write(choice(id, model, { content: 'ready' }, null));
    finish(res, id, model, 1);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`),
    ),
  );

  serve({
    url: () => listening,
    /** Holds the next `expected` answers of the bench model until release. */
    arm: ({ expected, tokens, intervalMs }: { expected: number; tokens: number; intervalMs: number }) => {
      round = { expected, tokens, intervalMs, held: [] };
      lateness = [];
      tokensWritten = 0;
      unexpected = 0;
      closedEarly = 0;
    },
    /** Waits for the expected requests (or the timeout), then starts every held answer. */
    release: async ({ timeoutMs }: { timeoutMs: number }) => {
      const current = round!;
      const deadline = performance.now() + timeoutMs;
      while (current.held.length < current.expected && performance.now() < deadline) await sleep(5);
      const startAt = performance.now() + 5;
      const spread = current.intervalMs / Math.max(1, current.held.length);
      current.paced = current.held.map((held, i) =>
        pace(held, startAt + i * spread, current.tokens, current.intervalMs),
      );
      return { arrived: current.held.length };
    },
    finished: async ({ timeoutMs }: { timeoutMs: number }): Promise<DoubleStats> => {
      const current = round!;
      await Promise.race([Promise.all(current.paced ?? []), sleep(timeoutMs)]);
      const sorted = Float64Array.from(lateness).sort();
      round = undefined;
      return {
        streams: current.held.length,
        tokensWritten,
        lateness: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN },
        unexpectedRequests: unexpected,
        closedEarly,
      };
    },
    memory: () => memory(),
  });
}

// --- the clients: one subscription per session, each checked and timed ---------------------------

/** The double's tokens in a TOKEN delta (one or several, as `<index>@<ns> `); undefined if it holds anything else. */
function parseTokens(delta: string | null): { index: number; written: bigint }[] | undefined {
  if (!delta || !/^(?:\d+@\d+ )+$/.test(delta)) return undefined;
  return [...delta.matchAll(/(\d+)@(\d+) /g)].map((match) => ({
    index: Number(match[1]),
    written: BigInt(match[2]),
  }));
}

interface StreamSpec {
  sessionId: string;
  credential: string;
}
interface ChatEventData {
  chatEvents: {
    seq: number;
    kind: 'STARTED' | 'TOKEN' | 'COMPLETED' | 'ERROR';
    delta: string | null;
    at: string;
    error: { code: string; message: string } | null;
  };
}

interface RoundResult {
  streams: number;
  completed: number;
  endedWithError: number;
  unfinished: number;
  tokensExpected: number;
  tokensReceived: number;
  lost: number;
  duplicated: number;
  reordered: number;
  malformed: number;
  /** TOKEN events received; fewer than tokens when the subgraph sends several tokens in one. */
  tokenEvents: number;
  seqGaps: number;
  seqRepeats: number;
  failures: string[];
  /** ms, one per TOKEN received. */
  latencies: Float64Array;
  /** Per session and token index: hrtime (ms) it was written upstream, its event's `at`, its receipt. */
  receipts: { sessionId: string; received: Float64Array; written: Float64Array; stamped: Float64Array }[];
}

class Watcher {
  phase: 'warming' | 'idle' | 'measuring' | 'done' = 'warming';
  /** The measured message was sent in this session. */
  sent = false;
  lastSeq = 0;
  seqGaps = 0;
  seqRepeats = 0;
  seen: Uint8Array;
  /** hrtime (ms) at which each token index first arrived. */
  receipts: Float64Array;
  /** hrtime (ms) at which the double wrote each token index. */
  writes: Float64Array;
  /** The `at` of the event that brought each token index, on the hrtime clock (ms, ±1). */
  stamps: Float64Array;
  maxIndex = -1;
  duplicated = 0;
  reordered = 0;
  malformed = 0;
  tokenEvents = 0;
  end: 'COMPLETED' | 'ERROR' | undefined;
  failure: string | undefined;
  warmed: Promise<void>;
  ended: Promise<void>;
  dispose: () => void = () => undefined;
  private resolveWarmed!: () => void;
  private resolveEnded!: () => void;

  constructor(
    readonly spec: StreamSpec,
    tokens: number,
  ) {
    this.seen = new Uint8Array(tokens);
    this.receipts = new Float64Array(tokens).fill(NaN);
    this.writes = new Float64Array(tokens).fill(NaN);
    this.stamps = new Float64Array(tokens).fill(NaN);
    this.warmed = new Promise((resolve) => (this.resolveWarmed = resolve));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  fail(reason: string) {
    this.failure ??= reason;
    if (this.phase !== 'done') this.phase = 'done';
    this.resolveWarmed();
    this.resolveEnded();
  }

  warm() {
    this.phase = 'idle';
    this.resolveWarmed();
  }

  finish(kind: 'COMPLETED' | 'ERROR') {
    this.end = kind;
    this.phase = 'done';
    this.resolveEnded();
  }
}

function runClients(): void {
  // Maps the subgraph's wall-clock `at` (ms) onto the monotonic clock, to ±1 ms.
  const wallMinusHr = Date.now() - Number(hrNow()) / 1e6;
  let watchers: Watcher[] = [];
  let latencies: number[] = [];
  let malformedSamples: string[] = [];
  let tokens = 0;
  let graphqlUrl = '';

  function onEvent(watcher: Watcher, event: ChatEventData['chatEvents']) {
    const received = hrNow();
    if (event.seq === watcher.lastSeq + 1) watcher.lastSeq = event.seq;
    else if (event.seq <= watcher.lastSeq) watcher.seqRepeats++;
    else {
      watcher.seqGaps += event.seq - watcher.lastSeq - 1;
      watcher.lastSeq = event.seq;
    }
    if (watcher.phase === 'warming') {
      if (event.kind === 'COMPLETED') watcher.warm();
      else if (event.kind === 'ERROR') watcher.fail(`warm-up ended with ${JSON.stringify(event.error)}`);
      return;
    }
    if (watcher.phase === 'done') return;
    watcher.phase = 'measuring';
    if (event.kind === 'TOKEN') {
      watcher.tokenEvents++;
      const tokens = parseTokens(event.delta);
      if (!tokens) {
        watcher.malformed++;
        if (malformedSamples.length < 3) malformedSamples.push(JSON.stringify(event.delta));
        return;
      }
      // The subgraph may send several upstream tokens as one TOKEN event: each is timed on its own.
      for (const { index, written } of tokens) {
        latencies.push(Number(received - written) / 1e6);
        if (index >= watcher.seen.length || watcher.seen[index]) watcher.duplicated++;
        else {
          watcher.seen[index] = 1;
          watcher.receipts[index] = Number(received) / 1e6;
          watcher.writes[index] = Number(written) / 1e6;
          watcher.stamps[index] = Date.parse(event.at) - wallMinusHr;
        }
        if (index < watcher.maxIndex) watcher.reordered++;
        watcher.maxIndex = Math.max(watcher.maxIndex, index);
      }
    } else if (event.kind === 'COMPLETED' || event.kind === 'ERROR') {
      if (event.kind === 'ERROR') watcher.failure ??= `answer ended with ${JSON.stringify(event.error)}`;
      watcher.finish(event.kind);
    }
  }

  function subscribe(watcher: Watcher, transport: Transport) {
    const authorization = `Bearer ${watcher.spec.credential}`;
    const request = { query: CHAT_EVENTS, variables: { sessionId: watcher.spec.sessionId, afterSeq: 0 } };
    const sink = {
      next: (result: { data?: ChatEventData | null; errors?: readonly unknown[] }) => {
        if (result.errors?.length || !result.data) watcher.fail(`errors: ${JSON.stringify(result.errors)}`);
        else onEvent(watcher, result.data.chatEvents);
      },
      error: (error: unknown) => watcher.fail(`${transport} error: ${describe(error)}`),
      complete: () => {
        if (watcher.phase !== 'done') watcher.fail(`${transport} subscription ended early`);
      },
    };
    if (transport === 'graphql-ws') {
      const client = createWsClient({
        url: graphqlUrl.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization },
      });
      const unsubscribe = client.subscribe<ChatEventData>(request, sink);
      watcher.dispose = () => {
        unsubscribe();
        void client.dispose();
      };
    } else {
      const client = createSseClient({ url: graphqlUrl, retryAttempts: 0, headers: { authorization } });
      const unsubscribe = client.subscribe<ChatEventData>(request, sink);
      watcher.dispose = () => {
        unsubscribe();
        client.dispose();
      };
    }
  }

  const failures = () =>
    watchers
      .map((watcher) => watcher.failure)
      .filter((failure): failure is string => Boolean(failure))
      .slice(0, 5);

  serve({
    /** Subscribes one client per session, then proves each stream live with a warm-up answer. */
    open: async (args: {
      transport: Transport;
      url: string;
      streams: StreamSpec[];
      tokens: number;
      timeoutMs: number;
    }) => {
      graphqlUrl = args.url;
      tokens = args.tokens;
      watchers = args.streams.map((spec) => new Watcher(spec, tokens));
      const started = performance.now();
      for (const watcher of watchers) subscribe(watcher, args.transport);
      await eachLimited(watchers, SETUP_CONCURRENCY, (watcher) =>
        graphql(graphqlUrl, watcher.spec.credential, SEND_MESSAGE, {
          sessionId: watcher.spec.sessionId,
          content: 'warm up',
          model: WARM_MODEL,
        }).catch((error: unknown) => watcher.fail(`warm-up message refused: ${describe(error)}`)),
      );
      await Promise.race([Promise.all(watchers.map((watcher) => watcher.warmed)), sleep(args.timeoutMs)]);
      for (const watcher of watchers)
        if (watcher.phase === 'warming') watcher.fail('no warm-up answer within the timeout');
      const ready = watchers.filter((watcher) => watcher.phase === 'idle').length;
      return { ready, failures: failures(), seconds: (performance.now() - started) / 1000 };
    },
    /** Sends the measured message in every live session. */
    send: async ({ content }: { content: string }) => {
      const live = watchers.filter((watcher) => watcher.phase === 'idle');
      for (const watcher of live) watcher.sent = true;
      const started = performance.now();
      await eachLimited(live, SETUP_CONCURRENCY, (watcher) =>
        graphql(graphqlUrl, watcher.spec.credential, SEND_MESSAGE, {
          sessionId: watcher.spec.sessionId,
          content,
          model: BENCH_MODEL,
        }).catch((error: unknown) => watcher.fail(`message refused: ${describe(error)}`)),
      );
      const sent = live.filter((watcher) => !watcher.failure).length;
      return { sent, seconds: (performance.now() - started) / 1000 };
    },
    /** Waits until every measured stream ended (or the timeout) and hands back what came. */
    collect: async ({ timeoutMs }: { timeoutMs: number }): Promise<RoundResult> => {
      const measured = watchers.filter((watcher) => watcher.sent);
      await Promise.race([Promise.all(measured.map((watcher) => watcher.ended)), sleep(timeoutMs)]);
      const sum = (pick: (watcher: Watcher) => number) => measured.reduce((n, w) => n + pick(w), 0);
      const received = sum((watcher) => watcher.seen.reduce((n, seen) => n + seen, 0));
      const result: RoundResult = {
        streams: measured.length,
        completed: measured.filter((watcher) => watcher.end === 'COMPLETED').length,
        endedWithError: measured.filter((watcher) => watcher.end === 'ERROR').length,
        unfinished: measured.filter((watcher) => watcher.end === undefined).length,
        tokensExpected: measured.length * tokens,
        tokensReceived: received,
        lost: measured.length * tokens - received,
        duplicated: sum((watcher) => watcher.duplicated),
        reordered: sum((watcher) => watcher.reordered),
        malformed: sum((watcher) => watcher.malformed),
        tokenEvents: sum((watcher) => watcher.tokenEvents),
        seqGaps: sum((watcher) => watcher.seqGaps),
        seqRepeats: sum((watcher) => watcher.seqRepeats),
        failures: [
          ...failures(),
          ...malformedSamples.map((delta) => `TOKEN delta ${delta} is not a token the double wrote`),
        ],
        latencies: Float64Array.from(latencies),
        receipts: measured.map((watcher) => ({
          sessionId: watcher.spec.sessionId,
          received: watcher.receipts,
          written: watcher.writes,
          stamped: watcher.stamps,
        })),
      };
      latencies = [];
      malformedSamples = [];
      return result;
    },
    close: async () => {
      for (const watcher of watchers) watcher.dispose();
      watchers = [];
      await sleep(500);
      return memory();
    },
    memory: () => memory(),
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error && 'code' in error && 'reason' in error)
    return `closed ${String((error as { code: unknown }).code)} ${String((error as { reason: unknown }).reason)}`;
  return JSON.stringify(error);
}

// --- the main thread: the platform, the rounds, the report ---------------------------------------

/** Notes `at` (hrtime ms) as the moment of each token in `delta` that has none yet. */
function recordTokens(times: Float64Array | undefined, delta: string | null, at: number): void {
  if (!times) return;
  for (const { index } of parseTokens(delta) ?? []) if (Number.isNaN(times[index])) times[index] = at;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Busy and total clock ticks of the whole machine, from /proc/stat (Linux). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** CPU clock ticks (user + system) a local process has used, from /proc/<pid>/stat; 0 if unreadable. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

/** Where the CPU went while tokens streamed, in % of one core. */
interface CpuShare {
  node: number;
  /** The PostgreSQL backends serving this benchmark's database (when the server runs on this machine). */
  postgres: number | undefined;
  /** PostgreSQL's other processes: WAL writer, checkpointer, other databases' backends. */
  otherPostgres: number | undefined;
  /** Everything else on the machine: other programs, and kernel work not charged to a process. */
  rest: number | undefined;
}

/** Every local PostgreSQL process (postmaster, background workers, backends of any database). */
function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

function cpuMeter(backendPids: () => Promise<number[]>) {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const ticksOf = (pids: number[]) => new Map(pids.map((pid) => [pid, processTicks(pid)]));
  const grown = (now: Map<number, number>, before: Map<number, number>) =>
    [...now].reduce((sum, [pid, ticks]) => sum + ticks - (before.get(pid) ?? 0), 0);
  return async () => {
    const started = performance.now();
    const node0 = process.cpuUsage();
    const machine0 = machineTicks();
    const backends0 = ticksOf(await backendPids());
    const postgres0 = ticksOf(postgresPids());
    return async (): Promise<CpuShare> => {
      const elapsedMs = performance.now() - started;
      const node = process.cpuUsage(node0);
      const machine1 = machineTicks();
      const backends1 = ticksOf(await backendPids());
      const postgres1 = ticksOf(postgresPids());
      const percent = (ticks: number) => ((ticks / ticksPerSecond) * 100_000) / elapsedMs;
      const nodePct = ((node.user + node.system) / 1000 / elapsedMs) * 100;
      const ours = backends1.size ? percent(grown(backends1, backends0)) : undefined;
      const allPostgres = postgres1.size ? percent(grown(postgres1, postgres0)) : undefined;
      const machinePct =
        machine0 && machine1
          ? ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100 * cpus().length
          : undefined;
      return {
        node: nodePct,
        postgres: ours,
        otherPostgres:
          allPostgres === undefined || ours === undefined ? undefined : Math.max(0, allPostgres - ours),
        rest:
          machinePct === undefined
            ? undefined
            : Math.max(0, machinePct - nodePct - Math.max(allPostgres ?? 0, ours ?? 0)),
      };
    };
  };
}

/** Samples what the benchmark database's active backends wait on; returns the most frequent waits. */
function waitSampler(database: InstanceType<PgModule['Client']>, name: string) {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await database.query<{ wait: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, 'running') as wait from pg_stat_activity
          where datname = $1 and state = 'active' and pid <> pg_backend_pid()`,
        [name],
      );
      for (const { wait } of rows) counts.set(wait, (counts.get(wait) ?? 0) + 1);
      samples += rows.length;
      await sleep(50);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([wait, count]) => `${wait} ${Math.round((count / samples) * 100)}%`)
      .join(', ');
  };
}

const STAGES = {
  built: 'write → event built (`at`)',
  publishing: 'built → publish starts',
  delivered: 'publish starts → back from the pub/sub',
  received: 'back from the pub/sub → client',
} as const;
type Stage = keyof typeof STAGES;

interface Row {
  transport: Transport;
  streams: number;
  opened: number;
  openSeconds: number;
  sendSeconds: number;
  result: RoundResult;
  double: DoubleStats;
  sorted: Float64Array;
  /** Per stage of a token's way, its durations (ms), sorted. */
  stages: Record<Stage, Float64Array>;
  rssPerStream: number;
  serverHeapPerStream: number;
  clientHeapPerStream: number;
  peakRss: number;
  cpu: CpuShare;
  /** Share of the time the platform's event loop (the main thread) was busy. */
  loopBusy: number;
  loopDelayP99: number;
  postgresWaits: string;
  streamSeconds: number;
}

const kib = (bytes: number) => Math.round(bytes / 1024);
const mib = (bytes: number) => Math.round(bytes / 1048576);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const pct = (value: number | undefined) => (value === undefined ? 'n/a' : String(Math.round(value)));

async function main() {
  const benchStarted = performance.now();
  const load = createRequire(__filename);
  load('reflect-metadata');
  const { startTestPlatform } = load('../test/support/platform') as PlatformModule;
  const globalSetup = (load('../test/support/global-setup') as GlobalSetupModule).default;
  const globalTeardown = (load('../test/support/global-teardown') as GlobalTeardownModule).default;
  const { projectRoot } = load('../lib') as LibModule;
  const { chatTopic } = load('../subgraphs/sessions/chat.events') as ChatEventsModule;
  const pg = load('pg') as PgModule;

  if (!gc) console.warn('run node with --expose-gc (as npm run bench:chat does) for steadier memory figures');
  const double = new Remote('double');
  const clients = new Remote('clients');
  const doubleUrl = await double.call<string>('url');
  // The sessions subgraph reads LLM_* from process.env at first use, as in test/sessions.test.ts.
  Object.assign(process.env, { LLM_BASE_URL: doubleUrl, LLM_API_KEY: 'sk-bench' });

  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const t = await startTestPlatform({
    DB_POOL_MAX,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
  });
  const database = new pg.Client({ connectionString: t.databaseUrl });
  await database.connect();
  const postgresVersion = (
    await database.query<{ v: string }>("select current_setting('server_version') as v")
  ).rows[0].v;
  const databaseName = new URL(t.databaseUrl).pathname.slice(1);
  const local = ['127.0.0.1', 'localhost', '::1'].includes(new URL(t.databaseUrl).hostname);
  const backendPids = async () =>
    local
      ? (
          await database.query<{ pid: number }>(
            'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [databaseName],
          )
        ).rows.map((row) => row.pid)
      : [];
  const startCpuMeter = cpuMeter(backendPids);

  // Times each token's event as the platform hands it to the pub/sub (the sessions subgraph shares this
  // PubSub; its runner calls publish when the turn's previous publish is done). Timing only: it passes on.
  let published = new Map<string, Float64Array>();
  const { pubsub } = t.platform;
  const publish = pubsub.publish.bind(pubsub);
  pubsub.publish = (topic, payload) => {
    const event = payload as { sessionId?: string; kind?: string; delta?: string | null };
    if (event.kind === 'TOKEN' && event.sessionId)
      recordTokens(published.get(event.sessionId), event.delta ?? null, Number(hrNow()) / 1e6);
    return publish(topic, payload);
  };

  const accountsNeeded = Math.ceil(Math.max(...STREAMS) / STREAMS_PER_ACCOUNT);
  const signUpStarted = performance.now();
  const accounts = await eachLimited(Array.from({ length: accountsNeeded }), SETUP_CONCURRENCY, () =>
    t.register('Bench'),
  );
  console.log(`${accounts.length} accounts in ${((performance.now() - signUpStarted) / 1000).toFixed(1)} s`);

  const rows: Row[] = [];
  // Smallest rounds first, both transports at each size, so that each memory baseline follows a round no
  // larger than the one measured (a process gives memory back slowly after a big round).
  for (const streams of STREAMS) {
    for (const transport of TRANSPORTS) {
      const owners = Array.from({ length: streams }, (_, i) => accounts[Math.floor(i / STREAMS_PER_ACCOUNT)]);
      const specs = await eachLimited(owners, SETUP_CONCURRENCY, async (owner, i) => {
        const { startSession } = await graphql<{ startSession: { id: string } }>(
          t.graphqlUrl,
          owner.credential!,
          START_SESSION,
          { input: { title: `bench ${transport} ${streams} #${i}` } },
        );
        return { sessionId: startSession.id, credential: owner.credential! };
      });

      // A passive listener on the same pub/sub topics, inside the platform's process: when each token
      // came back from the pub/sub (stored, published and delivered), before any GraphQL layer.
      const timesOf = () =>
        new Map(specs.map((spec) => [spec.sessionId, new Float64Array(TOKENS).fill(NaN)]));
      const delivered = timesOf();
      published = timesOf();
      const probes = [...new Set(owners.map((owner) => owner.id))].map((id) =>
        t.platform.pubsub.subscribe(chatTopic(id)),
      );
      for (const probe of probes)
        void (async () => {
          for await (const payload of probe) {
            const arrived = Number(hrNow()) / 1e6;
            const event = payload as { sessionId: string; kind: string; delta: string | null };
            const times = event.kind === 'TOKEN' ? delivered.get(event.sessionId) : undefined;
            recordTokens(times, event.delta, arrived);
          }
        })();

      await sleep(1000); // lets the previous round's connections and buffers go before the baseline
      const before = memory();
      const clientsBefore = await clients.call<Memory>('memory');
      const opened = await clients.call<{ ready: number; failures: string[]; seconds: number }>('open', {
        transport,
        url: t.graphqlUrl,
        streams: specs,
        tokens: TOKENS,
        timeoutMs: 120_000,
      });
      await sleep(SETTLE_MS);
      const after = memory();
      const clientsAfter = await clients.call<Memory>('memory');

      await double.call('arm', { expected: opened.ready, tokens: TOKENS, intervalMs: INTERVAL_MS });
      const sent = await clients.call<{ sent: number; seconds: number }>('send', {
        content: 'Stream please',
      });
      await double.call('release', { timeoutMs: 30_000 });
      const streamStarted = performance.now();
      const stopCpuMeter = await startCpuMeter();
      const loopDelay = monitorEventLoopDelay({ resolution: 5 });
      loopDelay.enable();
      const loop0 = performance.eventLoopUtilization();
      const stopWaits = waitSampler(database, databaseName);
      let peakRss = process.memoryUsage().rss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
      const result = await clients.call<RoundResult>('collect', {
        timeoutMs: TOKENS * INTERVAL_MS + 180_000,
      });
      clearInterval(sampler);
      loopDelay.disable();
      const loopBusy = performance.eventLoopUtilization(loop0).utilization;
      const postgresWaits = await stopWaits();
      const streamSeconds = (performance.now() - streamStarted) / 1000;
      const cpu = await stopCpuMeter();
      const doubleStats = await double.call<DoubleStats>('finished', { timeoutMs: 10_000 });
      await clients.call('close');
      for (const probe of probes) await probe.return?.();

      // Splits each token's latency at the moments the platform built, published and got back its event.
      const stages: Record<Stage, number[]> = { built: [], publishing: [], delivered: [], received: [] };
      for (const { sessionId, received, written, stamped } of result.receipts) {
        const publishedAt = published.get(sessionId)!;
        const deliveredAt = delivered.get(sessionId)!;
        received.forEach((receipt, index) => {
          const moments = [written[index], stamped[index], publishedAt[index], deliveredAt[index], receipt];
          if (moments.some(Number.isNaN)) return;
          (Object.keys(stages) as Stage[]).forEach((stage, i) =>
            stages[stage].push(moments[i + 1] - moments[i]),
          );
        });
      }

      const n = Math.max(1, opened.ready);
      const row: Row = {
        transport,
        streams,
        opened: opened.ready,
        openSeconds: opened.seconds,
        sendSeconds: sent.seconds,
        result,
        double: doubleStats,
        sorted: Float64Array.from(result.latencies).sort(),
        stages: Object.fromEntries(
          Object.entries(stages).map(([stage, values]) => [stage, Float64Array.from(values).sort()]),
        ) as Record<Stage, Float64Array>,
        rssPerStream: (after.rss - before.rss) / n,
        serverHeapPerStream: (after.heapUsed - before.heapUsed) / n,
        clientHeapPerStream: (clientsAfter.heapUsed - clientsBefore.heapUsed) / n,
        peakRss,
        cpu,
        loopBusy,
        loopDelayP99: loopDelay.percentile(99) / 1e6,
        postgresWaits,
        streamSeconds,
      };
      rows.push(row);
      console.log(
        `${transport} × ${streams}: ${opened.ready} open, ${result.tokensReceived}/${result.tokensExpected} tokens, ` +
          `lost ${result.lost}, reordered ${result.reordered}, duplicated ${result.duplicated}, ` +
          `p50 ${ms(percentile(row.sorted, 50))} ms, p99 ${ms(percentile(row.sorted, 99))} ms, ` +
          `max ${ms(row.sorted.at(-1) ?? NaN)} ms; stage medians ` +
          (Object.keys(STAGES) as Stage[]).map((stage) => ms(percentile(row.stages[stage], 50))).join(' + ') +
          ` ms; ${streamSeconds.toFixed(1)} s` +
          (opened.failures.length || result.failures.length
            ? `\n  failures: ${[...opened.failures, ...result.failures].join('\n  ')}`
            : ''),
      );
    }
  }
  await database.end();

  const file = join(projectRoot(), 'bench', 'results', 'chat-latency.md');
  rows.sort(
    (a, b) =>
      TRANSPORTS.indexOf(a.transport) - TRANSPORTS.indexOf(b.transport) ||
      STREAMS.indexOf(a.streams) - STREAMS.indexOf(b.streams),
  );
  const markdown = report(rows, {
    postgresVersion,
    accounts: accounts.length,
    minutes: (performance.now() - benchStarted) / 60_000,
  });
  await (load('./support') as SupportModule).writeResults(file, markdown);

  await Promise.all([clients.terminate(), double.terminate()]);
  await t.close();
  await globalTeardown();
}

function report(rows: Row[], facts: { postgresVersion: string; accounts: number; minutes: number }): string {
  const cpu = cpus();
  const table = (header: string[], lines: (string | number)[][]) =>
    [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const name = (row: Row) => `${row.transport} × ${row.streams}`;

  const latency = table(
    [
      'run',
      'tokens received / expected',
      'TOKEN events (tokens per event)',
      'median (ms)',
      'p90 (ms)',
      'p99 (ms)',
      'max (ms)',
      'lost',
      'reordered',
      'duplicated',
      'streams ending COMPLETED',
    ],
    rows.map((row) => [
      name(row),
      `${row.result.tokensReceived} / ${row.result.tokensExpected}`,
      `${row.result.tokenEvents} (${(row.result.tokensReceived / Math.max(1, row.result.tokenEvents)).toFixed(2)})`,
      ms(percentile(row.sorted, 50)),
      ms(percentile(row.sorted, 90)),
      ms(percentile(row.sorted, 99)),
      ms(row.sorted.at(-1) ?? NaN),
      row.result.lost,
      row.result.reordered,
      row.result.duplicated,
      `${row.result.completed} / ${row.streams}`,
    ]),
  );
  const split = table(
    [
      'run',
      ...Object.values(STAGES).map((stage) => `${stage}: median / p99 (ms)`),
      'seconds streaming (nominal ' + ((TOKENS * INTERVAL_MS) / 1000).toFixed(1) + ')',
      'platform event loop busy / delay p99',
      'CPU %: node / its PostgreSQL backends / other PostgreSQL / rest',
      'PostgreSQL backends mostly (share of samples)',
      'double timer lateness p99 (ms)',
    ],
    rows.map((row) => [
      name(row),
      ...(Object.keys(STAGES) as Stage[]).map(
        (stage) => `${ms(percentile(row.stages[stage], 50))} / ${ms(percentile(row.stages[stage], 99))}`,
      ),
      row.streamSeconds.toFixed(1),
      `${Math.round(row.loopBusy * 100)}% / ${ms(row.loopDelayP99)} ms`,
      `${pct(row.cpu.node)} / ${pct(row.cpu.postgres)} / ${pct(row.cpu.otherPostgres)} / ${pct(row.cpu.rest)}`,
      row.postgresWaits || 'n/a',
      ms(row.double.lateness.p99),
    ]),
  );
  const resources = table(
    [
      'run',
      'streams open',
      'seconds to open and warm up',
      'RSS per open stream (KiB)',
      'platform heap per open stream (KiB)',
      'client heap per open stream (KiB)',
      'peak RSS while streaming (MiB)',
      'seconds to send the N messages',
    ],
    rows.map((row) => [
      name(row),
      `${row.opened} / ${row.streams}`,
      row.openSeconds.toFixed(1),
      kib(row.rssPerStream),
      kib(row.serverHeapPerStream),
      kib(row.clientHeapPerStream),
      mib(row.peakRss),
      row.sendSeconds.toFixed(1),
    ]),
  );
  const oddities = rows.flatMap((row) => {
    const r = row.result;
    const notes = [
      r.seqGaps && `${r.seqGaps} session seq numbers skipped`,
      r.seqRepeats && `${r.seqRepeats} session seq numbers repeated`,
      r.malformed && `${r.malformed} TOKEN deltas not as written upstream`,
      r.endedWithError && `${r.endedWithError} streams ended with ERROR`,
      r.unfinished && `${r.unfinished} streams had not ended at the timeout`,
      row.double.tokensWritten < row.opened * TOKENS &&
        `the double wrote ${row.double.tokensWritten} of ${row.opened * TOKENS} tokens`,
      row.double.unexpectedRequests && `${row.double.unexpectedRequests} upstream requests after the release`,
      row.double.closedEarly && `${row.double.closedEarly} upstream answers closed by the subgraph early`,
      ...r.failures.map((failure) => `failure: ${failure}`),
    ].filter(Boolean);
    return notes.length ? [`- ${name(row)}: ${notes.join('; ')}`] : [];
  });

  const verdicts = TRANSPORTS.flatMap((transport) => {
    const lines: string[] = [];
    const at100 = rows.find((row) => row.transport === transport && row.streams === 100);
    if (at100) {
      const median = percentile(at100.sorted, 50);
      const p99 = percentile(at100.sorted, 99);
      lines.push(
        `- ${transport}, 100 streams: median ${ms(median)} ms (target < 2 ms: ${median < 2 ? 'met' : 'MISSED'}), ` +
          `p99 ${ms(p99)} ms (target < 20 ms: ${p99 < 20 ? 'met' : 'MISSED'})`,
      );
    }
    const at500 = rows.find((row) => row.transport === transport && row.streams === 500);
    if (at500) {
      const r = at500.result;
      const clean = r.lost === 0 && r.reordered === 0 && r.duplicated === 0 && r.completed === at500.streams;
      lines.push(
        `- ${transport}, 500 streams: ${r.lost} lost, ${r.reordered} reordered, ${r.duplicated} duplicated, ` +
          `${r.completed} / ${at500.streams} completed (target: none lost or reordered: ${clean ? 'met' : 'MISSED'})`,
      );
    }
    return lines;
  });

  return [
    '# Chat token latency through the sessions subgraph and the router',
    '',
    `\`npm run bench:chat\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, PostgreSQL ${facts.postgresVersion} ` +
      `(${process.env.DATABASE_URL ? 'the server at DATABASE_URL' : 'embedded'}), pub/sub: ` +
      `${process.env.REDIS_URL ? 'Redis' : 'PostgreSQL LISTEN/NOTIFY'}, DB_POOL_MAX ${DB_POOL_MAX}; ` +
      `the whole run took ${facts.minutes.toFixed(1)} minutes.`,
    '',
    `Each stream: its own session, ${STREAMS_PER_ACCOUNT} stream(s) per account (${facts.accounts} accounts); ` +
      `a client subscribes to \`chatEvents(sessionId, afterSeq: 0)\` through the router, a one-token warm-up ` +
      `answer proves the stream live, then one message whose answer the OpenAI-compatible double streams as ` +
      `${TOKENS} tokens ${INTERVAL_MS} ms apart, all N answers at once with their phases spread over one interval. ` +
      `Latency = client receipt − upstream write of each token, on one monotonic clock; it includes the ` +
      `subgraph storing each event before publishing it. One process: router and six subgraphs on the main ` +
      `thread, the upstream double and the clients on two worker threads.`,
    '',
    '## Added latency per token, and stream integrity',
    '',
    'Each upstream token carries its index and write time, so every token is timed and checked on its own, ' +
      'also when the sessions subgraph sends several tokens as one TOKEN event (tokens per event above 1). ' +
      'Lost: tokens written upstream that no TOKEN event brought; reordered: tokens that came after a later ' +
      'one; duplicated: tokens that came twice. Every stream must end with COMPLETED.',
    '',
    latency,
    '',
    '## Where the time goes',
    '',
    'Each token’s latency split in four consecutive stages (medians need not add up to the total’s median). ' +
      '(1) Write → event built: the token waits in the sessions subgraph until its TOKEN event is built — ' +
      'reading the upstream, and waiting while the turn’s previous event is stored; `at`, the event’s ' +
      'wall-clock stamp, has millisecond resolution, so stages 1 and 2 are ±1 ms. (2) Built → publish starts: ' +
      'the event is inserted, then waits for the turn’s previous publish (the benchmark wraps the platform’s ' +
      'PubSub.publish to note the moment). (3) Publish starts → back from the pub/sub: the publish itself ' +
      '(pg_notify on the pub/sub’s pool) and the delivery to the platform’s listener (a passive subscriber of ' +
      'the same topic notes the moment). (4) Back from the pub/sub → client: the subgraph’s subscription, the ' +
      'subgraph → router and router → client hops. CPU is measured while the ' +
      'tokens stream, in % of one core: this node process (all its threads), the PostgreSQL backends ' +
      'connected to the benchmark’s database, PostgreSQL’s other processes (WAL writer, checkpointer, other ' +
      'databases) and the rest of the machine (other programs, kernel work charged to no process). ' +
      'PostgreSQL waits: what the active backends of the benchmark’s database were waiting on, sampled every ' +
      '50 ms (`running` = on CPU).',
    '',
    split,
    '',
    '## Memory per open stream',
    '',
    'Measured after garbage collection, before the N subscriptions open and once they are open and idle. ' +
      'RSS is the whole process (platform and clients); the platform heap is the main thread (router and ' +
      'subgraphs) and the client heap the clients’ worker thread. PostgreSQL’s memory is not included. ' +
      'With one stream the delta is within the noise of garbage collection and the allocator (it can come ' +
      'out negative); read the 100- and 500-stream rows.',
    '',
    resources,
    '',
    '## Targets',
    '',
    ...(verdicts.length ? verdicts : ['- (the runs for 100 and 500 streams were not part of this run)']),
    '',
    ...(oddities.length ? ['## Anything unexpected', '', ...oddities, ''] : []),
  ].join('\n');
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else if ((workerData as { role: Role }).role === 'double') {
  runDouble();
} else {
  runClients();
}
