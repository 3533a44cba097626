/**
 * The chat benchmark's clients, on a worker thread of their own: one subscription per session
 * through the router, each token checked (once, in order) and timed on arrival.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  BENCH_MODEL,
  CHAT_EVENTS,
  describe,
  eachLimited,
  graphql,
  hrNow,
  memory,
  parseTokens,
  SEND_MESSAGE,
  serve,
  SETUP_CONCURRENCY,
  sleep,
  WARM_MODEL,
  type ChatEventData,
  type RoundResult,
  type StreamSpec,
  type Transport,
} from './common';

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

if (!isMainThread) runClients();
