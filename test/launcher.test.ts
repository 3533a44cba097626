import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/ports';

const LAUNCHER = join(__dirname, '..', 'dist', 'launcher', 'main.js');

interface Launched {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm start` as a user runs it: no DATABASE_URL, so embedded PostgreSQL. */
function launch(env: Record<string, string>): Launched {
  const { DATABASE_URL: _db, REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, [LAUNCHER], { env: { ...inherited, LOG_LEVEL: 'warn', ...env } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.destroy() ?? resolve(true));
    socket.once('error', () => resolve(false));
  });

async function gql(port: number, query: string, credential?: string) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
    },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

const printedKey = (output: string) => /^\s+(agx_live_[\w-]+)$/m.exec(output)?.[1];

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agentry-launcher-'));
  await chmod(dataDir, 0o755); // the embedded server runs as the postgres user
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

test('starts with embedded PostgreSQL, is healthy, stops cleanly and keeps its data', async () => {
  const [port, pgPort] = [await freePort(), await freePort()];
  const env = { PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), DATA_DIR: dataDir };

  const first = launch(env);
  await waitFor(() => first.output().includes('is running') || first.child.exitCode !== null, 'the launcher');
  expect(first.output()).toContain(`http://127.0.0.1:${port}/graphql`);
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  expect(health.status).toBe(200);
  expect((await health.json()).status).toBe('ok');
  // The first start prints the first admin's API key, once, and it works.
  const adminKey = printedKey(first.output());
  expect(adminKey).toBeDefined();
  expect((await gql(port, '{ me { role } }', adminKey)).data.me.role).toBe('ADMIN');
  const registered = await gql(
    port,
    'mutation { register(input: {email: "keep@example.com", password: "long enough pw"}) { accessToken account { id } } }',
  );
  const { accessToken } = registered.data.register;

  first.child.kill('SIGTERM');
  expect(await first.exited).toBe(0);
  expect(await portOpen(pgPort)).toBe(false); // no orphan postgres
  expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

  const second = launch(env);
  await waitFor(
    () => second.output().includes('is running') || second.child.exitCode !== null,
    'the second start',
  );
  expect(printedKey(second.output())).toBeUndefined();
  // The data and the signing secrets survived the restart: the old access token still works.
  const read = await gql(port, '{ me { email } }', accessToken);
  expect(read).toEqual({ data: { me: { email: 'keep@example.com' } } });
  second.child.kill('SIGINT');
  expect(await second.exited).toBe(0);
  expect(await portOpen(pgPort)).toBe(false);
}, 180_000); // two full starts of the worker processes and PostgreSQL on a shared machine

/** The launcher's worker processes (the router's and the subgraphs'), by their command line. */
const workersOf = (pid: number) =>
  execFileSync('pgrep', ['-P', String(pid), '-f', 'launcher/worker.js'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);

test('the router and the subgraphs run in processes of their own; one dying stops them all', async () => {
  const [port, pgPort] = [await freePort(), await freePort()];
  const token = 'metrics-token-of-the-launcher-test';
  const launched = launch({
    PORT: String(port),
    EMBEDDED_PG_PORT: String(pgPort),
    DATA_DIR: dataDir,
    METRICS_TOKEN: token,
  });
  await waitFor(
    () => launched.output().includes('is running') || launched.child.exitCode !== null,
    'the launcher',
  );
  const workers = workersOf(launched.child.pid!);
  expect(workers.length).toBeGreaterThanOrEqual(2);

  // The router's /metrics adds up the figures of the subgraphs' process: every subgraph's SQL count.
  const scrape = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await scrape.text();
  for (const name of ['accounts', 'agents', 'sessions', 'memory', 'tasks', 'wallet'])
    expect(text).toMatch(new RegExp(`^agentry_sql_statements_total\\{subgraph="${name}"\\} [1-9]`, 'm'));

  process.kill(workers.at(-1)!, 'SIGKILL');
  expect(await launched.exited).toBe(1);
  expect(launched.output()).toContain('worker process exited unexpectedly');
  expect(await portOpen(pgPort)).toBe(false);
  expect(await portOpen(port)).toBe(false);
  for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow(); // none left behind
}, 120_000);

test('a bad configuration value stops start-up with the variable named', async () => {
  const bad = launch({ PORT: 'eighty', DATA_DIR: dataDir });
  expect(await bad.exited).toBe(1);
  expect(bad.output()).toMatch(/PORT: /);
});
