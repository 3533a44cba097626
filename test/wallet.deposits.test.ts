/** On-chain USDC deposits (003 POST /credits/deposit) verified through an EVM JSON-RPC double, and test credits. */
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import type { EvmDouble } from './support/evm-double';
import type { PayoutDouble } from './support/payout-double';
import { rest, type Rest } from './rest/support';
import { newEvmAccount } from './support/evm-accounts';
import { errorOf } from './tasks.support';
import {
  DepositAddressChallengeDocument,
  LinkDepositAddressDocument,
  LinkedDepositAddressesDocument,
} from './generated/graphql';
import { ledgerViolations, withDatabase } from './wallet.support';
import {
  CONFIRMATIONS,
  linkWallet,
  minedDeposit,
  SENDER,
  SENDER_ACCOUNT,
  startPaymentDoubles,
  txHash,
  USDC,
  VAULT,
} from './wallet.payments.support';

let t: TestPlatform;
let evm: EvmDouble;
let payouts: PayoutDouble;
let user: User;
let api: Rest;

beforeAll(async () => {
  ({ evm, payouts } = await startPaymentDoubles());
  t = await startTestPlatform();
  user = await t.register('Depositor');
  api = rest(t, user.credential);
  await linkWallet(user, SENDER_ACCOUNT);
});
afterAll(async () => {
  await t.close();
  await Promise.all([evm.close(), payouts.close()]);
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const balance = async () => (await api('GET', '/autx/v1/credits/balance')).body.balance_usd;
const deposit = (hash: string, caller: Rest = api) =>
  caller('POST', '/autx/v1/credits/deposit', { body: { tx_hash: hash } });

test('a confirmed USDC transfer to the vault is credited once, 1 USDC unit to 1 micro-dollar', async () => {
  const hash = minedDeposit(evm, 12_345_678n); // 12.345678 USDC
  const response = await deposit(hash);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    id: expect.stringMatching(/^dep_/),
    status: 'credited',
    tx_hash: hash,
    from_address: SENDER,
    amount_usd: '12.345678',
    created_at: expect.any(String),
  });
  expect(await balance()).toBe('12.345678');
  // The credit is a ledger transfer from deposits clearing keyed by the transaction hash.
  const [transfer] = await withDatabase(t, (db) =>
    db
      .query(`select "id", "debit_owner_id", "amount" from "wallet"."transfer" where "id" = $1`, [
        hash.slice(2),
      ])
      .then((r) => r.rows),
  );
  expect(transfer).toEqual({
    id: hash.slice(2),
    debit_owner_id: 'system:DEPOSITS_CLEARING',
    amount: '12345678',
  });
});

test('a replayed transaction hash is 409, by the same account or another, and credits nothing', async () => {
  const hash = minedDeposit(evm, 5_000_000n);
  expect((await deposit(hash)).status).toBe(200);
  const before = await balance();
  const again = await deposit(hash);
  expect(again.status).toBe(409);
  expect(again.body).toEqual({ detail: expect.stringMatching(/already been credited/) });
  // Upper case is the same transaction.
  expect((await deposit(hash.toUpperCase().replace('0X', '0x'))).status).toBe(409);
  const other = await t.register('Thief');
  expect((await deposit(hash, rest(t, other.credential))).status).toBe(409);
  expect(await balance()).toBe(before);
});

test('two claims of one transaction at once credit it once', async () => {
  const hash = minedDeposit(evm, 6_000_000n);
  const before = BigInt(Math.round(Number(await balance()) * 1e6));
  const results = await Promise.all([deposit(hash), deposit(hash), deposit(hash)]);
  expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
  expect(BigInt(Math.round(Number(await balance()) * 1e6)) - before).toBe(6_000_000n);
});

test('below the $5 minimum is refused (422) and the hash stays unclaimed', async () => {
  const hash = minedDeposit(evm, 4_999_999n);
  const response = await deposit(hash);
  expect(response.status).toBe(422);
  expect(response.body.detail).toMatch(/minimum deposit is 5\.00/);
  const rows = await withDatabase(t, (db) =>
    db.query(`select 1 from "wallet"."deposit" where "tx_hash" = $1`, [hash]).then((r) => r.rowCount),
  );
  expect(rows).toBe(0);
});

test('a transfer to another address, of another token, or a failed transaction is refused', async () => {
  const elsewhere = minedDeposit(evm, 10_000_000n, { to: SENDER });
  const otherToken = minedDeposit(evm, 10_000_000n, { token: '0x2222222222222222222222222222222222222222' });
  const reverted = txHash();
  evm.mine({
    hash: reverted,
    blockNumber: evm.head - 10n,
    success: false,
    transfers: [{ token: USDC, from: SENDER, to: VAULT, value: 10_000_000n }],
  });
  const before = await balance();
  for (const hash of [elsewhere, otherToken]) {
    const response = await deposit(hash);
    expect(response.status).toBe(422);
    expect(response.body.detail).toMatch(/sends no USDC to the credit vault/);
  }
  const failed = await deposit(reverted);
  expect(failed.status).toBe(422);
  expect(failed.body.detail).toMatch(/failed on chain/);
  const unknown = await deposit(txHash());
  expect(unknown.status).toBe(422);
  expect(unknown.body.detail).toMatch(/not found or not mined/);
  expect((await deposit('0x1234')).status).toBe(422);
  expect(await balance()).toBe(before);
});

test('too few confirmations is refused with the count, and credited once the chain has moved on', async () => {
  const hash = txHash();
  evm.mine({
    hash,
    blockNumber: evm.head, // one confirmation
    transfers: [{ token: USDC, from: SENDER, to: VAULT, value: 7_000_000n }],
  });
  const early = await deposit(hash);
  expect(early.status).toBe(422);
  expect(early.body.detail).toBe(
    `the transaction has 1 of ${CONFIRMATIONS} confirmations; send it again once it has them all`,
  );
  evm.setHead(evm.head + BigInt(CONFIRMATIONS));
  expect((await deposit(hash)).status).toBe(200);
});

test('an unreachable EVM node is 503 and records nothing; no node configured is 503', async () => {
  const hash = minedDeposit(evm, 8_000_000n);
  process.env.EVM_RPC_URL = 'http://127.0.0.1:9/';
  try {
    expect((await deposit(hash)).status).toBe(503);
    delete process.env.EVM_RPC_URL;
    expect((await deposit(hash)).status).toBe(503);
  } finally {
    process.env.EVM_RPC_URL = evm.url;
  }
  expect((await deposit(hash)).status).toBe(200);
});

test('POST /credits/deposit-test credits only with ENABLE_TEST_CREDITS=true, else 403', async () => {
  const fresh = await t.register('Tester');
  const own = rest(t, fresh.credential);
  const credited = await own('POST', '/autx/v1/credits/deposit-test', { body: { amount: '10.00' } });
  expect(credited.status).toBe(200);
  expect(credited.body).toMatchObject({ status: 'credited', tx_hash: null, amount_usd: '10.00' });
  expect((await own('GET', '/autx/v1/credits/balance')).body).toEqual({
    balance_usd: '10.00',
    reserved_usd: '0.00',
  });
  expect((await own('POST', '/autx/v1/credits/deposit-test', { body: { amount: '-1' } })).status).toBe(422);
  expect((await own('POST', '/autx/v1/credits/deposit-test', { body: { amount: '20000.00' } })).status).toBe(
    422,
  );

  process.env.ENABLE_TEST_CREDITS = 'false';
  try {
    const refused = await own('POST', '/autx/v1/credits/deposit-test', { body: { amount: '10.00' } });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/ENABLE_TEST_CREDITS/);
  } finally {
    process.env.ENABLE_TEST_CREDITS = 'true';
  }
  expect((await own('GET', '/autx/v1/credits/balance')).body.balance_usd).toBe('10.00');
});

test('deposits need a credential; any API key scope may deposit (003: "any scope")', async () => {
  expect((await rest(t)('POST', '/autx/v1/credits/deposit', { body: { tx_hash: txHash() } })).status).toBe(
    401,
  );
  const key = await api('POST', '/autx/v1/api-keys/', { body: { name: 'proxy only', scopes: 'proxy' } });
  expect(key.status).toBe(201);
  const keyed = rest(t, key.body.key);
  expect((await keyed('GET', '/autx/v1/credits/balance')).status).toBe(200);
  expect((await deposit(minedDeposit(evm, 5_000_000n), keyed)).status).toBe(200);
});

test('a deposit is credited only to the account that linked its sender: 403 unlinked, 409 another’s', async () => {
  const stranger = newEvmAccount();
  const unlinked = minedDeposit(evm, 9_000_000n, { from: stranger.address });
  const before = await balance();
  const refused = await deposit(unlinked);
  expect(refused.status).toBe(403);
  expect(refused.body.detail).toBe(
    `the sender ${stranger.address.toLowerCase()} is not linked to your account: link it ` +
      '(depositAddressChallenge, then linkDepositAddress with its signature) and claim the transaction again',
  );
  // Another account that saw the hash cannot claim SENDER's deposit either.
  const thief = await t.register('Watcher');
  const seen = minedDeposit(evm, 9_000_000n);
  const stolen = await deposit(seen, rest(t, thief.credential));
  expect(stolen.status).toBe(409);
  expect(stolen.body.detail).toMatch(/is linked to another account; only that account may claim/);
  expect(await balance()).toBe(before);
  // Once the stranger's owner links it, the same transaction is theirs; the hash was never spent.
  const owner = await t.register('Owner');
  await linkWallet(owner, stranger);
  const claimed = await deposit(unlinked, rest(t, owner.credential));
  expect(claimed.status).toBe(200);
  expect(claimed.body.from_address).toBe(stranger.address.toLowerCase());
  expect((await deposit(seen)).status).toBe(200);
});

test('linking an address: a signed challenge, once; a wrong signer, a reused challenge and a taken address are refused', async () => {
  const owner = await t.register('Linker');
  const wallet = newEvmAccount();
  const other = newEvmAccount();
  const challengeFor = async (address: string) =>
    (await owner.data(DepositAddressChallengeDocument, { address })).depositAddressChallenge;
  const first = await challengeFor(wallet.address);
  expect(first.message).toContain(`link ${wallet.address.toLowerCase()} to account ${owner.id}`);
  const link = (challengeId: string, signature: string, who = owner) =>
    who.request(LinkDepositAddressDocument, { challengeId, signature });
  // Signed by another key: refused, and the challenge stays usable.
  const forged = errorOf(await link(first.id, await other.signMessage({ message: first.message })));
  expect(forged).toMatchObject({
    code: 'BAD_USER_INPUT',
    message: expect.stringMatching(/is not 0x[0-9a-f]{40}'s signature/),
  });
  expect(errorOf(await link(first.id, '0x1234')).code).toBe('BAD_USER_INPUT');
  const signature = await wallet.signMessage({ message: first.message });
  // Another account cannot use my challenge, even with its signature.
  const intruder = await t.register('Intruder');
  expect(errorOf(await link(first.id, signature, intruder)).message).toMatch(/unknown, used or expired/);
  expect(
    (await owner.data(LinkDepositAddressDocument, { challengeId: first.id, signature })).linkDepositAddress,
  ).toMatchObject({
    address: wallet.address.toLowerCase(),
  });
  expect(errorOf(await link(first.id, signature)).message).toMatch(/unknown, used or expired/);
  // Expired challenges are refused.
  const late = await challengeFor(wallet.address);
  await withDatabase(t, (db) =>
    db.query(
      `update "wallet"."address_challenge" set "expires_at" = now() - interval '1 second' where "id" = $1`,
      [late.id],
    ),
  );
  expect(errorOf(await link(late.id, await wallet.signMessage({ message: late.message }))).message).toMatch(
    /expired/,
  );
  // An address belongs to one account.
  const taken = (await intruder.data(DepositAddressChallengeDocument, { address: wallet.address }))
    .depositAddressChallenge;
  expect(
    errorOf(await link(taken.id, await wallet.signMessage({ message: taken.message }), intruder)),
  ).toMatchObject({
    code: 'CONFLICT',
    message: 'this address is linked to another account',
  });
  expect(
    errorOf(await owner.request(DepositAddressChallengeDocument, { address: 'not-an-address' })).code,
  ).toBe('BAD_USER_INPUT');
  expect((await owner.data(LinkedDepositAddressesDocument, {})).linkedDepositAddresses).toEqual([
    { address: wallet.address.toLowerCase() },
  ]);
  expect((await intruder.data(LinkedDepositAddressesDocument, {})).linkedDepositAddresses).toEqual([]);
});
