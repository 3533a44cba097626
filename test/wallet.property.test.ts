/**
 * Properties of the ledger against real PostgreSQL, with fast-check: any sequence of transfers,
 * holds, posts and voids keeps double entry (a transfer's entries sum to zero, a balance is the sum
 * of its entries); replaying a request answers its first result; other content under a used id is
 * a CONFLICT; hostile amounts are BAD_USER_INPUT before anything is stored.
 */
import fc from 'fast-check';
import { createPeers, newId, type Peers } from '../lib';
import {
  grantCredits,
  holdFunds,
  postHold,
  SystemAccountRole,
  transferNow,
  voidHold,
  type LedgerDeps,
} from '../subgraphs/wallet';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { ledgerViolations, walletDeps, withDatabase } from './wallet.support';

let t: TestPlatform;
let deps: LedgerDeps;
let wallet: Peers;
beforeAll(async () => {
  t = await startTestPlatform();
  deps = walletDeps(t);
  const url = t.platform.subgraphs.find((subgraph) => subgraph.name === 'wallet')!.url;
  wallet = createPeers('tasks', { wallet: url }, t.secrets.internal);
});
afterAll(() => t.close());

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: { extensions?: { code?: string } }) => error.extensions?.code ?? String(error),
  );

type Command =
  | { kind: 'transfer'; from: number; to: number; amount: bigint }
  | { kind: 'hold'; from: number; to: number; amount: bigint }
  | { kind: 'post'; hold: number; amount: bigint | undefined }
  | { kind: 'void'; hold: number }
  | { kind: 'replay'; command: number };

const PARTIES = 4; // three users and a system account
const party = fc.integer({ min: 0, max: PARTIES - 1 });
const amount = fc.bigInt({ min: 1n, max: 400n });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), from: party, to: party, amount }),
  fc.record({ kind: fc.constant('hold' as const), from: party, to: party, amount }),
  fc.record({
    kind: fc.constant('post' as const),
    hold: fc.nat(),
    amount: fc.option(amount, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('void' as const), hold: fc.nat() }),
  fc.record({ kind: fc.constant('replay' as const), command: fc.nat() }),
);

test('property: any sequence keeps double entry, and no user account goes below zero', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 12 }), async (commands) => {
      const users = [newId('acc'), newId('acc'), newId('acc')];
      for (const user of users)
        await grantCredits(deps, { id: newId('g'), accountId: user, asset: 'SOL', amountMinor: 500n });
      const partyOf = (index: number) =>
        index < users.length ? { accountId: users[index] } : { system: SystemAccountRole.FEES };
      const holds: string[] = [];
      const sent: (() => Promise<unknown>)[] = [];
      for (const step of commands) {
        let request: (() => Promise<unknown>) | undefined;
        const id = newId('p');
        if (step.kind === 'transfer' || step.kind === 'hold') {
          if (step.from === step.to) continue;
          const move = {
            id,
            from: partyOf(step.from),
            to: partyOf(step.to),
            asset: 'SOL',
            amountMinor: step.amount,
          };
          request = step.kind === 'transfer' ? () => transferNow(deps, move) : () => holdFunds(deps, move);
          if (step.kind === 'hold') holds.push(id);
        } else if ((step.kind === 'post' || step.kind === 'void') && holds.length) {
          const pendingId = holds[step.hold % holds.length];
          request =
            step.kind === 'post'
              ? () => postHold(deps, { id, pendingId, amountMinor: step.amount })
              : () => voidHold(deps, { id, pendingId });
        } else if (step.kind === 'replay' && sent.length) {
          request = sent[step.command % sent.length];
        }
        if (!request) continue;
        const code = await codeOf(request());
        expect(['OK', 'PAYMENT_REQUIRED', 'CONFLICT', 'BAD_USER_INPUT', 'NOT_FOUND']).toContain(code);
        if (code === 'OK') sent.push(request);
      }
      expect(await withDatabase(t, ledgerViolations)).toEqual([]);
    }),
    { numRuns: 25 },
  );
}, 120_000);

test('property: a replay answers the first result; other content under the id is CONFLICT', async () => {
  const payer = newId('acc');
  await grantCredits(deps, { id: newId('g'), accountId: payer, asset: 'USD', amountMinor: 10n ** 12n });
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      amount,
      fc.option(
        fc.string({ maxLength: 20 }).filter((memo) => !memo.includes('\0')),
        { nil: undefined },
      ),
      fc.constantFrom('amount', 'memo', 'payee', 'kind'),
      async (isHold, amountMinor, memo, changed) => {
        const move = {
          id: newId('r'),
          from: { accountId: payer },
          to: { system: SystemAccountRole.PLATFORM_REVENUE },
          asset: 'USD',
          amountMinor,
          memo,
        };
        const send = (input: typeof move, hold = isHold) =>
          hold ? holdFunds(deps, input) : transferNow(deps, input);
        const first = await send(move);
        const again = await send(move);
        expect(first.created).toBe(true);
        expect(again.created).toBe(false);
        expect(again.transfer).toEqual(first.transfer);
        const other = {
          amount: () => send({ ...move, amountMinor: amountMinor + 1n }),
          memo: () => send({ ...move, memo: `${memo ?? ''}!` }),
          payee: () => send({ ...move, to: { system: SystemAccountRole.FEES } }),
          kind: () => send(move, !isHold),
        }[changed];
        expect(await codeOf(other())).toBe('CONFLICT');
      },
    ),
    { numRuns: 40 },
  );
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
}, 120_000);

test('property: hostile amounts are BAD_USER_INPUT over GraphQL, and nothing is stored', async () => {
  const hostile = fc.oneof(
    fc.constantFrom(
      '0',
      '-1',
      '-0',
      '1.5',
      '0.1',
      '1e3',
      'NaN',
      'Infinity',
      '',
      ' ',
      '0x10',
      '١٢',
      '1\u0000',
    ),
    fc.bigInt({ min: 10n ** 15n + 1n, max: 10n ** 40n }).map(String), // above the maximum, above bigint
    fc.bigInt({ min: -(10n ** 20n), max: 0n }).map(String),
    fc.string({ maxLength: 12 }).filter((text) => !/^\s*\d+\s*$/.test(text)),
    fc.double({ noInteger: true }),
    fc.constantFrom(true, null, [1], { value: 1 }),
  );
  await fc.assert(
    fc.asyncProperty(
      hostile,
      fc.constantFrom('ledgerTransfer', 'ledgerHold'),
      async (amountMinor, mutation) => {
        const type = mutation === 'ledgerTransfer' ? 'LedgerTransferInput' : 'LedgerHoldInput';
        const id = newId('h');
        const input = {
          id,
          from: { accountId: newId('acc') },
          to: { system: 'FEES' },
          asset: 'USD',
          amountMinor,
        };
        const code = await codeOf(
          wallet.request('wallet', `mutation ($input: ${type}!) { ${mutation}(input: $input) { id } }`, {
            input,
          }),
        );
        expect(code).toBe('BAD_USER_INPUT');
      },
    ),
    { numRuns: 150 },
  );
  const stored = await withDatabase(t, (client) =>
    client.query(`select count(*)::int as n from "wallet"."transfer" where "id" like 'h\\_%'`),
  );
  expect(stored.rows[0].n).toBe(0);
}, 120_000);

test('hostile ids, memos, parties and timeouts are BAD_USER_INPUT too', async () => {
  const base = {
    id: newId('b'),
    from: { accountId: newId('acc') },
    to: { system: 'FEES' },
    asset: 'USD',
    amountMinor: '1',
  };
  const hold = (input: Record<string, unknown>) =>
    codeOf(
      wallet.request('wallet', 'mutation ($input: LedgerHoldInput!) { ledgerHold(input: $input) { id } }', {
        input: { ...base, ...input },
      }),
    );
  for (const input of [
    { id: '' },
    { id: 'x'.repeat(65) },
    { id: 'has space' },
    { id: 'nul\u0000' },
    { memo: 'a\u0000b' },
    { memo: 'x'.repeat(257) },
    { memo: '\ud800' },
    { from: { accountId: 'not an id' } },
    { from: {} },
    { from: { accountId: newId('acc'), system: 'FEES' } },
    { asset: 'DOGE' },
    { asset: 'x'.repeat(10_000) },
    { timeoutSeconds: 0 },
    { timeoutSeconds: 31 * 24 * 3600 },
  ])
    expect([JSON.stringify(input).slice(0, 40), await hold(input)]).toEqual([
      JSON.stringify(input).slice(0, 40),
      'BAD_USER_INPUT',
    ]);
});
