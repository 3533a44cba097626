/** Withdrawals: a hold to payouts clearing, posted when the payout service pays, voided when it fails. */
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import type { EvmDouble } from './support/evm-double';
import type { PayoutDouble } from './support/payout-double';
import { rest, type Rest } from './rest/support';
import { ledgerViolations, walletDeps, withDatabase } from './wallet.support';
import { linkWallet, minedDeposit, SENDER, startPaymentDoubles } from './wallet.payments.support';
import { grantCredits } from '../subgraphs/wallet';
import { reconcileWithdrawals } from '../subgraphs/wallet/withdrawals/withdrawal.service';

let t: TestPlatform;
let evm: EvmDouble;
let payouts: PayoutDouble;

beforeAll(async () => {
  ({ evm, payouts } = await startPaymentDoubles());
  t = await startTestPlatform();
});
afterAll(async () => {
  await t.close();
  await Promise.all([evm.close(), payouts.close()]);
});
beforeEach(() => payouts.behave('complete'));
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const SOL_ADDRESS = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

/** A new account holding $20 deposited on chain from a wallet of its own. */
async function fundedUser(): Promise<{ user: User; api: Rest; from: string }> {
  const user = await t.register('Withdrawer');
  const api = rest(t, user.credential);
  const from = (await linkWallet(user)).address.toLowerCase();
  expect(
    (
      await api('POST', '/autx/v1/credits/deposit', {
        body: { tx_hash: minedDeposit(evm, 20_000_000n, { from }) },
      })
    ).status,
  ).toBe(200);
  return { user, api, from };
}

const balanceOf = async (api: Rest) => (await api('GET', '/autx/v1/credits/balance')).body;

const withdrawalRow = (id: string) =>
  withDatabase(t, (db) =>
    db.query(`select * from "wallet"."withdrawal" where "id" = $1`, [id]).then((r) => r.rows[0]),
  );

test('a payout that succeeds posts the hold; the fee the service reports is shown', async () => {
  const { api, from } = await fundedUser();
  const response = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '5.00' } });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    id: expect.stringMatching(/^wdr_/),
    status: 'completed',
    amount_usd: '5.00',
    fee_usd: '0.005',
    to: from, // back to the wallet the deposit came from
    tx_hash: expect.stringMatching(/^payout-tx-/),
    failure_reason: null,
    created_at: expect.any(String),
    completed_at: expect.any(String),
  });
  expect(await balanceOf(api)).toEqual({ balance_usd: '15.00', reserved_usd: '0.00' });
  const call = payouts.calls.at(-1)!;
  expect(call).toEqual({
    id: response.body.id,
    asset: 'USDC',
    amount: '5000000',
    decimals: 6,
    destination: from,
    idempotencyKey: response.body.id,
  });
  const transfers = await withDatabase(t, (db) =>
    db
      .query(
        `select "id", "kind", "credit_owner_id" from "wallet"."transfer" where "id" like $1 order by "id"`,
        [`${response.body.id}.%`],
      )
      .then((r) => r.rows),
  );
  expect(transfers).toEqual([
    { id: `${response.body.id}.hold`, kind: 'PENDING', credit_owner_id: 'system:PAYOUTS_CLEARING' },
    { id: `${response.body.id}.post`, kind: 'POST', credit_owner_id: 'system:PAYOUTS_CLEARING' },
  ]);
  // The credit ledger shows the deposit and the withdrawal.
  const history = (await api('GET', '/autx/v1/credits/transactions')).body;
  expect(
    history.map((e: { type: string; status: string; amount_usd: string }) => [
      e.type,
      e.status,
      e.amount_usd,
    ]),
  ).toEqual([
    ['withdrawal', 'completed', '-5.00'],
    ['deposit', 'completed', '20.00'],
  ]);
});

test('withdrawals of credits have a one-hour cooldown: 429 with Retry-After, nothing held', async () => {
  const { api } = await fundedUser();
  expect((await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '1.00' } })).status).toBe(200);
  const again = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '1.00' } });
  expect(again.status).toBe(429);
  expect(again.body.detail).toMatch(/one withdrawal per hour: retry after \d{4}-\d\d-\d\dT/);
  const retryAfter = Number(again.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(3500);
  expect(retryAfter).toBeLessThanOrEqual(3600);
  expect(await balanceOf(api)).toEqual({ balance_usd: '19.00', reserved_usd: '0.00' });

  // Concurrent requests: exactly one passes the cooldown.
  const { api: other } = await fundedUser();
  const statuses = await Promise.all(
    [1, 2, 3].map(() => other('POST', '/autx/v1/credits/withdraw', { body: { amount: '1.00' } })),
  );
  expect(statuses.map((r) => r.status).sort()).toEqual([200, 429, 429]);
});

test('a payout that fails voids the hold: the balance is whole again and the next try is allowed', async () => {
  const { api } = await fundedUser();
  payouts.behave('refuse');
  const refused = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '7.50' } });
  expect(refused.status).toBe(200);
  expect(refused.body).toMatchObject({ status: 'failed', tx_hash: null, failure_reason: expect.any(String) });
  expect(await balanceOf(api)).toEqual({ balance_usd: '20.00', reserved_usd: '0.00' });
  expect((await withdrawalRow(refused.body.id)).status).toBe('FAILED');

  payouts.behave('fail-status');
  const failed = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '7.50' } });
  expect(failed.body).toMatchObject({ status: 'failed', failure_reason: 'insufficient hot wallet' });
  expect(await balanceOf(api)).toEqual({ balance_usd: '20.00', reserved_usd: '0.00' });

  // A failed withdrawal does not start the cooldown.
  payouts.behave('complete');
  expect((await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '7.50' } })).body.status).toBe(
    'completed',
  );
  expect(await balanceOf(api)).toEqual({ balance_usd: '12.50', reserved_usd: '0.00' });
});

test('an unanswered payout stays held (pending) until the reconciler asks again', async () => {
  const { api } = await fundedUser();
  payouts.behave('server-error');
  const pending = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '3.00' } });
  expect(pending.body.status).toBe('pending');
  expect(await balanceOf(api)).toEqual({ balance_usd: '17.00', reserved_usd: '3.00' });
  payouts.behave('complete');
  await withDatabase(t, (db) =>
    db.query(`update "wallet"."withdrawal" set "updated_at" = now() - interval '1 minute' where "id" = $1`, [
      pending.body.id,
    ]),
  );
  expect(await reconcileWithdrawals(walletDeps(t))).toBeGreaterThanOrEqual(1);
  expect(await withdrawalRow(pending.body.id)).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  expect(await balanceOf(api)).toEqual({ balance_usd: '17.00', reserved_usd: '0.00' });
});

test('more than the balance is 402; no payout service configured is 503', async () => {
  const { api } = await fundedUser();
  const short = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '25.00' } });
  expect(short.status).toBe(402);
  const calls = payouts.calls.length;
  delete process.env.PAYOUT_URL;
  try {
    const off = await api('POST', '/autx/v1/credits/withdraw', { body: { amount: '1.00' } });
    expect(off.status).toBe(503);
    expect(off.body.detail).toMatch(/withdrawals are unavailable/);
  } finally {
    process.env.PAYOUT_URL = payouts.url;
  }
  expect(payouts.calls.length).toBe(calls);
  expect(await balanceOf(api)).toEqual({ balance_usd: '20.00', reserved_usd: '0.00' });
});

test('x402 POST /payments/withdraw pays SOL out: {status, amount, tx, fee}; no cooldown in 004', async () => {
  const user = await t.register('Agent');
  const x402 = rest(t, user.credential);
  await grantCredits(walletDeps(t), {
    id: `sol-grant-${user.id}`,
    accountId: user.id,
    asset: 'SOL',
    amountMinor: 2_500_000_000n,
  });
  const paid = await x402('POST', '/x402/v1/payments/withdraw', { body: { amount: 1.5, to: SOL_ADDRESS } });
  expect(paid.status).toBe(200);
  expect(paid.body).toEqual({
    status: 'completed',
    amount: 1.5,
    tx: expect.stringMatching(/^payout-tx-/),
    fee: 0.000005,
  });
  expect(payouts.calls.at(-1)).toMatchObject({
    asset: 'SOL',
    amount: '1500000000',
    decimals: 9,
    destination: SOL_ADDRESS,
  });
  expect(
    (await x402('POST', '/x402/v1/payments/withdraw', { body: { amount: 0.5, to: SOL_ADDRESS } })).status,
  ).toBe(200);
  const bad = await x402('POST', '/x402/v1/payments/withdraw', { body: { amount: 0.1, to: SENDER } });
  expect(bad.status).toBe(400);
  expect(bad.body).toEqual({ error: expect.stringMatching(/Solana address/), code: 'INVALID_PARAMETERS' });
  expect((await x402('POST', '/x402/v1/payments/withdraw', { body: { amount: 0.1 } })).status).toBe(400);
  expect((await x402('GET', '/x402/v1/payments/balance')).body).toEqual({
    available: 0.5,
    pending: 0,
    total_earned: 0,
  });
});
