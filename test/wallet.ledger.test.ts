import { newId } from '../lib';
import {
  expireDueHolds,
  grantCredits,
  holdFunds,
  postHold,
  SystemAccountRole,
  transferNow,
  voidHold,
  type LedgerDeps,
} from '../subgraphs/wallet';
import type { Party } from '../subgraphs/wallet/ledger/ledger.accounts';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { ledgerViolations, readAccounts, walletDeps, withDatabase } from './wallet.support';

let t: TestPlatform;
let deps: LedgerDeps;
beforeAll(async () => {
  t = await startTestPlatform();
  deps = walletDeps(t);
});
afterAll(() => t.close());

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: { extensions?: { code?: string } }) => error.extensions?.code ?? String(error),
  );

async function fundedAccount(amount = 1_000_000n): Promise<string> {
  const accountId = newId('acc');
  await grantCredits(deps, { id: newId('grant'), accountId, asset: 'USD', amountMinor: amount });
  return accountId;
}

/** A hold of `amountMinor` from an account, into escrow unless `to` says otherwise. */
const holdFrom = (
  accountId: string,
  amountMinor: bigint,
  { timeoutSeconds, to = { system: SystemAccountRole.ESCROW } }: { timeoutSeconds?: number; to?: Party } = {},
) => holdFunds(deps, { id: newId('h'), from: { accountId }, to, asset: 'USD', amountMinor, timeoutSeconds });

async function available(accountId: string, asset = 'USD'): Promise<bigint> {
  const accounts = await withDatabase(t, readAccounts);
  const account = accounts.find((a) => a.owner_id === accountId && a.asset === asset);
  return account ? account.credits_posted - account.debits_posted - account.debits_pending : 0n;
}

test('a single transfer moves money once, and a replay answers the first result', async () => {
  const [alice, bob] = [await fundedAccount(), newId('acc')];
  const move = {
    id: newId('t'),
    from: { accountId: alice },
    to: { accountId: bob },
    asset: 'USD',
    amountMinor: 300n,
  };
  const first = await transferNow(deps, move);
  const again = await transferNow(deps, move);
  expect(first.created).toBe(true);
  expect(again.created).toBe(false);
  expect(again.transfer).toEqual(first.transfer);
  expect(await available(alice)).toBe(999_700n);
  expect(await available(bob)).toBe(300n);
  expect(await codeOf(transferNow(deps, { ...move, amountMinor: 301n }))).toBe('CONFLICT');
});

test('spending more than is available is PAYMENT_REQUIRED and changes nothing', async () => {
  const alice = await fundedAccount(100n);
  const to = { system: SystemAccountRole.PLATFORM_REVENUE };
  const spend = (amountMinor: bigint) =>
    transferNow(deps, { id: newId('t'), from: { accountId: alice }, to, asset: 'USD', amountMinor });
  expect(await codeOf(spend(101n))).toBe('PAYMENT_REQUIRED');
  await holdFrom(alice, 60n, { to });
  expect(await codeOf(spend(41n))).toBe('PAYMENT_REQUIRED');
  expect(await codeOf(spend(40n))).toBe('OK');
  expect(await available(alice)).toBe(0n);
});

test('a hold posts in part and releases the rest; it resolves only once', async () => {
  const alice = await fundedAccount(1000n);
  const hold = await holdFrom(alice, 700n);
  expect(await available(alice)).toBe(300n);
  const post = await postHold(deps, { id: newId('p'), pendingId: hold.transfer.id, amountMinor: 250n });
  expect(post.transfer.amountMinor).toBe(250n);
  expect(await available(alice)).toBe(750n);
  expect(await codeOf(voidHold(deps, { id: newId('v'), pendingId: hold.transfer.id }))).toBe('CONFLICT');
  expect(await codeOf(postHold(deps, { id: newId('p'), pendingId: hold.transfer.id }))).toBe('CONFLICT');
  // The same post again is its replay, not a second resolution.
  const replay = await postHold(deps, {
    id: post.transfer.id,
    pendingId: hold.transfer.id,
    amountMinor: 250n,
  });
  expect(replay).toMatchObject({ created: false, transfer: post.transfer });
});

test('posting more than a hold holds is refused', async () => {
  const alice = await fundedAccount(1000n);
  const to = { system: SystemAccountRole.ESCROW };
  const hold = await holdFrom(alice, 10n, { to });
  expect(
    await codeOf(postHold(deps, { id: newId('p'), pendingId: hold.transfer.id, amountMinor: 11n })),
  ).toBe('BAD_USER_INPUT');
  expect(await codeOf(postHold(deps, { id: newId('p'), pendingId: 'no-such-hold' }))).toBe('NOT_FOUND');
});

test('a post racing a void: exactly one wins, every time', async () => {
  const alice = await fundedAccount(1_000_000n);
  const to = { accountId: newId('acc') };
  for (let round = 0; round < 30; round++) {
    const hold = await holdFrom(alice, 100n, { to });
    const pendingId = hold.transfer.id;
    const outcomes = await Promise.all([
      codeOf(postHold(deps, { id: newId('p'), pendingId })),
      codeOf(voidHold(deps, { id: newId('v'), pendingId })),
      codeOf(postHold(deps, { id: newId('p'), pendingId, amountMinor: 50n })),
      codeOf(voidHold(deps, { id: newId('v'), pendingId })),
    ]);
    expect(outcomes.filter((outcome) => outcome === 'OK')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'CONFLICT')).toHaveLength(3);
  }
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

test('an expired hold is voided by the sweeper, once, and can no longer be posted', async () => {
  const alice = await fundedAccount(500n);
  const hold = await holdFrom(alice, 200n, { timeoutSeconds: 1 });
  expect(await available(alice)).toBe(300n);
  // The subgraph's own sweeper runs every second; wait for it rather than calling it.
  const deadline = Date.now() + 10_000;
  while ((await available(alice)) !== 500n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  expect(await available(alice)).toBe(500n);
  const resolutions = await withDatabase(t, (client) =>
    client.query(`select "kind" from "wallet"."transfer" where "pending_id" = $1`, [hold.transfer.id]),
  );
  expect(resolutions.rows).toEqual([{ kind: 'EXPIRE' }]);
  expect(await codeOf(postHold(deps, { id: newId('p'), pendingId: hold.transfer.id }))).toBe('CONFLICT');
  expect(await expireDueHolds(deps)).toBe(0);
});

test('concurrent sweepers expire each hold once', async () => {
  const alice = await fundedAccount(10_000n);
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const hold = await holdFrom(alice, 10n, { timeoutSeconds: 1 });
    ids.push(hold.transfer.id);
  }
  await withDatabase(t, (client) =>
    client.query(
      `update "wallet"."pending_hold" set "timeout_at" = now() - interval '1 second' where "transfer_id" = any($1)`,
      [ids],
    ),
  );
  const counts = await Promise.all([1, 2, 3, 4].map(() => expireDueHolds(walletDeps(t))));
  expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(40);
  expect(await available(alice)).toBe(10_000n);
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

test('a bad hold is logged and skipped; the sweeper goes on with the rest', async () => {
  const alice = await fundedAccount(1_000n);
  const make = () => holdFrom(alice, 10n, { timeoutSeconds: 3600 });
  const [bad, good] = [await make(), await make()];
  // A hold row pointing at a transfer that is not pending: its expiry must fail.
  await withDatabase(t, async (client) => {
    await client.query(`alter table "wallet"."pending_hold" drop constraint "pending_hold_transfer_id_fkey"`);
    await client.query(`insert into "wallet"."pending_hold" values ('ghost', now() - interval '1 hour')`);
    await client.query(
      `update "wallet"."pending_hold" set "timeout_at" = now() - interval '1 second' where "transfer_id" in ($1, $2)`,
      [bad.transfer.id, good.transfer.id],
    );
  });
  const sweeper = walletDeps(t);
  const expired = await expireDueHolds(sweeper);
  expect(expired).toBeGreaterThanOrEqual(0);
  expect(await available(alice)).toBe(1_000n);
  expect(t.logs.some((line) => line.msg === 'hold not expired; skipped' && line.pendingId === 'ghost')).toBe(
    true,
  );
  await withDatabase(t, (client) =>
    client.query(`delete from "wallet"."pending_hold" where "transfer_id" = 'ghost'`),
  );
});

test('escrow, revenue and fees never pay out more than they hold; only the clearing accounts go negative', async () => {
  const flags = await withDatabase(t, (client) =>
    client.query<{ owner_id: string; flags: number }>(
      `select distinct "owner_id", "flags" from "wallet"."ledger_account" where "kind" = 'SYSTEM' order by 1`,
    ),
  );
  expect(flags.rows).toEqual([
    { owner_id: 'system:DEPOSITS_CLEARING', flags: 0 },
    { owner_id: 'system:ESCROW', flags: 1 },
    { owner_id: 'system:FEES', flags: 1 },
    { owner_id: 'system:PAYOUTS_CLEARING', flags: 0 },
    { owner_id: 'system:PLATFORM_REVENUE', flags: 1 },
  ]);
  // Money held into escrow and posted is what escrow may pay out, and not one minor unit more.
  const alice = await fundedAccount(1_000n);
  const hold = await holdFrom(alice, 400n);
  await postHold(deps, { id: newId('p'), pendingId: hold.transfer.id });
  const escrow = (await withDatabase(t, readAccounts)).find(
    (a) => a.owner_id === 'system:ESCROW' && a.asset === 'USD',
  )!;
  const held = escrow.credits_posted - escrow.debits_posted - escrow.debits_pending;
  expect(held).toBeGreaterThanOrEqual(400n);
  const payOut = (system: SystemAccountRole, amountMinor: bigint) =>
    transferNow(deps, {
      id: newId('t'),
      from: { system },
      to: { accountId: alice },
      asset: 'USD',
      amountMinor,
    });
  expect(await codeOf(payOut(SystemAccountRole.ESCROW, held + 1n))).toBe('PAYMENT_REQUIRED');
  expect(await codeOf(payOut(SystemAccountRole.FEES, 1n))).toBe('PAYMENT_REQUIRED');
  expect(await available(alice)).toBe(600n);
  expect(await codeOf(payOut(SystemAccountRole.ESCROW, 400n))).toBe('OK');
  expect(await available(alice)).toBe(1_000n);
  // Deposits clearing mirrors money outside the ledger: granting drives it below zero.
  const clearing = (await withDatabase(t, readAccounts)).find(
    (a) => a.owner_id === 'system:DEPOSITS_CLEARING' && a.asset === 'USD',
  )!;
  expect(clearing.credits_posted - clearing.debits_posted).toBeLessThan(0n);
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

test('transfers and entries are immutable: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
  const alice = await fundedAccount(50n);
  const move = await transferNow(deps, {
    id: newId('t'),
    from: { accountId: alice },
    to: { accountId: newId('acc') },
    asset: 'USD',
    amountMinor: 20n,
  });
  const refused = (sql: string, params: unknown[] = []) =>
    withDatabase(t, (client) => client.query(sql, params)).then(
      () => 'changed',
      (error: { message: string }) => error.message,
    );
  const id = move.transfer.id;
  expect(await refused(`update "wallet"."transfer" set "amount" = 1 where "id" = $1`, [id])).toMatch(
    /transfer rows are immutable: UPDATE refused/,
  );
  expect(await refused(`delete from "wallet"."transfer" where "id" = $1`, [id])).toMatch(/DELETE refused/);
  expect(
    await refused(`update "wallet"."ledger_entry" set "posted_delta" = 0 where "transfer_id" = $1`, [id]),
  ).toMatch(/ledger_entry rows are immutable: UPDATE refused/);
  expect(await refused(`delete from "wallet"."ledger_entry" where "transfer_id" = $1`, [id])).toMatch(
    /DELETE refused/,
  );
  expect(await refused(`truncate "wallet"."ledger_entry"`)).toMatch(/TRUNCATE refused/);
  expect(await available(alice)).toBe(30n);
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});
