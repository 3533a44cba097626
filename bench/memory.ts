/**
 * Memory search latency: p50/p99 of `searchMemory` through the router for one owner holding
 * 10,000 and one holding 100,000 entries, among TOTAL entries of all owners (generated English-like
 * text, inserted with generate_series), plus EXPLAIN ANALYZE of the search statement showing the
 * indexes used. Results go to bench/results/memory.md.
 *
 *   npm run bench:memory                         # 1,000,000 entries in all, 300 searches per owner
 *   TOTAL=200000 QUERIES=200 npm run bench:memory
 */
import 'reflect-metadata';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { print } from 'graphql';
import pg from 'pg';
import { IDENTITY_HEADER, projectRoot, signIdentity } from '../lib';
import { numbered } from '../subgraphs/memory/memory.prepared';
import { searchStatement } from '../subgraphs/memory/memory.search';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startAsNpmStart, writeResults } from './support';
import { LoginDocument, RegisterDocument } from '../test/generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../test/support/platform';

const TOTAL = Number(process.env.TOTAL ?? 1_000_000);
const QUERIES = Number(process.env.QUERIES ?? 300);
const OWNERS = [10_000, 100_000];
/** Direct runs of the search statement per query and owner, for the SQL-only table. */
const SQL_RUNS = 15;
/** Rounds of the stage breakdown (each round runs every stage once, interleaved). */
const STAGE_ROUNDS = 120;
/** Runs after which PostgreSQL settles a prepared statement's plan (its plan cache decides at 5). */
const PREPARE_RUNS = 6;
/** Everyone else's entries are spread over this many accounts. */
const OTHER_OWNERS = 1_000;
const BATCH = 50_000;
/** Where the generated dataset is kept between runs. */
const DATABASE = 'agentry_bench_memory';

/** Words of agent memories, most common first; picked with a skew toward the front, as text is. */
const WORDS = `the user prefers to a of and in for on with is that project meeting deploy database server
  customer report weekly invoice payment email calendar reminder team budget release bug fix review
  question answer summary document policy account password backup restore schedule travel flight hotel
  booking price contract vendor order shipment delivery warehouse inventory forecast revenue quarter
  target goal metric latency error alert incident postmortem runbook cluster node kubernetes postgres
  index query cache redis queue worker job cron timeout retry webhook api key token login session
  agent model prompt context memory search vector embedding ranking recall note idea draft blog post
  article paper research experiment result dataset training evaluation benchmark python typescript
  rust golang docker image container registry pipeline build test coverage lint format commit branch
  merge conflict pull request issue ticket priority sprint roadmap milestone launch marketing campaign
  audience segment survey feedback rating support refund discount coupon subscription plan tier trial
  onboarding tutorial guide lyon paris berlin tokyo lima monday tuesday friday morning evening urgent
  important optional blocked done pending approved rejected metric units coffee tea vegetarian allergy`
  .split(/\s+/)
  .filter(Boolean);

const QUERY_TERMS = [
  'deploy',
  'invoice payment',
  'kubernetes cluster',
  '"weekly report"',
  'postgres index query',
  'refund',
  'flight hotel booking',
  'latency alert',
  'kubernets', // a typo
  'customer feedback survey',
  'coffee',
  'backup restore -test',
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Inserts TOTAL generated entries in batches, interleaved as entries arrive in a live system: every
 * `stride`-th one belongs to the owner of 100,000, every `10 * stride`-th (offset by one) to the
 * owner of 10,000, the rest to OTHER_OWNERS accounts; creation times rise with the id over a year.
 */
async function generate(db: pg.Client, [small, large]: string[]) {
  const stride = Math.floor(TOTAL / OWNERS[1]);
  if (stride < 2) throw new Error(`TOTAL must be at least ${2 * OWNERS[1]}`);
  for (let start = 1; start <= TOTAL; start += BATCH) {
    const end = Math.min(TOTAL, start + BATCH - 1);
    await db.query(
      `insert into "memory"."memory_entry" ("id", "owner_id", "tier", "category", "content", "importance", "created_at")
       select 'mem_' || lpad(to_hex(g), 26, '0'),
         case when g % ${stride} = 0 then $2 when g % ${10 * stride} = 1 then $3
           else 'acc_bench_' || (g % ${OTHER_OWNERS}) end,
         (array['WORKING', 'EPISODIC', 'SEMANTIC'])[1 + g % 3],
         (array['general', 'work', 'travel', 'ops', 'finance', 'health', 'prefs', 'research'])[1 + g % 8],
         (select string_agg(($1::text[])[1 + floor(power(random(), 2) * array_length($1::text[], 1))::int], ' ')
            from generate_series(1, 8 + g % 25)),
         random(), now() - (${TOTAL} - g + random() * 100) * interval '365 days' / ${TOTAL}
       from generate_series(${start}::bigint, ${end}::bigint) g`,
      [WORDS, large, small],
    );
  }
}

/**
 * The dataset is kept in DATABASE between runs and generated only when absent or of another
 * size: without the memory table's secondary indexes (rebuilt after, much faster than keeping
 * them up to date row by row), then analyzed.
 */
async function ensureDataset(db: pg.Client, owners: User[]): Promise<string> {
  await db.query(`create table if not exists "public"."bench_memory_dataset"
    ("total" integer not null, "owners" text[] not null, "seconds" integer not null, "at" timestamptz not null default now())`);
  const ids = owners.map((owner) => owner.id);
  const [kept] = (await db.query(`select * from "public"."bench_memory_dataset"`)).rows;
  if (kept && kept.total === TOTAL && String(kept.owners) === String(ids))
    return `kept from ${new Date(kept.at).toISOString().slice(0, 10)} (generated in ${kept.seconds} s)`;
  const began = performance.now();
  const indexes = (
    await db.query(`select "indexname", "indexdef" from pg_indexes
      where "schemaname" = 'memory' and "tablename" = 'memory_entry' and "indexname" <> 'memory_entry_pkey'`)
  ).rows as { indexname: string; indexdef: string }[];
  await db.query('truncate "memory"."memory_entry", "memory"."memory_word", "public"."bench_memory_dataset"');
  for (const { indexname } of indexes) await db.query(`drop index "memory"."${indexname}"`);
  await generate(db, ids);
  await db.query(`set maintenance_work_mem = '256MB'`);
  for (const { indexdef } of indexes) await db.query(indexdef);
  await db.query('vacuum analyze "memory"."memory_entry"');
  const seconds = Math.round((performance.now() - began) / 1000);
  await db.query(
    `insert into "public"."bench_memory_dataset" ("total", "owners", "seconds") values ($1, $2, $3)`,
    [TOTAL, ids, seconds],
  );
  return `generated in ${seconds} s`;
}

const ownerInput = (size: number) => ({
  email: `bench-memory-${size}@example.com`,
  password: 'bench memory password',
});

/** An access token of a measured owner from the router at `graphqlUrl` (each platform signs its own). */
async function signIn(graphqlUrl: string, size: number): Promise<string> {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(LoginDocument), variables: { input: ownerInput(size) } }),
  });
  const body = (await response.json()) as { data?: { login: { accessToken: string } } };
  if (!body.data) throw new Error(`sign-in failed: ${JSON.stringify(body)}`);
  return body.data.login.accessToken;
}

/** The two measured owners: registered on the first run, signed in on the next ones. */
async function ownersOf(t: TestPlatform): Promise<User[]> {
  return Promise.all(
    OWNERS.map(async (size) => {
      const input = ownerInput(size);
      const login = await t.request(LoginDocument, { input });
      const signedIn = login.body.data?.login;
      const { accessToken, refreshToken, account } =
        signedIn ??
        (await t.data(RegisterDocument, { input: { ...input, displayName: `Bench ${size}` } })).register;
      return { ...t.client(accessToken), id: account.id, ...input, refreshToken };
    }),
  );
}

/** The search statement as the subgraph runs it: prepared by name on this connection. */
const runPrepared = (db: pg.Client, name: string, statement: { sql: string; params: unknown[] }) =>
  db.query({ name, text: numbered(statement.sql), values: statement.params });

const SEARCH = (snippet: boolean) =>
  `query ($q: String!) { searchMemory(query: $q, limit: 10) { total totalExact hits { score ${snippet ? 'snippet ' : ''}entry { id } } } }`;
const BY_ID = 'query ($id: ID!) { memory(id: $id) { id } }';

/**
 * Where one search's time goes, for the owner of 100,000: each stage once per round, interleaved,
 * so the machine's load weighs on all alike. Wall-clock median, and the median CPU this process
 * (client, router and subgraphs) spent per request; PostgreSQL's CPU is its own processes'.
 */
async function stageBreakdown(t: TestPlatform, db: pg.Client, owner: User): Promise<string[]> {
  const post = (url: string, headers: Record<string, string>, query: string, variables: object) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    }).then(async (response) => {
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    });
  const memoryUrl = t.platform.subgraphs.find((subgraph) => subgraph.name === 'memory')!.url;
  const bearer = { authorization: `Bearer ${owner.credential}` };
  const signed = () => ({
    [IDENTITY_HEADER]: signIdentity(
      { accountId: owner.id, role: 'USER', scopes: ['*'], via: 'jwt' },
      t.secrets.internal,
    ),
  });
  const [{ id }] = (
    await db.query('select "id" from "memory"."memory_entry" where "owner_id" = $1 limit 1', [owner.id])
  ).rows as { id: string }[];
  const stages: [string, (q: string) => Promise<unknown>][] = [
    ['router → subgraph → SQL, with snippets', (q) => post(t.graphqlUrl, bearer, SEARCH(true), { q })],
    ['router → subgraph → SQL, no snippet selected', (q) => post(t.graphqlUrl, bearer, SEARCH(false), { q })],
    [
      'memory subgraph directly (no router), with snippets',
      (q) => post(memoryUrl, signed(), SEARCH(true), { q }),
    ],
    [
      'SQL alone (prepared statement, one connection)',
      (q) => runPrepared(db, 'bench_stage', searchStatement(owner.id, q, {}, { limit: 10, offset: 0 })),
    ],
    [
      'router → subgraph, `memory(id)` (fixed cost of any query)',
      () => post(t.graphqlUrl, bearer, BY_ID, { id }),
    ],
    ['memory subgraph directly, `memory(id)`', () => post(memoryUrl, signed(), BY_ID, { id })],
  ];
  const wall = stages.map(() => [] as number[]);
  const cpu = stages.map(() => [] as number[]);
  const loadBefore = loadavg()[0];
  for (let round = 0; round < STAGE_ROUNDS + 12; round++) {
    const query = QUERY_TERMS[round % QUERY_TERMS.length];
    for (const [index, [, run]] of stages.entries()) {
      const [cpuBefore, started] = [process.cpuUsage(), performance.now()];
      await run(query);
      const [took, used] = [performance.now() - started, process.cpuUsage(cpuBefore)];
      if (round < 12) continue; // a warm-up round per query
      wall[index].push(took);
      cpu[index].push((used.user + used.system) / 1000);
    }
  }
  const median = (values: number[]) =>
    percentile(
      values.sort((a, b) => a - b),
      50,
    ).toFixed(1);
  return [
    `Where the time goes (owner of 100,000; router and subgraphs in this one process, so that its CPU is ` +
      `theirs; ${STAGE_ROUNDS} rounds, stages interleaved; load average ` +
      `${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)}), medians in ms:`,
    '',
    '| stage | wall | CPU of this process |',
    '| --- | ---: | ---: |',
    ...stages.map(([name], index) => `| ${name} | ${median(wall[index])} | ${median(cpu[index])} |`),
  ];
}

async function main() {
  await globalSetup();
  const t = await startTestPlatform(
    { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000' },
    { keep: DATABASE },
  );
  const db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
  const lines: string[] = [];
  const plans: string[] = [];
  try {
    const owners = await ownersOf(t);
    const dataset = await ensureDataset(db, owners);
    const [{ count }] = (await db.query('select count(*) from "memory"."memory_entry"')).rows;
    console.log(`${count} entries, ${dataset}`);

    lines.push(
      '# Memory search benchmark',
      '',
      `Run ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ` +
        'the platform as `npm start` runs it (the router in a process of its own, the subgraphs in the ' +
        'others) against PostgreSQL on the same machine. `npm run bench:memory` (`TOTAL`, `QUERIES` change the load).',
      '',
      `- Entries in all: **${Number(count).toLocaleString('en')}** (${OWNERS.map((s) => s.toLocaleString('en')).join(' and ')} ` +
        `of the two measured owners, the rest spread over ${OTHER_OWNERS} other accounts, interleaved in time), ${dataset}.`,
      `- Each owner: ${QUERIES} \`searchMemory\` calls (limit 10) through the router over HTTP, one at a time, ` +
        `cycling through ${QUERY_TERMS.length} queries (words, a phrase, a typo, an exclusion).`,
      '',
      '| owner holds | searches | p50 ms | p99 ms | max ms | load average (1 min) before → after |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    // The headline figures come from the platform as `npm start` runs it (router and subgraphs in
    // processes of their own), on the same kept dataset; the in-process platform above only made
    // the dataset and serves the stage table below, whose CPU column needs everything in one process.
    const npmStart = await startAsNpmStart({ LOG_LEVEL: 'warn' }, { keep: DATABASE });
    const p99s: number[] = [];
    try {
      const tokens = await Promise.all(OWNERS.map((size) => signIn(npmStart.graphqlUrl, size)));
      for (const [index, size] of OWNERS.entries()) {
        const latencies: number[] = [];
        const loadBefore = loadavg()[0];
        for (let i = 0; i < QUERIES + 10; i++) {
          const query = QUERY_TERMS[i % QUERY_TERMS.length];
          const started = performance.now();
          const response = await fetch(npmStart.graphqlUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[index]}` },
            body: JSON.stringify({
              query:
                'query ($q: String!) { searchMemory(query: $q, limit: 10) { total totalExact hits { score snippet entry { id } } } }',
              variables: { q: query },
            }),
          });
          const body = (await response.json()) as { errors?: unknown };
          if (body.errors) throw new Error(JSON.stringify(body.errors));
          if (i >= 10) latencies.push(performance.now() - started); // the first ten warm up
        }
        latencies.sort((a, b) => a - b);
        const [p50, p99, max] = [percentile(latencies, 50), percentile(latencies, 99), latencies.at(-1)!];
        p99s.push(p99);
        lines.push(
          `| ${size.toLocaleString('en')} | ${latencies.length} | ${p50.toFixed(1)} | ${p99.toFixed(1)} | ${max.toFixed(1)} | ` +
            `${loadBefore.toFixed(2)} → ${loadavg()[0].toFixed(2)} |`,
        );
        console.log(`${size}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
      }
    } finally {
      await npmStart.close();
    }
    lines.push(
      '',
      `Targets: p99 under 25 ms at 100,000 (${p99s[1] < 25 ? 'met' : 'missed'}: ${p99s[1].toFixed(1)} ms); ` +
        `the 100,000 figure at most twice the 10,000 one (${p99s[1] <= 2 * p99s[0] ? 'met' : 'missed'}: ` +
        `${(p99s[1] / p99s[0]).toFixed(2)}×).`,
    );
    lines.push(
      '',
      'The search statement alone (no router, no HTTP; prepared by name over one connection, as the ' +
        `subgraph runs it), median of ${SQL_RUNS} runs per query after ${PREPARE_RUNS} to settle its plan, ms:`,
      '',
      `| query | ${OWNERS.map((size) => size.toLocaleString('en')).join(' | ')} |`,
      `| --- | ${OWNERS.map(() => '---:').join(' | ')} |`,
    );
    for (const query of QUERY_TERMS) {
      const medians: string[] = [];
      for (const owner of owners) {
        const statement = searchStatement(owner.id, query, {}, { limit: 10, offset: 0 });
        const runs: number[] = [];
        for (let run = 0; run < PREPARE_RUNS + SQL_RUNS; run++) {
          const started = performance.now();
          await runPrepared(db, 'bench_table', statement);
          if (run >= PREPARE_RUNS) runs.push(performance.now() - started);
        }
        medians.push(
          percentile(
            runs.sort((a, b) => a - b),
            50,
          ).toFixed(1),
        );
      }
      lines.push(`| \`${query}\` | ${medians.join(' | ')} |`);
    }
    lines.push('', ...(await stageBreakdown(t, db, owners[1])));
    for (const query of ['deploy', 'kubernetes cluster', 'kubrnetes']) {
      // The plan the subgraph runs: its prepared statement's, once PostgreSQL has settled it.
      const statement = searchStatement(owners[1].id, query, {}, { limit: 10, offset: 0 });
      const name = `bench_plan_${plans.length}`;
      for (let run = 0; run < PREPARE_RUNS; run++) await runPrepared(db, name, statement);
      const values = statement.params.map((value) =>
        typeof value === 'number' ? String(value) : db.escapeLiteral(String(value)),
      );
      const plan = await db.query(
        `explain (analyze, buffers, costs off) execute ${name}(${values.join(', ')})`,
      );
      plans.push(
        '',
        `EXPLAIN ANALYZE of the prepared search for \`${query}\` by the owner of 100,000 entries ` +
          '(a generic plan: `$n` are its parameters):',
        '',
        '```',
        ...plan.rows.map((row) => row['QUERY PLAN'] as string),
        '```',
      );
    }
    await writeResults(
      join(projectRoot(), 'bench', 'results', 'memory.md'),
      lines.join('\n'),
      plans.join('\n'),
    );
    console.log([...lines, ...plans].join('\n'));
  } finally {
    await db.end();
    await t.close();
    await globalTeardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
