/**
 * Added latency of streamed chat tokens: from the moment an OpenAI-compatible upstream (a paced test
 * double) writes a token to the moment a client of the router receives it as a TOKEN event of
 * `chatEvents`, through the sessions subgraph (each event published at once, stored meanwhile) and
 * the router, over graphql-ws and over GraphQL-over-SSE, at several numbers of concurrent streams.
 * Also checks every stream (each token exactly once, in order, ending with COMPLETED) and measures
 * the memory one open stream costs. Results go to bench/results/chat-latency.md.
 *
 *   npm run bench:chat                                 # graphql-ws and SSE, at 1, 100 and 500 streams
 *   TRANSPORTS=sse STREAMS=1,100 npm run bench:chat     # a subset
 *   TOKENS=50 INTERVAL_MS=20 STREAMS_PER_ACCOUNT=1 DB_POOL_MAX=20 npm run bench:chat
 *
 * Processes: the platform runs as `npm start` runs it (bench/support.ts): the router in a process of
 * its own, the subgraphs in the others. The upstream double (chat/double.ts) and the clients
 * (chat/clients.ts) each run on a worker thread of this process. Times are `process.hrtime`
 * (CLOCK_MONOTONIC), one clock for every process: each token's text is `<index>@<hrtime ns at write> `
 * and latency = hrtime at receipt − that stamp.
 *
 * Each round: N fresh sessions; each client subscribes to chatEvents(sessionId, afterSeq: 0) first
 * and proves its stream live with a one-token warm-up answer; then memory is taken, every client
 * sends its measured message, and the double holds all N answers until the N upstream requests have
 * arrived, then streams TOKENS tokens INTERVAL_MS apart in each, the N streams' phases spread evenly
 * over one interval (no synchronised bursts). To show where the time goes, this process also listens
 * on the platform's pub/sub topics and notes when each token's event comes back from it.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createLogger, createPubSub, projectRoot } from '../lib';
import { chatTopic } from '../subgraphs/sessions/chat.events';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import {
  DB_POOL_MAX,
  eachLimited,
  graphql,
  hrNow,
  INTERVAL_MS,
  percentile,
  recordTokens,
  Remote,
  SETTLE_MS,
  SETUP_CONCURRENCY,
  sleep,
  START_SESSION,
  STREAMS,
  STREAMS_PER_ACCOUNT,
  TOKENS,
  TRANSPORTS,
  type DoubleStats,
  type Memory,
  type RoundResult,
} from './chat/common';
import { cpuMeter, waitSampler } from './chat/meters';
import { cpuPerToken, report, STAGES, type Row, type Stage } from './chat/report';
import { rssKiB, startAsNpmStart, writeResults } from './support';

const REGISTER =
  'mutation ($input: RegisterInput!) { register(input: $input) { accessToken account { id } } }';
const gc = (globalThis as { gc?: () => void }).gc;
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');

async function main() {
  const benchStarted = performance.now();
  if (!gc) console.warn('run node with --expose-gc (as npm run bench:chat does) for steadier memory figures');
  const double = new Remote('double');
  const clients = new Remote('clients');
  const doubleUrl = await double.call<string>('url');
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  // As `npm start` runs it; the workers take these settings from this process's environment.
  const t = await startAsNpmStart({
    DB_POOL_MAX,
    LLM_BASE_URL: doubleUrl,
    LLM_API_KEY: 'sk-bench',
    LOG_LEVEL: 'error', // each turn warns that no browser is installed for the browser plugin
  });
  const platformPids = Object.fromEntries(
    Object.entries(t.pids).map(([label, pid]) => [label.replace(/^subgraphs /, ''), pid]),
  );
  const routerPid = t.pids.router;
  const sessionsPid = Object.entries(t.pids).find(([label]) => /\bsessions\b/.test(label))![1];
  const platformRss = () => Object.values(t.pids).reduce((sum, pid) => sum + rssKiB(pid), 0);
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
  const startCpuMeter = cpuMeter(platformPids, backendPids);
  // A listener of the platform's pub/sub in this process: hears each event when the sessions subgraph does.
  const pubsub = createPubSub({ databaseUrl: t.databaseUrl, log: createLogger('bench', 'fatal') });

  const accountsNeeded = Math.ceil(Math.max(...STREAMS) / STREAMS_PER_ACCOUNT);
  const signUpStarted = performance.now();
  const accounts = await eachLimited(Array.from({ length: accountsNeeded }), SETUP_CONCURRENCY, (_, i) =>
    graphql<{ register: { accessToken: string; account: { id: string } } }>(t.graphqlUrl, '', REGISTER, {
      input: { email: `bench${i}@example.com`, password: 'benchmark password' },
    }).then(({ register }) => ({ id: register.account.id, credential: register.accessToken })),
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
          owner.credential,
          START_SESSION,
          { input: { title: `bench ${transport} ${streams} #${i}` } },
        );
        return { sessionId: startSession.id, credential: owner.credential };
      });

      // When each token came back from the pub/sub (published and delivered), before any GraphQL layer.
      const delivered = new Map(specs.map((spec) => [spec.sessionId, new Float64Array(TOKENS).fill(NaN)]));
      const probes = [...new Set(owners.map((owner) => owner.id))].map((id) =>
        pubsub.subscribe(chatTopic(id)),
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
      const before = { router: rssKiB(routerPid), sessions: rssKiB(sessionsPid) };
      const clientsBefore = await clients.call<Memory>('memory');
      const opened = await clients.call<{ ready: number; failures: string[]; seconds: number }>('open', {
        transport,
        url: t.graphqlUrl,
        streams: specs,
        tokens: TOKENS,
        timeoutMs: 120_000,
      });
      await sleep(SETTLE_MS);
      const after = { router: rssKiB(routerPid), sessions: rssKiB(sessionsPid) };
      const clientsAfter = await clients.call<Memory>('memory');

      await double.call('arm', { expected: opened.ready, tokens: TOKENS, intervalMs: INTERVAL_MS });
      const sent = await clients.call<{ sent: number; seconds: number }>('send', {
        content: 'Stream please',
      });
      await double.call('release', { timeoutMs: 30_000 });
      const streamStarted = performance.now();
      const stopCpuMeter = await startCpuMeter();
      const loadBefore = loadavg()[0];
      const stopWaits = waitSampler(database, databaseName);
      let peakRssKiB = platformRss();
      const sampler = setInterval(() => (peakRssKiB = Math.max(peakRssKiB, platformRss())), 100);
      const result = await clients.call<RoundResult>('collect', {
        timeoutMs: TOKENS * INTERVAL_MS + 180_000,
      });
      clearInterval(sampler);
      const loadAfter = loadavg()[0];
      const postgresWaits = await stopWaits();
      const streamSeconds = (performance.now() - streamStarted) / 1000;
      const cpu = await stopCpuMeter();
      const doubleStats = await double.call<DoubleStats>('finished', { timeoutMs: 10_000 });
      await clients.call('close');
      for (const probe of probes) await probe.return?.();

      // Splits each token's latency at the moments the platform built its event and the pub/sub delivered it.
      const stages: Record<Stage, number[]> = { built: [], delivered: [], received: [] };
      for (const { sessionId, received, written, stamped } of result.receipts) {
        const deliveredAt = delivered.get(sessionId)!;
        received.forEach((receipt, index) => {
          const moments = [written[index], stamped[index], deliveredAt[index], receipt];
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
        routerRssPerStream: (after.router - before.router) / n,
        sessionsRssPerStream: (after.sessions - before.sessions) / n,
        clientHeapPerStream: (clientsAfter.heapUsed - clientsBefore.heapUsed) / n,
        peakRssKiB,
        cpu,
        loadAverage: [loadBefore, loadAfter],
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
          ` ms; ${streamSeconds.toFixed(1)} s; load average ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)}; ` +
          `CPU ms per token: ${cpuPerToken(row)}` +
          (opened.failures.length || result.failures.length
            ? `\n  failures: ${[...opened.failures, ...result.failures].join('\n  ')}`
            : ''),
      );
    }
  }
  await database.end();
  await pubsub.close();

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
    subgraphProcesses: Object.keys(t.pids)
      .filter((label) => label !== 'router')
      .map((label) => label.replace(/^subgraphs /, '')),
  });
  await writeResults(file, markdown);

  await Promise.all([clients.terminate(), double.terminate()]);
  await t.close();
  await globalTeardown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
