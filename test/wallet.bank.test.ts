/**
 * A Jepsen-style bank test against real PostgreSQL: random concurrent transfers, holds, posts,
 * voids, replays and expiries among a few accounts, while readers take full snapshots. Every
 * snapshot must sum to the starting total with no user account over its limit; every hold must be
 * resolved exactly once, by at most one of the clients that raced for it; the tables must agree.
 */
import { createPeers, newId } from '../lib';
import {
  grantCredits,
  holdFunds,
  postHold,
  transferNow,
  voidHold,
  type LedgerDeps,
} from '../subgraphs/wallet';
import { LedgerBalancesDocument } from './generated/graphql';
import { startTestPlatform, type Client, type TestPlatform } from './support/platform';
import { registerAdmin } from './tasks.support';
import {
  ledgerViolations,
  netWorth,
  readAccounts,
  seededRandom,
  walletDeps,
  withDatabase,
  withinLimit,
  type AccountRow,
} from './wallet.support';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform({ DB_POOL_MAX: '12' });
});
afterAll(() => t.close());

const START = 1_000_000n;

/** One way to reach the ledger: its service functions, or GraphQL as another subgraph calls it. */
interface Ledger {
  transfer(id: string, from: string, to: string, amount: bigint): Promise<unknown>;
  hold(id: string, from: string, to: string, amount: bigint, timeoutSeconds?: number): Promise<unknown>;
  post(id: string, pendingId: string, amount?: bigint): Promise<unknown>;
  void(id: string, pendingId: string): Promise<unknown>;
  /** What a transfer answered, comparable between first answer and replay. */
  idOf(answer: unknown): string;
}

function direct(deps: () => LedgerDeps): Ledger {
  const move = (id: string, from: string, to: string, amount: bigint) => ({
    id,
    from: { accountId: from },
    to: { accountId: to },
    asset: 'USD',
    amountMinor: amount,
  });
  return {
    transfer: (id, from, to, amount) => transferNow(deps(), move(id, from, to, amount)),
    hold: (id, from, to, amount, timeoutSeconds) =>
      holdFunds(deps(), { ...move(id, from, to, amount), timeoutSeconds }),
    post: (id, pendingId, amount) => postHold(deps(), { id, pendingId, amountMinor: amount }),
    void: (id, pendingId) => voidHold(deps(), { id, pendingId }),
    idOf: (answer) => (answer as { transfer: { id: string } }).transfer.id,
  };
}

function overGraphQL(platform: TestPlatform): Ledger {
  // Exactly how another subgraph calls the wallet: straight to it, signed as a service.
  const wallet = platform.platform.subgraphs.find((subgraph) => subgraph.name === 'wallet')!;
  const peers = createPeers('tasks', { wallet: wallet.url }, platform.secrets.internal);
  const call = (mutation: string, type: string, input: Record<string, unknown>) =>
    peers.request<Record<string, { id: string }>>(
      'wallet',
      `mutation ($input: ${type}!) { ${mutation}(input: $input) { id kind amountMinor } }`,
      { input },
    );
  const move = (id: string, from: string, to: string, amount: bigint) => ({
    id,
    from: { accountId: from },
    to: { accountId: to },
    asset: 'USD',
    amountMinor: amount.toString(),
  });
  return {
    transfer: (id, from, to, amount) =>
      call('ledgerTransfer', 'LedgerTransferInput', move(id, from, to, amount)),
    hold: (id, from, to, amount, timeoutSeconds) =>
      call('ledgerHold', 'LedgerHoldInput', { ...move(id, from, to, amount), timeoutSeconds }),
    post: (id, pendingId, amount) =>
      call('ledgerPost', 'LedgerResolveInput', { id, pendingId, amountMinor: amount?.toString() }),
    void: (id, pendingId) => call('ledgerVoid', 'LedgerResolveInput', { id, pendingId }),
    idOf: (answer) => Object.values(answer as Record<string, { id: string }>)[0].id,
  };
}

const codeOf = (error: unknown) =>
  (error as { extensions?: { code?: string } }).extensions?.code ?? `unexpected: ${String(error)}`;

interface RunOptions {
  ledger: Ledger;
  accounts: number;
  operations: number;
  concurrency: number;
  seed: number;
  /** Full reads of every account while the run goes on. */
  read: () => Promise<AccountRow[]>;
}

/** Runs the workload and answers every violation it saw (none, for a sound ledger). */
async function bank({ ledger, accounts, operations, concurrency, seed, read }: RunOptions) {
  const random = seededRandom(seed);
  const owners = Array.from({ length: accounts }, () => newId('acc'));
  const deps = walletDeps(t);
  for (const owner of owners)
    await grantCredits(deps, { id: newId('grant'), accountId: owner, asset: 'USD', amountMinor: START });
  const total = START * BigInt(accounts);
  const ledgerIds = new Set(
    (await withDatabase(t, readAccounts)).filter((row) => owners.includes(row.owner_id)).map((row) => row.id),
  );
  const mine = (rows: AccountRow[]) => rows.filter((row) => ledgerIds.has(row.id));

  const violations: string[] = [];
  const pendings: string[] = [];
  /** pending id → the ids of resolutions a client was told succeeded. */
  const resolvedFor = new Map<string, Set<string>>();
  const sent: { request: () => Promise<unknown>; answer: string }[] = [];
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

  const expect = async (
    label: string,
    request: () => Promise<unknown>,
    onSuccess?: (answer: unknown) => void,
  ) => {
    try {
      const answer = await request();
      count(`${label} ok`);
      onSuccess?.(answer);
      return answer;
    } catch (error) {
      const code = codeOf(error);
      count(`${label} ${code}`);
      if (!['PAYMENT_REQUIRED', 'CONFLICT'].includes(code)) violations.push(`${label} answered ${code}`);
      return undefined;
    }
  };
  const resolved = (pendingId: string) => (answer: unknown) => {
    const ids = resolvedFor.get(pendingId) ?? new Set();
    ids.add(ledger.idOf(answer));
    resolvedFor.set(pendingId, ids);
  };

  const amount = () => BigInt(1 + random.int(Number(START / 3n)));
  const pair = () => {
    const from = random.pick(owners);
    let to = random.pick(owners);
    while (to === from) to = random.pick(owners);
    return [from, to] as const;
  };

  async function operation(): Promise<void> {
    const roll = random.next();
    if (roll < 0.3) {
      const [from, to] = pair();
      const id = newId('tr');
      const size = amount();
      const request = () => ledger.transfer(id, from, to, size);
      const answer = await expect('transfer', request);
      if (answer) sent.push({ request, answer: ledger.idOf(answer) });
    } else if (roll < 0.55) {
      const [from, to] = pair();
      const id = newId('hold');
      // Some holds time out and are expired by the subgraph's sweeper while the run goes on.
      const timeout = random.next() < 0.2 ? 1 : undefined;
      const answer = await expect('hold', () => ledger.hold(id, from, to, amount(), timeout));
      if (answer) pendings.push(id);
    } else if (roll < 0.9 && pendings.length) {
      const pendingId = random.pick(pendings);
      const post = () => {
        const partial = random.next() < 0.5 ? BigInt(1 + random.int(100)) : undefined;
        const id = newId('post');
        return expect('post', () => ledger.post(id, pendingId, partial), resolved(pendingId));
      };
      const cancel = () => {
        const id = newId('void');
        return expect('void', () => ledger.void(id, pendingId), resolved(pendingId));
      };
      // A third of the time, a post and a void race for the same hold.
      if (roll < 0.65) await post();
      else if (roll < 0.78) await cancel();
      else await Promise.all([post(), cancel()]);
    } else if (sent.length) {
      const { request, answer } = random.pick(sent);
      const replay = await expect('replay', request);
      if (replay && ledger.idOf(replay) !== answer) violations.push(`replay answered ${ledger.idOf(replay)}`);
    }
  }

  let running = true;
  let reads = 0;
  const reader = async () => {
    while (running) {
      const rows = mine(await read());
      reads++;
      const sum = rows.reduce((sum, row) => sum + netWorth(row), 0n);
      if (sum !== total) violations.push(`a read summed to ${sum}, not ${total}`);
      for (const row of rows.filter((row) => !withinLimit(row))) violations.push(`over its limit: ${row.id}`);
    }
  };
  let left = operations;
  const worker = async () => {
    while (left-- > 0) await operation();
  };
  const readers = [reader(), reader()];
  await Promise.all(Array.from({ length: concurrency }, worker));
  running = false;
  await Promise.all(readers);

  // Settle: void whatever is still open, then every hold must have exactly one resolution.
  const open = await withDatabase(t, (client) =>
    client.query<{ transfer_id: string }>(
      `select "transfer_id" from "wallet"."pending_hold" where "transfer_id" = any($1)`,
      [pendings],
    ),
  );
  for (const { transfer_id } of open.rows)
    await expect('settle', () => ledger.void(newId('void'), transfer_id), resolved(transfer_id));

  const resolutions = await withDatabase(t, (client) =>
    client.query<{ pending_id: string; id: string; kind: string }>(
      `select "pending_id", "id", "kind" from "wallet"."transfer" where "pending_id" = any($1)`,
      [pendings],
    ),
  );
  const byPending = new Map(resolutions.rows.map((row) => [row.pending_id, row]));
  for (const pendingId of pendings) {
    const stored = byPending.get(pendingId);
    const told = [...(resolvedFor.get(pendingId) ?? [])];
    if (!stored) violations.push(`hold ${pendingId} never resolved`);
    else if (told.length > 1) violations.push(`hold ${pendingId} resolved for ${told.length} clients`);
    else if (stored.kind === 'EXPIRE' ? told.length !== 0 : told[0] !== stored.id)
      violations.push(`hold ${pendingId}: clients were told ${told.join()}, the ledger says ${stored.id}`);
  }
  const final = mine(await read());
  const posted = final.reduce((sum, row) => sum + row.credits_posted - row.debits_posted, 0n);
  if (posted !== total) violations.push(`settled balances sum to ${posted}, not ${total}`);
  violations.push(...(await withDatabase(t, ledgerViolations)));
  return { violations, reads, counts: Object.fromEntries(counts), pendings: pendings.length };
}

test('1,000 concurrent transfers, holds, posts and voids among 20 accounts: zero violations', async () => {
  const result = await withDatabase(t, (client) =>
    bank({
      ledger: direct(() => walletDeps(t)),
      accounts: 20,
      operations: 1000,
      concurrency: 32,
      seed: 20261130,
      read: () => readAccounts(client),
    }),
  );
  console.log(
    'bank (direct)',
    JSON.stringify({ reads: result.reads, holds: result.pendings, ...result.counts }),
  );
  expect(result.violations).toEqual([]);
  expect(result.reads).toBeGreaterThan(10);
  expect(result.counts['post ok'] ?? 0).toBeGreaterThan(10);
  expect(result.counts['void ok'] ?? 0).toBeGreaterThan(10);
  expect(result.counts['transfer PAYMENT_REQUIRED'] ?? 0).toBeGreaterThan(0);
}, 180_000);

test('200 of them through GraphQL, as other subgraphs call the wallet, read through the router', async () => {
  const admin: Client = await registerAdmin(t);
  const result = await bank({
    ledger: overGraphQL(t),
    accounts: 8,
    operations: 200,
    concurrency: 12,
    seed: 7,
    read: async () => {
      const { ledgerAccounts } = await admin.data(LedgerBalancesDocument, {});
      return ledgerAccounts.nodes.map((node) => ({
        id: node.id,
        owner_id: '',
        asset: node.asset,
        kind: node.kind,
        debits_posted: BigInt(node.debitsPosted),
        credits_posted: BigInt(node.creditsPosted),
        debits_pending: BigInt(node.debitsPending),
        credits_pending: BigInt(node.creditsPending),
      }));
    },
  });
  console.log(
    'bank (GraphQL)',
    JSON.stringify({ reads: result.reads, holds: result.pendings, ...result.counts }),
  );
  expect(result.violations).toEqual([]);
  expect(result.reads).toBeGreaterThan(3);
}, 180_000);
