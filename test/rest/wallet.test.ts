/** Contract of every wallet read route in its documented shape (003 credits, 004 payments, 000/001 wallet, 002 wallet and stats). */
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import type { EvmDouble } from '../support/evm-double';
import type { PayoutDouble } from '../support/payout-double';
import { grantCredits, holdFunds, SystemAccountRole, transferNow } from '../../subgraphs/wallet';
import { ledgerViolations, walletDeps, withDatabase } from '../wallet.support';
import {
  linkWallet,
  minedDeposit,
  SENDER_ACCOUNT,
  startPaymentDoubles,
  USDC,
  VAULT,
} from '../wallet.payments.support';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let evm: EvmDouble;
let payouts: PayoutDouble;
let user: User;
let api: Rest;
let depositHash: string;

beforeAll(async () => {
  ({ evm, payouts } = await startPaymentDoubles());
  t = await startTestPlatform();
  user = await t.register('Reader');
  api = rest(t, user.credential);
  // $25 deposited, a $0.08171 chat charge, $0.05 held for a turn in flight, $5 withdrawn (fee $0.005).
  await linkWallet(user, SENDER_ACCOUNT);
  depositHash = minedDeposit(evm, 25_000_000n);
  expect((await api('POST', '/autx/v1/credits/deposit', { body: { tx_hash: depositHash } })).status).toBe(
    200,
  );
  const deps = walletDeps(t);
  await transferNow(deps, {
    id: `charge-${user.id}`,
    from: { accountId: user.id },
    to: { system: SystemAccountRole.PLATFORM_REVENUE },
    asset: 'USD',
    amountMinor: 81_710n,
    memo: 'turn tur_1: 570 tokens',
  });
  await holdFunds(deps, {
    id: `turn-hold-${user.id}`,
    from: { accountId: user.id },
    to: { system: SystemAccountRole.PLATFORM_REVENUE },
    asset: 'USD',
    amountMinor: 50_000n,
  });
  expect((await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '5.00' } })).body.status).toBe(
    'completed',
  );
  // SOL: 4.28 available after earning 4.58 from another account, 0.30 on its way in by escrow.
  const payer = await t.register('Hirer');
  await grantCredits(deps, {
    id: `sol-${payer.id}`,
    accountId: payer.id,
    asset: 'SOL',
    amountMinor: 10_000_000_000n,
  });
  await transferNow(deps, {
    id: `earned-${user.id}`,
    from: { accountId: payer.id },
    to: { accountId: user.id },
    asset: 'SOL',
    amountMinor: 4_580_000_000n,
    memo: 'task task_1 released',
  });
  await holdFunds(deps, {
    id: `escrow-${user.id}`,
    from: { accountId: payer.id },
    to: { accountId: user.id },
    asset: 'SOL',
    amountMinor: 300_000_000n,
  });
  await transferNow(deps, {
    id: `sol-out-${user.id}`,
    from: { accountId: user.id },
    to: { system: SystemAccountRole.FEES },
    asset: 'SOL',
    amountMinor: 300_000_000n,
    memo: 'platform fee',
  });
});
afterAll(async () => {
  await t.close();
  await Promise.all([evm.close(), payouts.close()]);
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

describe('AUTX (003)', () => {
  test('GET /credits/balance → {balance_usd, reserved_usd} as decimal strings', async () => {
    const response = await api('GET', '/autx/v1/credits/balance');
    expect(response.status).toBe(200);
    // 25 − 0.08171 − 0.05 (held) − 5 = 19.86829
    expect(response.body).toEqual({ balance_usd: '19.86829', reserved_usd: '0.05' });
  });

  test('GET /credits/transactions → deposits, withdrawals and per-message charges, newest first', async () => {
    const response = await api('GET', '/autx/v1/credits/transactions');
    expect(response.status).toBe(200);
    const entry = (
      type: string,
      status: string,
      amount: string,
      reference: unknown,
      description: unknown,
    ) => ({
      id: expect.stringMatching(/^len_/),
      type,
      status,
      amount_usd: amount,
      balance_usd: expect.stringMatching(/^\d+\.\d{2,6}$/),
      reference,
      description,
      created_at: ISO,
    });
    // Each movement once, in its final state: the withdrawal's hold shows as completed, its post not apart.
    expect(response.body).toEqual([
      entry(
        'withdrawal',
        'completed',
        '-5.00',
        expect.stringMatching(/^payout-tx-/),
        expect.stringMatching(/^withdrawal wdr_/),
      ),
      entry('charge', 'pending', '-0.05', null, null),
      entry('charge', 'completed', '-0.08171', null, 'turn tur_1: 570 tokens'),
      entry('deposit', 'completed', '25.00', depositHash, `deposit ${depositHash}`),
    ]);
    expect(response.body[0].balance_usd).toBe('19.86829');
    // A client summing the rows gets the available balance: nothing is counted twice.
    const micro = (usd: string) => BigInt(Math.round(Number(usd) * 1e6));
    const sum = response.body.reduce(
      (total: bigint, e: { amount_usd: string }) => total + micro(e.amount_usd),
      0n,
    );
    expect(sum).toBe(micro('19.86829'));
    const page = await api('GET', '/autx/v1/credits/transactions?limit=2&offset=1');
    expect(page.body.map((e: { type: string }) => e.type)).toEqual(['charge', 'charge']);
  });
});

describe('x402 (004)', () => {
  test('GET /payments/balance → {available, pending, total_earned} as SOL numbers', async () => {
    const response = await api('GET', '/x402/v1/payments/balance');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect(response.body).toEqual({ available: 4.28, pending: 0.3, total_earned: 4.58 });
  });

  test('GET /payments/history?limit= → {transactions, total} in SOL', async () => {
    const response = await api('GET', '/x402/v1/payments/history?limit=2');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      transactions: [
        {
          id: expect.stringMatching(/^len_/),
          type: 'charge',
          status: 'completed',
          amount: -0.3,
          balance: 4.28,
          tx: null,
          description: 'platform fee',
          created_at: ISO,
        },
        expect.objectContaining({ type: 'transfer', status: 'pending', amount: 0.3 }),
      ],
      total: 3,
    });
    expect((await api('GET', '/x402/v1/payments/history?limit=0')).status).toBe(400);
  });
});

describe('hermes (000/001) and runtime (002)', () => {
  test('GET /api/wallet → balances per held asset as floats, and the deposit address', async () => {
    const response = await api('GET', '/api/wallet');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      balances: expect.arrayContaining([
        {
          account_id: expect.stringMatching(/^lac_/),
          asset: 'USD',
          balance: 19.86829,
          balance_minor: '19868290',
          pending: 0.05,
          decimals: 6,
        },
        {
          account_id: expect.stringMatching(/^lac_/),
          asset: 'SOL',
          balance: 4.28,
          balance_minor: '4280000000',
          pending: 0,
          decimals: 9,
        },
      ]),
      total: 2,
      deposit_address: VAULT,
    });
  });

  test('GET /api/wallet/balances → {sol, tokens}', async () => {
    const response = await api('GET', '/api/wallet/balances');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      sol: 4.28,
      tokens: [
        { symbol: 'USD', balance: 19.86829, decimals: 6 },
        { symbol: 'USDC', balance: 0, decimals: 6 },
      ],
    });
  });

  test('GET /api/wallet/balance → {balance, currency, address, usdc, credits}; GET /api/wallet/address → the vault to deposit to', async () => {
    expect((await api('GET', '/runtime/api/wallet/balance')).body).toEqual({
      balance: '0.00',
      currency: 'USDC',
      address: VAULT,
      usdc: 0,
      credits: 19.86829,
    });
    const address = await api('GET', '/runtime/api/wallet/address');
    expect(address.status).toBe(200);
    expect(address.body).toEqual({
      address: VAULT,
      asset: 'USDC',
      token_address: USDC,
      min_deposit: 5,
      confirmations: 3,
      enabled: true,
    });
    expect(await rest(t)('GET', '/runtime/api/wallet/address')).toMatchObject({
      status: 401,
      body: { error: expect.any(String) },
    });
  });

  test('GET /api/stats/costs → the charges; GET /api/stats/transactions → each movement once', async () => {
    const costs = await api('GET', '/runtime/api/stats/costs');
    expect(costs.status).toBe(200);
    expect(costs.body).toEqual({
      costs: [
        {
          id: expect.stringMatching(/^len_/),
          cost_usd: 0.08171,
          description: 'turn tur_1: 570 tokens',
          created_at: ISO,
        },
      ],
      total_usd: 0.08171,
      count: 1,
    });
    const all = await api('GET', '/runtime/api/stats/transactions?limit=3');
    expect(all.status).toBe(200);
    // 8 ledger entries; the withdrawal's hold and its post are one movement.
    expect(all.body.total).toBe(7);
    const every = await api('GET', '/runtime/api/stats/transactions?limit=100');
    const withdrawals = every.body.transactions.filter(
      (row: { type: string; asset: string }) => row.type === 'withdrawal' && row.asset === 'USD',
    );
    expect(withdrawals).toEqual([expect.objectContaining({ status: 'completed', amount: -5 })]);
    expect(all.body.transactions).toHaveLength(3);
    expect(all.body.transactions[0]).toEqual({
      id: expect.stringMatching(/^len_/),
      type: 'charge',
      status: 'completed',
      asset: 'SOL',
      amount: -0.3,
      reference: null,
      description: 'platform fee',
      created_at: ISO,
    });
  });
});
