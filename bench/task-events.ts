/**
 * Task-event fan-out through the router: SUBSCRIBERS graphql-ws clients watch one account's task
 * events while tasks are created at RATE per second for SECONDS; every client must receive every
 * event. Reports sustained deliveries per second and the p50/p99 delay from the event's commit
 * (`at`, stamped by the tasks subgraph) to its receipt by a client. Results go to
 * bench/results/task-events.md.
 *
 *   npm run bench:task-events            # 1000 subscribers, 10 tasks/s for 10 s
 *   SUBSCRIBERS=100 RATE=50 npm run bench:task-events
 */
import 'reflect-metadata';
import { createClient, type Client } from 'graphql-ws';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startTestPlatform } from '../test/support/platform';
import { RegisterDocument } from '../test/generated/graphql';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { projectRoot } from '../lib';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const RATE = Number(process.env.RATE ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 10);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const t = await startTestPlatform({ DB_POOL_MAX: '20' });
  const { register } = await t.data(RegisterDocument, {
    input: { email: 'bench@example.com', password: 'benchmark password' },
  });
  const token = register.accessToken;

  const clients: Client[] = [];
  const received = new Map<string, number>(); // task id → deliveries
  const delays: number[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const client = createClient({
      url: t.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    });
    clients.push(client);
    client.subscribe(
      { query: 'subscription { taskEvents { kind at task { id } } }' },
      {
        next: ({ data }) => {
          const event = (data as { taskEvents: { at: string; task: { id: string } } }).taskEvents;
          delays.push(Date.now() - Date.parse(event.at));
          received.set(event.task.id, (received.get(event.task.id) ?? 0) + 1);
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
  }

  const createTask = (title: string) =>
    fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation { createTask(input: { title: "${title}" }) { id } }` }),
    }).then((r) => r.json() as Promise<{ data: { createTask: { id: string } } }>);

  // Subscriptions attach upstream asynchronously: probe until one event reaches every subscriber.
  const warmStart = Date.now();
  for (;;) {
    const probe = await createTask('probe');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if ((received.get(probe.data.createTask.id) ?? 0) >= SUBSCRIBERS) break;
    if (Date.now() - warmStart > 120_000)
      throw new Error(`only ${received.get(probe.data.createTask.id) ?? 0} subscribers attached`);
  }
  const attachSeconds = (Date.now() - warmStart) / 1000;
  delays.length = 0;
  received.clear();

  const rss0 = process.memoryUsage().rss;
  const ids: string[] = [];
  const runStart = Date.now();
  for (let i = 0; i < RATE * SECONDS; i++) {
    const due = runStart + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    ids.push((await createTask(`event ${i}`)).data.createTask.id);
  }
  const expected = ids.length * SUBSCRIBERS;
  const deadline = Date.now() + 30_000;
  while (delays.length < expected && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  const elapsed = (Date.now() - runStart) / 1000;
  const lost = ids.reduce((sum, id) => sum + Math.max(0, SUBSCRIBERS - (received.get(id) ?? 0)), 0);
  const sorted = [...delays].sort((a, b) => a - b);
  const rows = {
    subscribers: SUBSCRIBERS,
    'seconds until all were attached upstream': attachSeconds,
    'events published': ids.length,
    'deliveries expected': expected,
    'deliveries received': delays.length,
    'deliveries lost': lost,
    'deliveries per second (sustained)': Math.round(delays.length / elapsed),
    'p50 commit → client (ms)': percentile(sorted, 50),
    'p99 commit → client (ms)': percentile(sorted, 99),
    'max (ms)': sorted.at(-1),
    'process RSS growth during run (MiB)': Math.round((process.memoryUsage().rss - rss0) / 1048576),
  };
  console.table(rows);

  const file = join(projectRoot(), 'bench', 'results', 'task-events.md');
  await mkdir(join(projectRoot(), 'bench', 'results'), { recursive: true });
  const table = Object.entries(rows)
    .map(([name, value]) => `| ${name} | ${value} |`)
    .join('\n');
  await writeFile(
    file,
    `# Task-event fan-out through the router\n\n` +
      `\`npm run bench:task-events\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `one process (router, six subgraphs and ${SUBSCRIBERS} graphql-ws clients), PostgreSQL LISTEN/NOTIFY, ` +
      `${RATE} tasks created per second for ${SECONDS} s.\n\n| measure | value |\n| --- | --- |\n${table}\n`,
  );
  await Promise.all(clients.map((client) => client.dispose()));
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
