/**
 * What the chat-latency benchmark's threads share (bench/chat-latency.ts runs the rounds, double.ts and
 * clients.ts run on worker threads): its settings, a small request/response protocol between the
 * main thread and the workers, and the shapes they exchange.
 */
import { join } from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';

const list = (value: string | undefined, fallback: string) =>
  (value ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export type Transport = 'graphql-ws' | 'sse';
export const TRANSPORTS = list(process.env.TRANSPORTS, 'graphql-ws,sse') as Transport[];
export const STREAMS = list(process.env.STREAMS, '1,100,500').map(Number);
export const TOKENS = Number(process.env.TOKENS ?? 50);
export const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 20);
export const STREAMS_PER_ACCOUNT = Number(process.env.STREAMS_PER_ACCOUNT ?? 1);
export const DB_POOL_MAX = process.env.DB_POOL_MAX ?? '20';
/** Requests (sign-ups, new sessions, messages) in flight at once while setting a round up. */
export const SETUP_CONCURRENCY = 32;
/** Longer than the one catch-up read each new subscription makes 1 s after it opens. */
export const SETTLE_MS = 1500;
export const BENCH_MODEL = 'bench';
export const WARM_MODEL = 'warm';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const hrNow = () => process.hrtime.bigint();
const gc = (globalThis as { gc?: () => void }).gc;

export async function eachLimited<T, R>(
  items: T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
) {
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

export async function graphql<T>(
  url: string,
  credential: string,
  query: string,
  variables: object,
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential && { authorization: `Bearer ${credential}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (response.status !== 200 || body.errors || !body.data)
    throw new Error(`GraphQL failed (${response.status}): ${JSON.stringify(body)}`);
  return body.data;
}

export const START_SESSION = 'mutation ($input: StartSessionInput!) { startSession(input: $input) { id } }';
export const SEND_MESSAGE =
  'mutation ($sessionId: ID!, $content: String!, $model: String) ' +
  '{ sendMessage(sessionId: $sessionId, content: $content, model: $model) { id } }';
export const CHAT_EVENTS =
  'subscription ($sessionId: ID, $afterSeq: Int) ' +
  '{ chatEvents(sessionId: $sessionId, afterSeq: $afterSeq) { seq kind delta at error { code message } } }';

// --- a tiny request/response protocol between the main thread and the workers -------------------

export type Role = 'double' | 'clients';
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

export function serve(handlers: Handlers): void {
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

export class Remote {
  private readonly worker: Worker;
  private last = 0;
  private readonly calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(role: Role) {
    this.worker = new Worker(join(__dirname, `${role}.js`));
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

export interface Memory {
  rss: number;
  heapUsed: number;
}
/** Collects garbage first when node runs with --expose-gc (the npm script does). */
export function memory(): Memory {
  gc?.();
  const { rss, heapUsed } = process.memoryUsage(); // heapUsed: this thread's V8 heap only
  return { rss, heapUsed };
}

// --- the upstream: an OpenAI-compatible server that paces its tokens ------------------------------

export interface DoubleStats {
  streams: number;
  tokensWritten: number;
  /** How late the double's timers wrote tokens against their schedule (ms), p50/p99/max. */
  lateness: { p50: number; p99: number; max: number };
  unexpectedRequests: number;
  closedEarly: number;
}

/** The double's tokens in a TOKEN delta (one or several, as `<index>@<ns> `); undefined if it holds anything else. */
export function parseTokens(delta: string | null): { index: number; written: bigint }[] | undefined {
  if (!delta || !/^(?:\d+@\d+ )+$/.test(delta)) return undefined;
  return [...delta.matchAll(/(\d+)@(\d+) /g)].map((match) => ({
    index: Number(match[1]),
    written: BigInt(match[2]),
  }));
}

export interface StreamSpec {
  sessionId: string;
  credential: string;
}
export interface ChatEventData {
  chatEvents: {
    seq: number;
    kind: 'STARTED' | 'TOKEN' | 'COMPLETED' | 'ERROR';
    delta: string | null;
    at: string;
    error: { code: string; message: string } | null;
  };
}

export interface RoundResult {
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

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error && 'code' in error && 'reason' in error)
    return `closed ${String((error as { code: unknown }).code)} ${String((error as { reason: unknown }).reason)}`;
  return JSON.stringify(error);
}

/** Notes `at` (hrtime ms) as the moment of each token in `delta` that has none yet. */
export function recordTokens(times: Float64Array | undefined, delta: string | null, at: number): void {
  if (!times) return;
  for (const { index } of parseTokens(delta) ?? []) if (Number.isNaN(times[index])) times[index] = at;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
