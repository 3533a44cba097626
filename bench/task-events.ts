/**
 * Task-event fan-out through the router: SUBSCRIBERS graphql-ws clients (ACCOUNTS accounts, taken
 * in turn) watch their own account's task events while every account creates tasks, RATE a second
 * in all, for SECONDS; every client must receive every event of its account and nothing else.
 * The platform runs as `npm start` runs it (bench/support.ts): the router in a process of its own.
 * Reports the commit → client delay (`at`, stamped by the tasks subgraph when it commits), how many
 * graphql-ws connections the router holds at the tasks subgraph (issue 18: one, multiplexed) and how
 * many subscriptions run there (one per account: subscribers of one caller share it), and the router
 * process's memory per subscriber and CPU per delivery, user and kernel apart.
 * Results go to bench/results/task-events.md.
 *
 *   npm run bench:task-events            # 1000 subscribers of 2 accounts, 10 tasks/s for 10 s
 *   SUBSCRIBERS=100 RATE=50 npm run bench:task-events
 */
import 'reflect-metadata';
import { createClient, type Client } from 'graphql-ws';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { IDENTITY_HEADER, projectRoot, ROUTER_PRINCIPAL, signIdentity } from '../lib';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { readFileSync } from 'node:fs';
import { rssKiB, startAsNpmStart, writeResults } from './support';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const ACCOUNTS = Number(process.env.ACCOUNTS ?? 2);
const RATE = Number(process.env.RATE ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 10);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () => loadavg()[0].toFixed(2);

/** CPU time a process has used so far in user and kernel mode, in seconds (Linux /proc, 100 ticks a second). */
function cpuTimes(pid: number): { user: number; system: number } {
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

interface TaskEvent {
  at: string;
  task: { id: string };
}

async function main() {
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const p = await startAsNpmStart({ DB_POOL_MAX: '20' });
  const graphql = async <T>(query: string, token?: string): Promise<T> => {
    const response = await fetch(p.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const tokens: string[] = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const { register } = await graphql<{ register: { accessToken: string } }>(
      `mutation { register(input: { email: "bench${i}@example.com", password: "benchmark password" }) { accessToken } }`,
    );
    tokens.push(register.accessToken);
  }
  const createTask = async (account: number, title: string) =>
    (
      await graphql<{ createTask: { id: string } }>(
        `mutation { createTask(input: { title: "${title}" }) { id } }`,
        tokens[account],
      )
    ).createTask.id;

  /** A gauge of the tasks subgraph, read from its /metrics. */
  const tasksGauge = async (name: string) => {
    const headers = { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, p.secrets.internal) };
    const text = await (await fetch(new URL('/metrics', p.subgraphUrls.tasks), { headers })).text();
    return Number(new RegExp(`^${name}\\{subgraph="tasks"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  };

  const router = p.pids.router;
  const rssIdle = rssKiB(router);
  const clients: Client[] = [];
  const owners = new Map<string, number>(); // task id → the account that created it
  const received = new Map<string, number>(); // task id → deliveries
  const delays: number[] = [];
  let foreign = 0; // deliveries of another account's task: must stay 0
  let connects = 0; // client connections made to the router, retries included
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const account = i % ACCOUNTS;
    const client = createClient({
      url: p.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tokens[account]}` },
      // A router too busy to answer a handshake in time (4408) is counted, and the client retries.
      retryAttempts: 5,
      on: { connected: () => connects++ },
    });
    clients.push(client);
    client.subscribe(
      { query: 'subscription { taskEvents { kind at task { id } } }' },
      {
        next: ({ data }) => {
          const event = (data as { taskEvents: TaskEvent }).taskEvents;
          delays.push(Date.now() - Date.parse(event.at));
          received.set(event.task.id, (received.get(event.task.id) ?? 0) + 1);
          if (owners.has(event.task.id) && owners.get(event.task.id) !== account) foreign++;
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
  }

  // Subscriptions attach upstream asynchronously: probe until one event reaches every subscriber.
  const warmStart = Date.now();
  const perAccount = Math.ceil(SUBSCRIBERS / ACCOUNTS);
  for (;;) {
    const probes = await Promise.all(tokens.map((_, account) => createTask(account, 'probe')));
    await sleep(1000);
    const reached = probes.reduce((sum, id) => sum + (received.get(id) ?? 0), 0);
    if (reached >= SUBSCRIBERS) break;
    if (Date.now() - warmStart > 180_000) throw new Error(`only ${reached} subscribers attached`);
  }
  const attachSeconds = (Date.now() - warmStart) / 1000;
  const upstreamSockets = await tasksGauge('agentry_subgraph_websockets_open');
  const upstreamSubscriptions = await tasksGauge('agentry_subgraph_subscriptions_open');
  delays.length = 0;
  received.clear();
  const rssAttached = rssKiB(router);
  const loadBefore = load();
  const cpuBefore = cpuTimes(router);

  const ids: string[] = [];
  const runStart = Date.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = runStart + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const account = i % ACCOUNTS;
    const id = await createTask(account, `event ${i}`);
    owners.set(id, account);
    ids.push(id);
  }
  const expected = ids.length * perAccount;
  const deadline = Date.now() + 60_000;
  while (delays.length < expected && Date.now() < deadline) await sleep(100);
  const elapsed = (Date.now() - runStart) / 1000;
  const cpuAfter = cpuTimes(router);
  const [userCpu, systemCpu] = [cpuAfter.user - cpuBefore.user, cpuAfter.system - cpuBefore.system];
  const perDelivery = (seconds: number) => ((seconds * 1e6) / Math.max(1, delays.length)).toFixed(1);
  const loadAfter = load();
  const lost = ids.reduce((sum, id) => sum + Math.max(0, perAccount - (received.get(id) ?? 0)), 0);
  const duplicated = ids.reduce((sum, id) => sum + Math.max(0, (received.get(id) ?? 0) - perAccount), 0);
  const sorted = [...delays].sort((a, b) => a - b);
  const rows: [string, string | number][] = [
    ['subscribers (graphql-ws clients, each its own connection to the router)', SUBSCRIBERS],
    ['accounts (subscribers take them in turn)', ACCOUNTS],
    ['client connections to the router that had to be retried', connects - SUBSCRIBERS],
    ['graphql-ws connections from the router to the tasks subgraph', upstreamSockets],
    ['subscriptions running at the tasks subgraph', upstreamSubscriptions],
    ['seconds until all were attached upstream', attachSeconds],
    ['events published', ids.length],
    ['deliveries expected', expected],
    ['deliveries received', delays.length],
    ['deliveries lost', lost],
    ['deliveries duplicated', duplicated],
    ["deliveries of another account's task", foreign],
    ['deliveries per second (sustained)', Math.round(delays.length / elapsed)],
    ['p50 commit → client (ms)', percentile(sorted, 50)],
    ['p90 commit → client (ms)', percentile(sorted, 90)],
    ['p99 commit → client (ms)', percentile(sorted, 99)],
    ['max (ms)', sorted.at(-1) ?? NaN],
    ['router RSS per attached subscriber (KiB)', ((rssAttached - rssIdle) / SUBSCRIBERS).toFixed(1)],
    ['router CPU seconds during the run (user + system)', (userCpu + systemCpu).toFixed(2)],
    [
      'router CPU µs per delivery: user / system (kernel: socket writes)',
      `${perDelivery(userCpu)} / ${perDelivery(systemCpu)}`,
    ],
    ['load average (1 min) before → after the run', `${loadBefore} → ${loadAfter}`],
  ];
  console.table(Object.fromEntries(rows));
  const target = (name: string, met: boolean) => `- ${name}: ${met ? 'met' : 'MISSED'}`;
  const p99 = percentile(sorted, 99);
  await writeResults(
    join(projectRoot(), 'bench', 'results', 'task-events.md'),
    `# Task-event fan-out through the router\n\n` +
      `\`npm run bench:task-events\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}: ` +
      `the platform as \`npm start\` runs it (the router in its own process, the subgraphs in the others), ` +
      `${SUBSCRIBERS} graphql-ws clients in the benchmark's process, PostgreSQL LISTEN/NOTIFY, ` +
      `${RATE} tasks created per second for ${SECONDS} s. Delays are commit (\`at\`, millisecond clock) → client.\n\n` +
      `| measure | value |\n| --- | --- |\n${rows.map(([name, value]) => `| ${name} | ${value} |`).join('\n')}\n\n` +
      `## Targets (issue 18)\n\n` +
      `${target(`p99 under 100 ms (${p99} ms)`, p99 < 100)}\n` +
      `${target(`one upstream connection per subgraph and router process (${upstreamSockets})`, upstreamSockets === 1)}\n` +
      `${target(`none lost, duplicated or shown to another account (${lost} / ${duplicated} / ${foreign})`, lost + duplicated + foreign === 0)}\n`,
  );
  await Promise.all(clients.map((client) => client.dispose()));
  await p.close();
  await globalTeardown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
