/**
 * Webhook deliveries per second to a local receiver: ENDPOINTS endpoints of one account each
 * receive every task event of TASKS tasks created as fast as the API takes them. Reports the
 * deliveries per second from the first task to the last delivery, and the receiver-side delay
 * from an event to its delivery. Results go to bench/results/webhooks.md.
 *
 *   npm run bench:webhooks                # 10 endpoints, 200 tasks
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { projectRoot } from '../lib';
import { CreateWebhookEndpointDocument, RegisterDocument } from '../test/generated/graphql';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startTestPlatform } from '../test/support/platform';

const ENDPOINTS = Number(process.env.ENDPOINTS ?? 10);
const TASKS = Number(process.env.TASKS ?? 200);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main() {
  process.env.WEBHOOK_ALLOWLIST = '127.0.0.1';
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const delays: number[] = [];
  let lastDelivery = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { timestamp } = JSON.parse(body) as { timestamp: string };
      lastDelivery = Date.now();
      delays.push(lastDelivery - Date.parse(timestamp));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const t = await startTestPlatform({ DB_POOL_MAX: '20' });
  const { register } = await t.data(RegisterDocument, {
    input: { email: 'bench@example.com', password: 'benchmark password' },
  });
  const user = t.client(register.accessToken);
  for (let i = 0; i < ENDPOINTS; i++) {
    await user.data(CreateWebhookEndpointDocument, {
      input: { url: `${receiverUrl}/${i}`, events: ['task.created'] },
    });
  }

  const started = Date.now();
  for (let i = 0; i < TASKS; i++) {
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${register.accessToken}` },
      body: JSON.stringify({ query: `mutation { createTask(input: { title: "event ${i}" }) { id } }` }),
    });
    await response.json();
  }
  const published = Date.now();
  const expected = TASKS * ENDPOINTS;
  const deadline = Date.now() + 120_000;
  while (delays.length < expected && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  const seconds = (lastDelivery - started) / 1000;
  const sorted = [...delays].sort((a, b) => a - b);
  const rows = {
    endpoints: ENDPOINTS,
    'tasks created': TASKS,
    'seconds to create them': (published - started) / 1000,
    'deliveries expected': expected,
    'deliveries received': delays.length,
    'deliveries per second': Math.round(delays.length / seconds),
    'p50 event → delivery (ms)': percentile(sorted, 50),
    'p99 event → delivery (ms)': percentile(sorted, 99),
  };
  console.table(rows);
  const table = Object.entries(rows)
    .map(([name, value]) => `| ${name} | ${value} |`)
    .join('\n');
  await mkdir(join(projectRoot(), 'bench', 'results'), { recursive: true });
  await writeFile(
    join(projectRoot(), 'bench', 'results', 'webhooks.md'),
    `# Webhook deliveries to a local receiver\n\n` +
      `\`npm run bench:webhooks\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, one process ` +
      `(router, six subgraphs, the delivery worker and the receiver), ${ENDPOINTS} endpoints each subscribed to ` +
      `task.created, ${TASKS} tasks created one after another; each delivery is signed (Standard Webhooks).\n\n` +
      `| measure | value |\n| --- | --- |\n${table}\n`,
  );
  await t.close();
  receiver.close();
  await globalTeardown();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
