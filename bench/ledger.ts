/**
 * Ledger throughput: CONCURRENCY clients apply single transfers through the wallet's ledger
 * service (the batched `apply_transfers` path other subgraphs reach through GraphQL), first all
 * from one hot account, then between random pairs of 10,000 accounts, then a mix over those
 * accounts where each client alternates a transfer or a hold with the post or void of its hold.
 * Reports transfers per second
 * and p50/p99 latency, checks the bank invariants afterwards, and measures the machine's ceiling
 * in the same run: a bare `UPDATE … SET balance = balance + 1` loop on one row and on random rows
 * of 10,000, at the same concurrency. Results go to bench/results/ledger.md.
 *
 *   npm run bench:ledger                    # 64 clients, 10 s per measure
 *   CONCURRENCY=16 SECONDS=5 npm run bench:ledger
 */
import 'reflect-metadata';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { newId, projectRoot } from '../lib';
import { LEDGER_MAX_IN_FLIGHT } from '../subgraphs/wallet/ledger/ledger.engine';
import {
  grantCredits,
  holdFunds,
  postHold,
  transferNow,
  voidHold,
  type LedgerDeps,
} from '../subgraphs/wallet';
import globalSetup from '../test/support/global-setup';
import globalTeardown from '../test/support/global-teardown';
import { startTestPlatform, type TestPlatform } from '../test/support/platform';
import { ledgerViolations, readAccounts, walletDeps, withinLimit } from '../test/wallet.support';

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const SECONDS = Number(process.env.SECONDS ?? 10);
const SPREAD_ACCOUNTS = 10_000;
/** Connections of the wallet's pool, and of the ceiling loop's. */
const POOL = 16;

interface Measure {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** CONCURRENCY loops run `operation` back to back for SECONDS; latency is per call. */
async function measure(operation: (worker: number) => Promise<unknown>): Promise<Measure> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (performance.now() < end) {
        const began = performance.now();
        try {
          await operation(worker);
        } catch (error) {
          if (errors++ === 0) console.error(error);
        }
        latencies.push(performance.now() - began);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length - errors,
    perSecond: Math.round((latencies.length - errors) / elapsed),
    p50: Number(percentile(latencies, 50).toFixed(2)),
    p99: Number(percentile(latencies, 99).toFixed(2)),
    errors,
  };
}

const randomOf = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)];

async function fund(deps: LedgerDeps, owners: string[], amountMinor: bigint) {
  for (let i = 0; i < owners.length; i += 500)
    await Promise.all(
      owners
        .slice(i, i + 500)
        .map((accountId) => grantCredits(deps, { id: newId('grant'), accountId, asset: 'USD', amountMinor })),
    );
}

async function ledgerRuns(t: TestPlatform) {
  const deps = walletDeps(t);
  const move = (from: string, to: string, amountMinor: bigint) =>
    transferNow(deps, {
      id: newId('bench'),
      from: { accountId: from },
      to: { accountId: to },
      asset: 'USD',
      amountMinor,
    });

  // One hot account pays everyone.
  const hot = newId('acc');
  const payees = Array.from({ length: 1000 }, () => newId('acc'));
  await fund(deps, [hot], 10n ** 15n);
  await fund(deps, payees, 1n); // opens their accounts before the clock starts
  const hotRun = await measure(() => move(hot, randomOf(payees), 1n));

  // 10,000 accounts paying each other at random.
  const owners = Array.from({ length: SPREAD_ACCOUNTS }, () => newId('acc'));
  await fund(deps, owners, 1_000_000n);
  const spreadRun = await measure(() => {
    const from = randomOf(owners);
    let to = randomOf(owners);
    while (to === from) to = randomOf(owners);
    return move(from, to, BigInt(1 + Math.floor(Math.random() * 100)));
  });

  // The same accounts, two-phase: a client with an open hold posts (part of) it or voids it; one
  // without makes a transfer or a hold. Every call is one ledger transfer.
  const openHolds: ({ id: string; amount: bigint } | undefined)[] = [];
  const mixedRun = await measure(async (worker) => {
    const open = openHolds[worker];
    if (open) {
      openHolds[worker] = undefined;
      return Math.random() < 0.5
        ? postHold(deps, { id: newId('bench'), pendingId: open.id, amountMinor: open.amount / 2n + 1n })
        : voidHold(deps, { id: newId('bench'), pendingId: open.id });
    }
    const from = randomOf(owners);
    let to = randomOf(owners);
    while (to === from) to = randomOf(owners);
    const amount = BigInt(1 + Math.floor(Math.random() * 100));
    if (Math.random() < 0.5) return move(from, to, amount);
    const hold = await holdFunds(deps, {
      id: newId('bench'),
      from: { accountId: from },
      to: { accountId: to },
      asset: 'USD',
      amountMinor: amount,
    });
    openHolds[worker] = { id: hold.transfer.id, amount };
  });
  return { hotRun, spreadRun, mixedRun, users: [hot, ...payees, ...owners] };
}

/** The same load on the bare database: one UPDATE per call, autocommitted. */
async function ceilingRuns(databaseUrl: string) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL });
  try {
    await pool.query(
      'create table "public"."bench_counter" ("id" integer primary key, "balance" bigint not null)',
    );
    await pool.query('insert into "public"."bench_counter" select g, 0 from generate_series(1, $1) g', [
      SPREAD_ACCOUNTS,
    ]);
    const add = (id: number) =>
      pool.query('update "public"."bench_counter" set "balance" = "balance" + 1 where "id" = $1', [id]);
    const hotCeiling = await measure(() => add(1));
    const spreadCeiling = await measure(() => add(1 + Math.floor(Math.random() * SPREAD_ACCOUNTS)));
    await pool.query('drop table "public"."bench_counter"');
    return { hotCeiling, spreadCeiling };
  } finally {
    await pool.end();
  }
}

async function invariants(t: TestPlatform, users: string[], expectedTotal: bigint) {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    const owners = new Set(users);
    const accounts = (await readAccounts(client)).filter((account) => owners.has(account.owner_id));
    const total = accounts.reduce((sum, a) => sum + a.credits_posted - a.debits_posted, 0n);
    const violations = await ledgerViolations(client);
    if (total !== expectedTotal) violations.push(`user balances sum to ${total}, not ${expectedTotal}`);
    violations.push(
      ...accounts.filter((account) => !withinLimit(account)).map((a) => `over its limit: ${a.id}`),
    );
    return violations;
  } finally {
    await client.end();
  }
}

async function main() {
  await globalSetup(); // DATABASE_URL when set, else a throwaway embedded PostgreSQL
  const t = await startTestPlatform({ DB_POOL_MAX: String(POOL), LOG_LEVEL: 'warn' });
  try {
    const { hotRun, spreadRun, mixedRun, users } = await ledgerRuns(t);
    const expectedTotal = 10n ** 15n + 1000n + 1_000_000n * BigInt(SPREAD_ACCOUNTS);
    const violations = await invariants(t, users, expectedTotal);
    const { hotCeiling, spreadCeiling } = await ceilingRuns(t.databaseUrl);
    const server = new pg.Client({ connectionString: t.databaseUrl });
    await server.connect();
    const settings = (
      await server.query<{ name: string; setting: string }>(
        `select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'server_version')`,
      )
    ).rows;
    await server.end();

    const row = (name: string, m: Measure, ceiling?: Measure) =>
      `| ${name} | ${m.count} | ${m.perSecond} | ${m.p50} | ${m.p99} | ${m.errors} | ${
        ceiling ? `${((100 * m.perSecond) / ceiling.perSecond).toFixed(0)}%` : '—'
      } |`;
    const table = [
      '| run | operations | per second | p50 (ms) | p99 (ms) | errors | of ceiling |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      row('ledger transfers, one hot account', hotRun, hotCeiling),
      row(`ledger transfers, spread over ${SPREAD_ACCOUNTS} accounts`, spreadRun, spreadCeiling),
      row(
        `ledger mix (transfers, holds, posts, voids), ${SPREAD_ACCOUNTS} accounts`,
        mixedRun,
        spreadCeiling,
      ),
      row('ceiling: bare UPDATE, one row', hotCeiling),
      row(`ceiling: bare UPDATE, random rows of ${SPREAD_ACCOUNTS}`, spreadCeiling),
    ].join('\n');
    const verdict = violations.length
      ? `**${violations.length} violations**: ${violations.slice(0, 5).join('; ')}`
      : 'none';
    const report =
      `# Ledger throughput\n\n` +
      `\`npm run bench:ledger\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ` +
      `${cpus().length} cores, PostgreSQL ${settings.map((s) => `${s.name}=${s.setting}`).join(', ')}; ` +
      `${CONCURRENCY} concurrent clients for ${SECONDS} s per run, one process (the platform and the clients). ` +
      `Ledger runs call the wallet's ledger service in-process (the path the internal GraphQL mutations take, ` +
      `without HTTP): each is one transfer (SINGLE; in the mix also PENDING, POST and VOID), idempotency key, ` +
      `two entries and two balance events, batched with concurrent ones into one \`apply_transfers\` statement ` +
      `(at most ${LEDGER_MAX_IN_FLIGHT} in flight, pool of ${POOL}). ` +
      `Ceiling runs are one autocommitted \`UPDATE … SET balance = balance + 1\` per call over a pool of ${POOL}.\n\n` +
      `${table}\n\nInvariant violations after the ledger runs (double entry, balances equal their entries, ` +
      `user balances summing to what was granted, no user over its limit): ${verdict}.\n`;
    console.log(report);
    await mkdir(join(projectRoot(), 'bench', 'results'), { recursive: true });
    await writeFile(join(projectRoot(), 'bench', 'results', 'ledger.md'), report);
    if (violations.length) process.exitCode = 1;
  } finally {
    await t.close();
    await globalTeardown();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
