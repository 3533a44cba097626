import { cpus, totalmem } from 'node:os';
import {
  DB_POOL_MAX,
  INTERVAL_MS,
  percentile,
  STREAMS_PER_ACCOUNT,
  TOKENS,
  type DoubleStats,
  type RoundResult,
  type Transport,
} from './common';
import type { CpuShare } from './meters';

export const STAGES = {
  built: 'write → event built (`at`)',
  delivered: 'built → back from the pub/sub',
  received: 'back from the pub/sub → client',
} as const;
export type Stage = keyof typeof STAGES;

/** One round: a transport at a number of streams. */
export interface Row {
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
  routerRssPerStream: number;
  sessionsRssPerStream: number;
  clientHeapPerStream: number;
  peakRssKiB: number;
  cpu: CpuShare;
  /** The machine's 1-minute load average when the tokens started and when they ended. */
  loadAverage: [number, number];
  postgresWaits: string;
  streamSeconds: number;
}

/**
 * CPU milliseconds per token received, in each of the platform's processes and in its PostgreSQL
 * backends: what a token costs, which a busy machine's other programs change far less than latency.
 */
export function cpuPerToken(row: Pick<Row, 'cpu' | 'streamSeconds' | 'result'>): string {
  const perToken = (percent: number | undefined) =>
    percent === undefined
      ? 'n/a'
      : ((percent / 100) * row.streamSeconds * 1000) / Math.max(1, row.result.tokensReceived);
  const { processes, postgres } = row.cpu;
  return [
    ...Object.entries(processes).filter(([label]) => !label.startsWith('bench')),
    ['PostgreSQL', postgres],
  ]
    .map(([label, percent]) => {
      const value = perToken(percent as number | undefined);
      return `${label as string} ${typeof value === 'number' ? value.toFixed(3) : value}`;
    })
    .join(', ');
}

const kib = (bytes: number) => Math.round(bytes / 1024);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
const pct = (value: number | undefined) => (value === undefined ? 'n/a' : String(Math.round(value)));

/** The results file's figures (the notes written by hand follow them). */
export function report(
  rows: Row[],
  facts: { postgresVersion: string; accounts: number; minutes: number; subgraphProcesses: string[] },
): string {
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
      'load average (1 min) before / after',
      'CPU ms per token',
      `CPU %: ${Object.keys(rows[0]?.cpu.processes ?? {}).join(' / ')} / its PostgreSQL backends / other PostgreSQL / rest`,
      'PostgreSQL backends mostly (share of samples)',
      'double timer lateness p99 (ms)',
    ],
    rows.map((row) => [
      name(row),
      ...(Object.keys(STAGES) as Stage[]).map(
        (stage) => `${ms(percentile(row.stages[stage], 50))} / ${ms(percentile(row.stages[stage], 99))}`,
      ),
      row.streamSeconds.toFixed(1),
      `${row.loadAverage[0].toFixed(2)} / ${row.loadAverage[1].toFixed(2)}`,
      cpuPerToken(row),
      [...Object.values(row.cpu.processes), row.cpu.postgres, row.cpu.otherPostgres, row.cpu.rest]
        .map(pct)
        .join(' / '),
      row.postgresWaits || 'n/a',
      ms(row.double.lateness.p99),
    ]),
  );
  const resources = table(
    [
      'run',
      'streams open',
      'seconds to open and warm up',
      'router RSS per open stream (KiB)',
      'sessions subgraph process RSS per open stream (KiB)',
      'client heap per open stream (KiB)',
      'peak RSS of the platform’s processes while streaming (MiB)',
      'seconds to send the N messages',
    ],
    rows.map((row) => [
      name(row),
      `${row.opened} / ${row.streams}`,
      row.openSeconds.toFixed(1),
      Math.round(row.routerRssPerStream),
      Math.round(row.sessionsRssPerStream),
      kib(row.clientHeapPerStream),
      Math.round(row.peakRssKiB / 1024),
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

  // Issue 18's goals: median / p99 bounds (ms) by number of streams; every run must be clean.
  const goals: Record<number, { median?: number; p99?: number }> = {
    1: { median: 2 },
    100: { median: 10, p99: 50 },
    500: { p99: 250 },
  };
  const verdict = (value: number, bound: number | undefined, label: string) =>
    bound === undefined
      ? []
      : [`${label} ${ms(value)} ms (target < ${bound} ms: ${value < bound ? 'met' : 'MISSED'})`];
  const verdicts = rows.map((row) => {
    const r = row.result;
    const clean = r.lost === 0 && r.reordered === 0 && r.duplicated === 0 && r.completed === row.streams;
    return `- ${name(row)}: ${[
      ...verdict(percentile(row.sorted, 50), goals[row.streams]?.median, 'median'),
      ...verdict(percentile(row.sorted, 99), goals[row.streams]?.p99, 'p99'),
      `${r.lost} lost, ${r.reordered} reordered, ${r.duplicated} duplicated, ${r.completed} / ${row.streams} completed (${clean ? 'met' : 'MISSED'})`,
    ].join(', ')}`;
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
      `Latency = client receipt − upstream write of each token, on one monotonic clock. The platform runs as ` +
      `\`npm start\` runs it: the router in a process of its own, the six subgraphs in ` +
      `${facts.subgraphProcesses.length} more (${facts.subgraphProcesses.join('; ')}); the upstream double and ` +
      `the clients run on two worker threads of the benchmark's process.`,
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
    'Each token’s latency split in three consecutive stages (medians need not add up to the total’s median). ' +
      '(1) Write → event built: the token waits in the sessions subgraph until its TOKEN event is built — ' +
      'reading the upstream, and waiting while the turn’s previous publish is in flight; `at`, the event’s ' +
      'wall-clock stamp, has millisecond resolution, so stages 1 and 2 are ±1 ms. (2) Built → back from the ' +
      'pub/sub: the publish (pg_notify, or Redis) and its delivery to a listener of the same topic that the ' +
      'benchmark’s process opens (it hears each event when the sessions subgraph does). The event is stored ' +
      'meanwhile, off this path. (3) Back from the pub/sub → client: the subgraph’s subscription, the ' +
      'subgraph → router and router → client hops. CPU is measured while the tokens stream, in % of one ' +
      'core: each of the platform’s processes, this benchmark’s process (clients and double), the PostgreSQL ' +
      'backends connected to the benchmark’s database, PostgreSQL’s other processes (WAL writer, ' +
      'checkpointer, other databases) and the rest of the machine (other programs, kernel work charged to no ' +
      'process). PostgreSQL waits: what the active backends of the benchmark’s database were waiting on, ' +
      'sampled every 50 ms (`running` = on CPU).',
    '',
    split,
    '',
    '## Memory per open stream',
    '',
    'Measured before the N subscriptions open and once they are open and idle: the resident memory of ' +
      'the router’s process and of the process that runs the sessions subgraph (their heaps are not ' +
      'collected first, so small rounds are noise; read the 100- and 500-stream rows), and the heap of the ' +
      'clients’ worker thread after garbage collection. PostgreSQL’s memory is not included.',
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
