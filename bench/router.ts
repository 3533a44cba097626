/**
 * The platform's router against two gateway peers on the SAME running subgraphs and supergraph:
 * Apollo Gateway 2 (on Apollo Server 5) and Hive Gateway with the Rust query planner. Each gateway
 * runs in a process of its own (the router as `npm start` runs it: `launcher/main.js router`); the
 * six subgraphs run in this process, the load (autocannon) in a worker thread-free loop here too.
 * Rounds are interleaved (every gateway once per round, in turn), so a noisy neighbour slows all of
 * them alike; the results file reports medians over rounds and their ratios, with the load average.
 *
 * The peers check no credential: they forward one signed identity (bench/peers/identity.ts). The
 * router does its whole edge on every request: credential, rate limit, query limits, error codes.
 *
 *   npm run bench:router                          # 3 rounds of 5 s, concurrency 1/10/50/200
 *   ROUNDS=1 SECONDS=2 CONCURRENCY=50 npm run bench:router
 */
import 'reflect-metadata';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDENTITY_HEADER, projectRoot, signIdentity, signToken, type Identity } from '../lib';
import { CreateAgentDocument, CreateApiKeyDocument, CreateTaskDocument } from '../test/generated/graphql';
import { sqlStatements, startTestPlatform } from '../test/support/platform';
import { cpuSeconds, writeResults } from './support';
import { freePort } from '../test/support/ports';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 5);
/** `GATEWAYS=router` runs only some of the gateways (e.g. to profile one). */
const GATEWAYS = (process.env.GATEWAYS ?? 'router,apollo-gateway,hive-rust').split(',');
/** `ROUTER_PROFILE=<dir>`: the router writes a CPU profile (`node --cpu-prof`) there when it stops. */
const ROUTER_PROFILE = process.env.ROUTER_PROFILE;
const CONCURRENCY = (process.env.CONCURRENCY ?? '1,10,50,200').split(',').map(Number);

/** The subgraphs each query reaches, whose SQL statements are counted. */
const REACHES: Record<QueryName, string[]> = {
  single: ['agents'],
  'agents → owner': ['agents', 'accounts'],
  'tasks → agent → owner': ['tasks', 'agents', 'accounts'],
};

const QUERIES = {
  single: '{ agents(first: 10) { nodes { id name ticker } } }',
  'agents → owner': '{ agents(first: 10) { nodes { id name owner { id displayName } } } }',
  'tasks → agent → owner':
    '{ tasks(first: 10) { nodes { id title agent { id name owner { id displayName } } } } }',
} as const;
type QueryName = keyof typeof QUERIES;

interface Target {
  name: string;
  url: string;
  process: ChildProcess;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the gateway's process per answer. */
  cpuMsPerRequest: number;
  /** SQL statements the reached subgraphs ran per answer: fewer means fewer upstream requests. */
  statementsPerRequest: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Starts `script` with `env` and waits until it prints that it listens. */
async function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<Target | undefined> {
  if (!GATEWAYS.includes(name)) return undefined;
  const port = await freePort();
  // As `npm start` runs by default: rate limits counted in memory, not Redis.
  const { REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, args, {
    env: { ...inherited, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready;) {
    if (exited) throw new Error(`${name} exited before listening`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    ready = await fetch(`${url}/graphql?query=%7B__typename%7D`, {
      headers: { accept: 'application/json' },
    }).then(
      () => true,
      () => false,
    );
  }
  return { name, url, process: child };
}

/** The first seconds of a cell, not counted: every connection has its first answer by then. */
const RAMP_SECONDS = 2;

/**
 * Loads `url` for RAMP_SECONDS + SECONDS and counts only the answers that end in the last SECONDS:
 * the steady state, whatever the latency (at 200 connections an answer may take longer than a
 * whole short cell, which counted nothing before). Latency percentiles are of those answers too.
 */
async function load(
  target: Target,
  connections: number,
  request: { method: 'GET' | 'POST'; path: string; body?: string; headers: Record<string, string> },
  counted: () => Promise<number>,
): Promise<Sample> {
  const latencies: number[] = [];
  let countFrom = Infinity;
  let statementsBefore = 0;
  let cpuBefore = 0;
  const ramp = setTimeout(() => {
    countFrom = performance.now();
    cpuBefore = cpuSeconds(target.process.pid!);
    void counted().then((count) => (statementsBefore = count));
  }, RAMP_SECONDS * 1000);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url + request.path,
        method: request.method,
        body: request.body,
        headers: request.headers,
        connections,
        duration: RAMP_SECONDS + SECONDS,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (performance.now() >= countFrom) latencies.push(responseTime);
    });
  });
  clearTimeout(ramp);
  const seconds = (performance.now() - countFrom) / 1000;
  const cpu = cpuSeconds(target.process.pid!) - cpuBefore;
  const statements = (await counted()) - statementsBefore;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies.length ? latencies[Math.floor((latencies.length - 1) * p)] : NaN;
  return {
    rps: latencies.length / seconds,
    p50: Math.round(percentile(0.5)),
    p99: Math.round(percentile(0.99)),
    errors: result.errors + result.timeouts + result.non2xx,
    cpuMsPerRequest: (cpu * 1000) / Math.max(1, latencies.length),
    statementsPerRequest: statements / Math.max(1, latencies.length),
  };
}

async function main() {
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const t = await startTestPlatform({ DB_POOL_MAX: '20' });
  const user = await t.register('bench owner');
  const { createApiKey } = await user.data(CreateApiKeyDocument, { input: { name: 'bench', scopes: ['*'] } });
  for (let i = 0; i < 10; i++) {
    const { createAgent } = await user.data(CreateAgentDocument, {
      input: { name: `bench-${i}`, ticker: `BNC${i}` },
    });
    await user.data(CreateTaskDocument, { input: { title: `task ${i}`, agentId: createAgent.id } });
  }

  // The same supergraph for every gateway, pointing at the subgraphs running here.
  const subgraphUrls = Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url]));
  const supergraph = t.supergraph.replace(
    /@join__graph\(name: "(\w+)", url: "[^"]*"\)/g,
    (_, name: string) => `@join__graph(name: "${name}", url: "${subgraphUrls[name]}")`,
  );
  const supergraphFile = join(await mkdtemp(join(tmpdir(), 'bench-router-')), 'supergraph.graphql');
  await writeFile(supergraphFile, supergraph);
  const identity: Identity = { accountId: user.id, role: 'USER', scopes: ['*'], via: 'jwt' };
  const peerEnv = {
    BENCH_SUPERGRAPH: supergraphFile,
    BENCH_IDENTITY: JSON.stringify(identity),
    INTERNAL_SECRET: t.secrets.internal,
  };
  const dist = join(projectRoot(), 'dist');
  const profile = ROUTER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${ROUTER_PROFILE}`] : [];
  const started = [
    await startProcess('router', [...profile, join(dist, 'launcher', 'main.js'), 'router'], {
      JWT_SECRET: t.secrets.jwt,
      INTERNAL_SECRET: t.secrets.internal,
      RATE_LIMIT_PER_MINUTE: '1000000', // on, but high enough never to refuse the load
      ...Object.fromEntries(
        Object.entries(subgraphUrls).map(([name, url]) => [`${name.toUpperCase()}_URL`, url]),
      ),
    }),
    await startProcess('apollo-gateway', [join(dist, 'bench', 'peers', 'apollo-gateway.js')], peerEnv),
    await startProcess('hive-rust', [join(dist, 'bench', 'peers', 'hive-gateway.js')], peerEnv),
  ];
  const targets = started.filter((target) => target !== undefined);

  const graphql = (query: string, credential: string) => ({
    method: 'POST' as const,
    path: '/graphql',
    body: JSON.stringify({ query }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
  });
  // An access token as accounts issues them, but for the whole run: its own lasts 15 minutes, less
  // than a full run, and the router's last rounds would then time fast 401s.
  const accessToken = signToken({ sub: user.id, aud: 'agentry-api', role: 'USER' }, t.secrets.jwt, 3 * 3600);
  const credentialOf = (query: QueryName) =>
    query === 'tasks → agent → owner' ? createApiKey.key : accessToken;

  // Every answer is checked once before it is timed: a gateway answering errors fast is no winner.
  for (const target of targets)
    for (const [name, query] of Object.entries(QUERIES)) {
      const response = await fetch(`${target.url}/graphql`, {
        method: 'POST',
        headers: graphql(query, credentialOf(name as QueryName)).headers,
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: unknown };
      if (body.errors || !body.data) throw new Error(`${target.name} ${name}: ${JSON.stringify(body)}`);
    }

  // Warm-up, untimed: the first seconds of each gateway are JIT compilation and connection set-up.
  for (const target of targets)
    for (const [name, query] of Object.entries(QUERIES))
      await autocannon({
        ...graphql(query, credentialOf(name as QueryName)),
        url: `${target.url}/graphql`,
        connections: 10,
        amount: 200,
      });

  const samples = new Map<string, Sample[]>(); // `${target}|${query}|${connections}` → rounds
  const record = (key: string, sample: Sample) => samples.set(key, [...(samples.get(key) ?? []), sample]);
  const loads: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONCURRENCY)
      for (const [name, query] of Object.entries(QUERIES))
        for (const target of targets) {
          const sample = await load(
            target,
            connections,
            graphql(query, credentialOf(name as QueryName)),
            () => sqlStatements(t, REACHES[name as QueryName]),
          );
          record(`${target.name}|${name}|${connections}`, sample);
          loads.push(loadavg()[0]);
          process.stdout.write(
            `round ${round + 1} ${target.name} ${name} c=${connections}: ${sample.rps.toFixed(0)} req/s ` +
              `p50 ${sample.p50} ms p99 ${sample.p99} ms, ${sample.cpuMsPerRequest.toFixed(2)} CPU ms and ` +
              `${sample.statementsPerRequest.toFixed(2)} SQL statements per request, load ${loadavg()[0].toFixed(2)}\n`,
          );
        }
    // REST facade against the same operation over GraphQL, on the router alone.
    const taskList = await readFile(
      join(projectRoot(), 'router', 'rest', 'operations', 'tasks.graphql'),
      'utf8',
    );
    const router = targets.find((target) => target.name === 'router');
    if (!router) continue;
    const tasksStatements = () => sqlStatements(t, ['tasks', 'agents']);
    const rest = await load(
      router,
      50,
      {
        method: 'GET',
        path: '/api/tasks',
        headers: { authorization: `Bearer ${createApiKey.key}` },
      },
      tasksStatements,
    );
    const overGraphql = await load(
      router,
      50,
      {
        ...graphql(taskList, createApiKey.key),
        body: JSON.stringify({ query: taskList, operationName: 'TaskList', variables: { first: 20 } }),
      },
      tasksStatements,
    );
    record('rest', rest);
    record('rest-graphql', overGraphql);
    loads.push(loadavg()[0]);
    const { router: viaRouter, byHand } = await againstHandMadePlan(
      router.url,
      accessToken,
      subgraphUrls,
      signIdentity(identity, t.secrets.internal),
    );
    record('plan-router', { ...NO_SAMPLE, p50: viaRouter });
    record('plan-by-hand', { ...NO_SAMPLE, p50: byHand });
  }

  // The peers keep no state; Hive's runtime waits on SIGTERM for a graceful dispose that never ends.
  for (const target of targets) target.process.kill(target.name === 'router' ? 'SIGTERM' : 'SIGKILL');
  // A router still draining the last cell's connections after 5 s is killed: nothing is left behind.
  const routerProcess = targets.find((target) => target.name === 'router')?.process;
  if (routerProcess) {
    setTimeout(() => routerProcess.kill('SIGKILL'), 5_000).unref();
    await new Promise((resolve) => routerProcess.once('exit', resolve)); // its CPU profile is written
  }
  await t.close();
  await globalTeardown();
  if (GATEWAYS.length === 3 && !ROUTER_PROFILE)
    await writeResults(join(projectRoot(), 'bench', 'results', 'router.md'), report(samples, loads));
  else process.stdout.write('a partial or profiled run: bench/results/router.md left as it was\n');
  process.exit(0);
}

const NO_SAMPLE: Sample = { rps: 0, p50: 0, p99: 0, errors: 0, cpuMsPerRequest: 0, statementsPerRequest: 0 };

/**
 * `agents → owner` one request at a time, through the router and by hand (the two fetches of its
 * plan, sent straight to the subgraphs with a signed identity), alternately; the median ms of each.
 */
async function againstHandMadePlan(
  routerUrl: string,
  credential: string,
  subgraphUrls: Record<string, string>,
  signedIdentity: string,
): Promise<{ router: number; byHand: number }> {
  const post = async (url: string, headers: Record<string, string>, query: string, variables = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
    if (!body.data || body.errors) throw new Error(`hand-made plan: ${JSON.stringify(body)}`);
    return body.data;
  };
  const internal = { [IDENTITY_HEADER]: signedIdentity };
  const byHand = async () => {
    const { agents } = (await post(
      subgraphUrls.agents,
      internal,
      '{ agents(first: 10) { nodes { id name owner { id } } } }',
    )) as { agents: { nodes: { owner: { id: string } }[] } };
    const owners = [...new Set(agents.nodes.map((agent) => agent.owner.id))];
    await post(
      subgraphUrls.accounts,
      internal,
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Account { displayName } } }',
      { r: owners.map((id) => ({ __typename: 'Account', id })) },
    );
  };
  const viaRouter = () =>
    post(`${routerUrl}/graphql`, { authorization: `Bearer ${credential}` }, QUERIES['agents → owner']);
  const timings = { router: [] as number[], byHand: [] as number[] };
  for (let i = 0; i < 300; i++)
    for (const [name, call] of [
      ['router', viaRouter],
      ['byHand', byHand],
    ] as const) {
      const started = performance.now();
      await call();
      timings[name].push(performance.now() - started);
    }
  return { router: median(timings.router), byHand: median(timings.byHand) };
}

/** A ratio, or n/a when the peer answered nothing in the cell. */
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

function report(samples: Map<string, Sample[]>, loads: number[]): string {
  const med = (key: string, field: keyof Sample) => median((samples.get(key) ?? []).map((s) => s[field]));
  const gateways = ['router', 'apollo-gateway', 'hive-rust'];
  const lines = [
    '# Router against gateway peers on the same subgraphs',
    '',
    `\`npm run bench:router\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `${ROUNDS} interleaved rounds, each cell ${RAMP_SECONDS} s of ramp-up (not counted) then ${SECONDS} s ` +
      `counted (answers that end in it), medians over rounds. Each gateway in a process of its own; the six ` +
      `subgraphs and the load generator in the bench process. Load average (1 min) during the run: min ` +
      `${Math.min(...loads).toFixed(2)}, median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}.`,
    '',
    'The router runs every edge feature (credential check, rate limit, query limits, error codes); the',
    'peers forward one pre-signed identity and check nothing. CPU ms is the gateway process’s CPU time',
    'per answer; SQL is the statements the reached subgraphs ran per answer (fewer would mean the',
    'gateway sends them fewer requests, e.g. by deduplicating).',
    '',
    '| query | connections | router req/s | Apollo req/s | Hive+Rust req/s | router/Apollo | router/Hive | router p50 / p99 ms | Apollo p50 / p99 | Hive p50 / p99 | CPU ms router / Apollo / Hive | SQL router / Apollo / Hive | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const name of Object.keys(QUERIES))
    for (const connections of CONCURRENCY) {
      const key = (target: string) => `${target}|${name}|${connections}`;
      const rps = (target: string) => med(key(target), 'rps');
      const lat = (target: string) => `${med(key(target), 'p50')} / ${med(key(target), 'p99')}`;
      const each = (field: 'cpuMsPerRequest' | 'statementsPerRequest', digits: number) =>
        gateways.map((target) => med(key(target), field).toFixed(digits)).join(' / ');
      const errors = gateways
        .map((target) => (samples.get(key(target)) ?? []).reduce((sum, s) => sum + s.errors, 0))
        .join(' / ');
      lines.push(
        `| ${name} | ${connections} | ${rps('router').toFixed(0)} | ${rps('apollo-gateway').toFixed(0)} | ` +
          `${rps('hive-rust').toFixed(0)} | ${ratio(rps('router'), rps('apollo-gateway'))} | ` +
          `${ratio(rps('router'), rps('hive-rust'))} | ${lat('router')} | ${lat('apollo-gateway')} | ` +
          `${lat('hive-rust')} | ${each('cpuMsPerRequest', 2)} | ${each('statementsPerRequest', 2)} | ${errors} |`,
      );
    }
  lines.push(
    '',
    `REST facade (\`GET /api/tasks\`) against the same operation (\`TaskList\`) over GraphQL on the router, 50 ` +
      `connections: ${med('rest', 'rps').toFixed(0)} vs ${med('rest-graphql', 'rps').toFixed(0)} req/s, median ` +
      `${med('rest', 'p50')} vs ${med('rest-graphql', 'p50')} ms (REST/GraphQL median ` +
      `${ratio(med('rest', 'p50'), med('rest-graphql', 'p50'))}).`,
    '',
    `\`agents → owner\` one request at a time, the router against its plan's two subgraph fetches made by ` +
      `hand: median ${med('plan-router', 'p50').toFixed(1)} vs ${med('plan-by-hand', 'p50').toFixed(1)} ms ` +
      `(router/hand ${ratio(med('plan-router', 'p50'), med('plan-by-hand', 'p50'))}).`,
    '',
  );
  return lines.join('\n');
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
