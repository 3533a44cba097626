import pg from 'pg';
import type { EntityManager } from '../lib';
import type { LedgerDeps } from '../subgraphs/wallet';
import { grantCredits } from '../subgraphs/wallet/ledger/ledger.service';
import type { TestPlatform, User } from './support/platform';

/** The wallet subgraph's own database handle and pub/sub, to drive the ledger without HTTP. */
export function walletDeps(t: TestPlatform): LedgerDeps {
  const wallet = t.platform.subgraphs.find((subgraph) => subgraph.name === 'wallet')!;
  return { em: wallet.orm.em.fork() as unknown as EntityManager, pubsub: t.platform.pubsub, log: t.log };
}

/** A new account holding `microUsd` USD credits, granted straight through the ledger. */
export async function fundedUser(t: TestPlatform, microUsd: bigint, name = 'Payer'): Promise<User> {
  const user = await t.register(name);
  if (microUsd > 0n)
    await grantCredits(walletDeps(t), {
      id: `grant-${user.id}`,
      accountId: user.id,
      asset: 'USD',
      amountMinor: microUsd,
    });
  return user;
}

/** An owner's posted USD credits and what is held of them, read from the ledger itself. */
export async function usdCredits(
  t: TestPlatform,
  ownerId: string,
): Promise<{ posted: bigint; held: bigint }> {
  const rows = await withDatabase(t, (client) =>
    client.query<{ posted: string; held: string }>(
      `select "credits_posted" - "debits_posted" as "posted", "debits_pending" as "held"
         from "wallet"."ledger_account" where "owner_id" = $1 and "asset" = 'USD'`,
      [ownerId],
    ),
  );
  const [row] = rows.rows;
  return { posted: BigInt(row?.posted ?? 0), held: BigInt(row?.held ?? 0) };
}

export interface AccountRow {
  id: string;
  owner_id: string;
  asset: string;
  kind: string;
  debits_posted: bigint;
  credits_posted: bigint;
  debits_pending: bigint;
  credits_pending: bigint;
}

/** One consistent read of every ledger account (a single statement sees one snapshot). */
export async function readAccounts(client: pg.ClientBase | pg.Pool): Promise<AccountRow[]> {
  const { rows } = await client.query<Record<string, string>>(
    `select "id", "owner_id", "asset", "kind", "debits_posted", "credits_posted", "debits_pending",
            "credits_pending" from "wallet"."ledger_account" order by "id"`,
  );
  return rows.map((row) => ({
    id: row.id,
    owner_id: row.owner_id,
    asset: row.asset,
    kind: row.kind,
    debits_posted: BigInt(row.debits_posted),
    credits_posted: BigInt(row.credits_posted),
    debits_pending: BigInt(row.debits_pending),
    credits_pending: BigInt(row.credits_pending),
  }));
}

/** Credits less debits, posted and pending: what an account is worth once every hold resolves either way. */
export const netWorth = (a: AccountRow) =>
  a.credits_posted - a.debits_posted + a.credits_pending - a.debits_pending;

/** A user account never spends what it does not have (debits, posted and held, within posted credits). */
export const withinLimit = (a: AccountRow) =>
  a.kind !== 'USER' || a.debits_posted + a.debits_pending <= a.credits_posted;

/**
 * Everything the ledger's tables must agree on, as a list of violations (empty when sound):
 * double entry per transfer, balances equal to their entries, pending totals equal to the open
 * holds, each hold resolved at most once and open exactly when unresolved, every asset summing to zero.
 */
export async function ledgerViolations(client: pg.ClientBase | pg.Pool): Promise<string[]> {
  const checks: [string, string][] = [
    [
      'a transfer without exactly two entries summing to zero',
      `select t."id" from "wallet"."transfer" t left join "wallet"."ledger_entry" e on e."transfer_id" = t."id"
       group by t."id" having count(e.*) <> 2 or sum(e."posted_delta") <> 0 or sum(e."pending_delta") <> 0`,
    ],
    [
      'an account whose totals differ from the sum of its entries',
      `select a."id" from "wallet"."ledger_account" a left join "wallet"."ledger_entry" e on e."account_id" = a."id"
       group by a."id"
       having coalesce(sum(e."posted_delta"), 0) <> a."credits_posted" - a."debits_posted"
           or coalesce(sum(e."pending_delta"), 0) <> a."credits_pending" - a."debits_pending"`,
    ],
    [
      "an account whose last entry's balance is not its balance",
      `select a."id" from "wallet"."ledger_account" a
       join lateral (select * from "wallet"."ledger_entry" e where e."account_id" = a."id"
                     order by e."id" desc limit 1) last on true
       where last."posted_after" <> a."credits_posted" - a."debits_posted"
          or last."available_after" <> a."credits_posted" - a."debits_posted" - a."debits_pending"`,
    ],
    [
      'an account whose pending totals differ from its open holds',
      `with open as (select t."debit_account_id", t."credit_account_id", t."amount" from "wallet"."pending_hold" h
                     join "wallet"."transfer" t on t."id" = h."transfer_id"),
            debits as (select "debit_account_id" as "id", sum("amount") as "held" from open group by 1),
            credits as (select "credit_account_id" as "id", sum("amount") as "held" from open group by 1)
       select a."id" from "wallet"."ledger_account" a
       left join debits d on d."id" = a."id" left join credits c on c."id" = a."id"
       where a."debits_pending" <> coalesce(d."held", 0) or a."credits_pending" <> coalesce(c."held", 0)`,
    ],
    [
      'a pending transfer both open and resolved, or resolved twice',
      `select p."id" from "wallet"."transfer" p
       where p."kind" = 'PENDING'
         and (select count(*) from "wallet"."transfer" r where r."pending_id" = p."id")
             + (select count(*) from "wallet"."pending_hold" h where h."transfer_id" = p."id") <> 1`,
    ],
    [
      'a user account over its limit',
      `select "id" from "wallet"."ledger_account"
       where "kind" = 'USER' and "debits_posted" + "debits_pending" > "credits_posted"`,
    ],
    [
      'an asset whose accounts do not sum to zero',
      `select "asset" from "wallet"."ledger_account" group by "asset"
       having sum("credits_posted" - "debits_posted") <> 0 or sum("credits_pending" - "debits_pending") <> 0`,
    ],
  ];
  const violations: string[] = [];
  for (const [name, sql] of checks) {
    const { rows } = await client.query(sql);
    for (const row of rows) violations.push(`${name}: ${JSON.stringify(row)}`);
  }
  return violations;
}

/** Runs `work` on a client of the test's database. */
export async function withDatabase<T>(t: TestPlatform, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A small seeded PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: T[]) => items[Math.floor(next() * items.length)],
  };
}

/** An account's posted balance and what it holds, in one asset's minor units (0 for no account). */
export async function assetBalance(t: TestPlatform, ownerId: string, asset: string) {
  const { rows } = await withDatabase(t, (client) =>
    client.query<{ posted: string; held: string }>(
      `select "credits_posted" - "debits_posted" as "posted", "debits_pending" as "held"
         from "wallet"."ledger_account" where "owner_id" = $1 and "asset" = $2`,
      [ownerId, asset],
    ),
  );
  return { posted: BigInt(rows[0]?.posted ?? 0), held: BigInt(rows[0]?.held ?? 0) };
}

/** How many tasks an account created: a refused hire must leave none behind. */
export async function taskCount(t: TestPlatform, creatorId: string): Promise<number> {
  const { rows } = await withDatabase(t, (client) =>
    client.query<{ n: string }>(`select count(*) as "n" from "tasks"."task" where "creator_id" = $1`, [
      creatorId,
    ]),
  );
  return Number(rows[0].n);
}
