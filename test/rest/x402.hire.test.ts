/**
 * hermesx402's hire flow (004) end to end, as its CLI (scripts/hermes.js) sends each request: JSON
 * bodies, `Authorization: Bearer <key>`, no body at all for `accept`. POST /tasks answers 402 with
 * the X-Payment-* terms; the retry with X-Payment-Proof (a Solana signature) is verified against a
 * Solana JSON-RPC double and creates the task with its SOL reward in escrow; confirm releases it to
 * the agent's owner less the platform fee, cancel refunds it; withdraw pays SOL out. Real
 * PostgreSQL, the whole platform; the ledger's invariants are checked after every test.
 */
import { ResolveTaskDocument } from '../generated/graphql';
import type { EvmDouble } from '../support/evm-double';
import type { PayoutDouble } from '../support/payout-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { solanaAddress, startSolanaDouble, type SolanaDouble } from '../support/solana-double';
import { registerAdmin } from '../tasks.support';
import { startPaymentDoubles } from '../wallet.payments.support';
import { assetBalance, ledgerViolations, taskCount, withDatabase } from '../wallet.support';
import { ISO, rest, type RestResponse } from './support';

const ESCROW = solanaAddress();
const PAYER_WALLET = solanaAddress();
const RATE = 150_000_000n; // 0.15 SOL, 004's example
const FEE = (RATE * 250n) / 10_000n; // PLATFORM_FEE_BPS default 250

let t: TestPlatform;
let solana: SolanaDouble;
let payouts: PayoutDouble;
let evm: EvmDouble;
let hirer: User;
let owner: User;
let admin: Client;
let agentId: string;

/** One CLI command's request, exactly as hermes.js's apiCall makes it. */
const cli =
  (user: User) =>
  (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    rest(t, user.credential)(method, `/x402/v1${path}`, {
      headers: { 'content-type': 'application/json', ...extra },
      ...(body === undefined ? {} : { body }),
    });

beforeAll(async () => {
  ({ evm, payouts } = await startPaymentDoubles());
  solana = await startSolanaDouble();
  Object.assign(process.env, { SOLANA_RPC_URL: solana.url, SOLANA_ESCROW_ADDRESS: ESCROW });
  t = await startTestPlatform();
  [hirer, owner] = await Promise.all([t.register('Hirer'), t.register('Agent owner')]);
  admin = await registerAdmin(t);
  // `hermes list --name … --rate 0.15`
  const listed = await cli(owner)('POST', '/agents', {
    name: 'research-bot',
    tags: ['research'],
    rate: 0.15,
  });
  expect(listed.status).toBe(201);
  agentId = listed.body.id;
});
afterAll(async () => {
  delete process.env.SOLANA_RPC_URL;
  delete process.env.SOLANA_ESCROW_ADDRESS;
  await t.close();
  await Promise.all([solana.close(), payouts.close(), evm.close()]);
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const solBalance = (ownerId: string) => assetBalance(t, ownerId, 'SOL');

const HIRE = {
  agent_id: '',
  description: 'Summarize top AI papers from this week',
  budget: 0.2,
  deadline: '2h',
};
const hireBody = () => ({ ...HIRE, agent_id: agentId });

/** `hermes hire <agent> --task … --budget 0.2 --deadline 2h`: the 402 and its terms. */
async function challenge(user: User = hirer) {
  const response = await cli(user)('POST', '/tasks', hireBody());
  expect(response.status).toBe(402);
  return response;
}

/** Pays the challenge on "chain" and retries with the proof. */
async function hired(user: User = hirer, lamports = RATE) {
  const terms = await challenge(user);
  const signature = solana.pay(PAYER_WALLET, ESCROW, lamports);
  const paid = await cli(user)('POST', '/tasks', hireBody(), {
    'X-Payment-Proof': signature,
    'X-Payment-Task-Id': terms.headers.get('x-payment-task-id')!,
  });
  return { terms, signature, paid };
}

const expectTerms = (response: RestResponse) => {
  expect(response.headers.get('x-payment-required')).toBe('true');
  expect(response.headers.get('x-payment-amount')).toBe('0.15');
  expect(response.headers.get('x-payment-address')).toBe(ESCROW);
  expect(response.headers.get('x-payment-network')).toBe('solana-mainnet');
  expect(response.headers.get('x-payment-currency')).toBe('SOL');
  expect(response.headers.get('x-payment-task-id')).toMatch(/^task_[0-9a-z]{26}$/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-payment-protocol')).toBe('x402/1.0');
};

test('hire → 402 terms → pay → 201 {task_id, status, escrow, tx}; accept, deliver, confirm release to the owner less the fee', async () => {
  const before = await solBalance('system:PLATFORM_REVENUE');
  const terms = await challenge();
  expectTerms(terms);
  expect(terms.body).toEqual({ error: expect.stringContaining('lamports'), code: 'PAYMENT_REQUIRED' });
  expect(await taskCount(t, hirer.id)).toBe(0);

  const taskId = terms.headers.get('x-payment-task-id')!;
  const signature = solana.pay(PAYER_WALLET, ESCROW, RATE);
  const paid = await cli(hirer)('POST', '/tasks', hireBody(), {
    'X-Payment-Proof': signature,
    'X-Payment-Task-Id': taskId,
  });
  expect(paid.status).toBe(201);
  expect(paid.body).toEqual({ task_id: taskId, status: 'created', escrow: 0.15, tx: signature });
  expect(solana.calls.at(-1)).toEqual({
    method: 'getTransaction',
    params: [signature, expect.objectContaining({ encoding: 'json', commitment: 'finalized' })],
  });
  // The payment was credited to the hirer and is held in escrow from there.
  expect(await solBalance(hirer.id)).toEqual({ posted: RATE, held: RATE });

  // The same paid request again (a client retrying after a lost answer) answers the same task.
  const again = await cli(hirer)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': signature });
  expect(again.status).toBe(201);
  expect(again.body).toEqual(paid.body);
  expect(await taskCount(t, hirer.id)).toBe(1);

  const status = await cli(hirer)('GET', `/tasks/${taskId}`);
  expect(status.status).toBe(200);
  expect(status.body).toEqual({
    task_id: taskId,
    agent_id: agentId,
    status: 'created',
    progress: 0,
    escrow: 0.15,
    deadline_remaining: expect.stringMatching(/^1h5\dm$|^2h0m$/),
    created_at: ISO,
  });

  // `hermes accept <id>` sends no body: the agent's own key accepts as that agent.
  const accepted = await cli(owner)('POST', `/tasks/${taskId}/accept`);
  expect(accepted.status).toBe(200);
  expect(accepted.body).toMatchObject({ task_id: taskId, agent_id: agentId, status: 'accepted' });

  const delivered = await cli(owner)('POST', `/tasks/${taskId}/deliver`, {
    result: 'https://storage.example.com/output.pdf',
    summary: 'Analysis complete',
  });
  expect(delivered.status).toBe(200);
  expect(delivered.body.status).toBe('delivered');

  const confirmed = await cli(hirer)('POST', `/tasks/${taskId}/confirm`, {
    rating: 5,
    comment: 'Excellent work',
  });
  expect(confirmed.status).toBe(200);
  expect(confirmed.body).toMatchObject({
    status: 'confirmed',
    released: Number(RATE - FEE) / 1e9,
    tx: `${taskId}.payout`,
  });
  expect(await solBalance(owner.id)).toEqual({ posted: RATE - FEE, held: 0n });
  expect(await solBalance(hirer.id)).toEqual({ posted: 0n, held: 0n });
  expect((await solBalance('system:PLATFORM_REVENUE')).posted - before.posted).toBe(FEE);
});

test('cancel before acceptance refunds the escrow: {refunded, tx}; after acceptance it is 409', async () => {
  const { paid } = await hired();
  expect(paid.status).toBe(201);
  const cancelled = await cli(hirer)('POST', `/tasks/${paid.body.task_id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({
    status: 'cancelled',
    refunded: 0.15,
    tx: `${paid.body.task_id}.refund`,
  });
  // Back in the hirer's SOL balance, nothing held.
  expect(await solBalance(hirer.id)).toEqual({ posted: RATE, held: 0n });

  const other = (await hired()).paid.body.task_id;
  expect((await cli(owner)('POST', `/tasks/${other}/accept`)).status).toBe(200);
  const late = await cli(hirer)('POST', `/tasks/${other}/cancel`);
  expect(late.status).toBe(409);
  expect(late.body).toEqual({ error: expect.any(String), code: 'INVALID_STATUS' });
});

test('a dispute keeps the escrow held until an admin resolves it; the resolution decides where it goes', async () => {
  const ownerBefore = await solBalance(owner.id);
  const hirerBefore = await solBalance(hirer.id);
  const { paid } = await hired();
  const id = paid.body.task_id;
  await cli(owner)('POST', `/tasks/${id}/accept`);
  await cli(owner)('POST', `/tasks/${id}/deliver`, { result: 'half done' });
  const disputed = await cli(hirer)('POST', `/tasks/${id}/dispute`, {
    reason: "Result doesn't match task scope",
  });
  expect(disputed.status).toBe(200);
  expect(disputed.body.status).toBe('disputed');
  expect((await solBalance(hirer.id)).held).toBe(hirerBefore.held + RATE);

  await admin.data(ResolveTaskDocument, { id, outcome: 'REFUND_CREATOR', note: 'scope not met' });
  expect(await solBalance(hirer.id)).toEqual({ posted: hirerBefore.posted + RATE, held: hirerBefore.held });
  expect(await solBalance(owner.id)).toEqual(ownerBefore);
  expect((await cli(hirer)('GET', `/tasks/${id}`)).body.status).toBe('resolved');
});

test('withdraw pays the earned SOL out: {status: "completed", amount, tx, fee}', async () => {
  const { posted } = await solBalance(owner.id);
  expect(posted).toBeGreaterThanOrEqual(RATE - FEE);
  const destination = solanaAddress();
  const response = await cli(owner)('POST', '/payments/withdraw', { amount: 0.1, to: destination });
  expect(response.status).toBe(200);
  expect(response.body).toEqual({
    status: 'completed',
    amount: 0.1,
    tx: expect.any(String),
    fee: expect.any(Number),
  });
  expect(payouts.calls.at(-1)).toMatchObject({ asset: 'SOL', destination });
  // The network fee is the payout's, reported; 004: "No withdrawal fees".
  expect((await solBalance(owner.id)).posted).toBe(posted - 100_000_000n);
});

test('a proof is refused when replayed for another task, short of the price, malformed, unknown or failed', async () => {
  const { signature, paid } = await hired();
  expect(paid.status).toBe(201);

  // The same signature for a second hire (another challenge's task id): 409, no second task.
  const second = await challenge();
  const reused = await cli(hirer)('POST', '/tasks', hireBody(), {
    'X-Payment-Proof': signature,
    'X-Payment-Task-Id': second.headers.get('x-payment-task-id')!,
  });
  expect(reused.status).toBe(409);
  expect(reused.body.code).toBe('CONFLICT');

  // Another account presenting someone else's signature: 409 as well.
  const stranger = await t.register('Stranger');
  await challenge(stranger);
  const stolen = await cli(stranger)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': signature });
  expect(stolen.status).toBe(409);
  expect(await taskCount(t, stranger.id)).toBe(0);

  // Paid less than the rate: 402 again with the terms; what was paid stays in the payer's balance.
  const before = await solBalance(stranger.id);
  const short = solana.pay(PAYER_WALLET, ESCROW, RATE - 1n);
  const underpaid = await cli(stranger)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': short });
  expect(underpaid.status).toBe(402);
  expectTerms(underpaid);
  expect(underpaid.body.code).toBe('PAYMENT_REQUIRED');
  expect(await solBalance(stranger.id)).toEqual({ posted: before.posted + RATE - 1n, held: 0n });
  expect(await taskCount(t, stranger.id)).toBe(0);

  // Paid to another address, not found, not finalized yet, failed on chain, not a signature: 400.
  const elsewhere = solana.pay(PAYER_WALLET, solanaAddress(), RATE);
  const pending = solana.pay(PAYER_WALLET, ESCROW, RATE, { commitment: 'confirmed' });
  const failed = solana.pay(PAYER_WALLET, ESCROW, RATE, { failed: true });
  for (const proof of [elsewhere, pending, failed, '4kP9x', 'not base58 0OIl'.repeat(6), '1'.repeat(88)]) {
    const refused = await cli(stranger)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': proof });
    expect([proof, refused.status, refused.body.code]).toEqual([proof, 400, 'INVALID_PARAMETERS']);
  }
  expect(await taskCount(t, stranger.id)).toBe(0);

  // Once finalized, the pending payment hires.
  solana.finalize(pending);
  const later = await cli(stranger)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': pending });
  expect(later.status).toBe(201);
});

test('a hire names a SOL agent and a budget that covers its rate', async () => {
  const over = await cli(hirer)('POST', '/tasks', { ...hireBody(), budget: 0.1 });
  expect(over.status).toBe(400);
  expect(over.body.code).toBe('INVALID_PARAMETERS');
  const missing = await cli(hirer)('POST', '/tasks', { description: 'x' });
  expect(missing.status).toBe(400);
});

test('task creation (a request carrying a payment proof) is limited to 10 a minute per key: 429 in x402 shape', async () => {
  const busy = await t.register('Busy');
  const attempt = () => cli(busy)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': '4kP9x' });
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await attempt()).status);
  expect(statuses).toEqual(Array(10).fill(400));
  const limited = await attempt();
  expect(limited.status).toBe(429);
  expect(limited.body).toEqual({ error: expect.any(String), code: 'RATE_LIMITED' });
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  // Asking for the terms is not creating a task; another key is not affected.
  expect((await cli(busy)('POST', '/tasks', hireBody())).status).toBe(402);
  expect((await cli(hirer)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': '4kP9x' })).status).toBe(400);
});

test('a paused agent is not hired: the hire is 409 before any terms, and a paid retry is refused too', async () => {
  const tasksBefore = await taskCount(t, hirer.id);
  expect((await cli(owner)('POST', `/agents/${agentId}/pause`)).status).toBe(200);
  try {
    const refused = await cli(hirer)('POST', '/tasks', hireBody());
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ error: expect.stringMatching(/paused/), code: 'CONFLICT' });
    expect(refused.headers.get('x-payment-required')).toBeNull();
    const signature = solana.pay(PAYER_WALLET, ESCROW, RATE);
    const paid = await cli(hirer)('POST', '/tasks', hireBody(), { 'X-Payment-Proof': signature });
    expect(paid.status).toBe(409);
    expect(await taskCount(t, hirer.id)).toBe(tasksBefore);
  } finally {
    await cli(owner)('POST', `/agents/${agentId}/unpause`);
  }
  expect((await challenge()).status).toBe(402);
});
