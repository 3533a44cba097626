/**
 * x402 v2 on hermesx402's hire route: an agent priced in USDC answers POST /tasks with 402 and
 * `PAYMENT-REQUIRED`; a real `@x402/fetch` client with a local viem account signs an EIP-3009
 * authorization and retries with `PAYMENT-SIGNATURE`, which the platform has a facilitator double
 * (over HTTP, really checking the signature) verify and settle; the task is created with its USDC
 * reward in escrow and the 201 carries `PAYMENT-RESPONSE`. Replays, tampering, malformed headers,
 * several payment credentials at once and Idempotency-Key are refused or answered as documented.
 * Real PostgreSQL, the whole platform; the ledger's invariants are checked after every test.
 */
import type * as ViemAccounts from 'viem/accounts' with { 'resolution-mode': 'import' };
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { CreateMarketplaceAgentDocument } from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { solanaAddress, startSolanaDouble, type SolanaDouble } from '../support/solana-double';
import { startFacilitatorDouble, type FacilitatorDouble } from '../support/x402-facilitator-double';
import { assetBalance, ledgerViolations, taskCount, withDatabase } from '../wallet.support';
import { rest } from './support';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { generatePrivateKey, privateKeyToAccount } = require('viem/accounts') as typeof ViemAccounts;

const NETWORK = 'eip155:84532'; // Base Sepolia
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const RATE = 50_000n; // 0.05 USDC

let t: TestPlatform;
let facilitator: FacilitatorDouble;
let solana: SolanaDouble;
let hirer: User;
let owner: User;
let usdcAgent: string;
let solAgent: string;

beforeAll(async () => {
  facilitator = await startFacilitatorDouble({ network: NETWORK });
  solana = await startSolanaDouble();
  Object.assign(process.env, {
    X402_FACILITATOR_URL: facilitator.url,
    X402_PAY_TO: PAY_TO,
    X402_NETWORK: NETWORK,
    X402_ASSET: USDC,
    X402_ASSET_NAME: 'USDC',
    X402_ASSET_VERSION: '2',
    SOLANA_RPC_URL: solana.url,
    SOLANA_ESCROW_ADDRESS: solanaAddress(),
  });
  t = await startTestPlatform();
  owner = await t.register('Agent owner');
  const create = (ticker: string, asset: string, priceMinor: string) =>
    owner.data(CreateMarketplaceAgentDocument, {
      input: { name: `${asset} bot`, ticker, asset, priceMinor },
    });
  usdcAgent = (await create('USDCBOT', 'USDC', RATE.toString())).createAgent.id;
  solAgent = (await create('SOLBOT', 'SOL', '150000000')).createAgent.id;
});
afterAll(async () => {
  for (const name of [
    'X402_FACILITATOR_URL',
    'X402_PAY_TO',
    'X402_NETWORK',
    'X402_ASSET',
    'X402_ASSET_NAME',
    'X402_ASSET_VERSION',
    'SOLANA_RPC_URL',
    'SOLANA_ESCROW_ADDRESS',
  ])
    delete process.env[name];
  await t.close();
  await Promise.all([facilitator.close(), solana.close()]);
});
// Paid hires are limited to 10 a minute per key: each test hires as a new account.
beforeEach(async () => {
  hirer = await t.register('Hirer');
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const HIRES = '/x402/v1/tasks';
const hireBody = (description = 'Summarize top AI papers from this week') => ({
  agent_id: usdcAgent,
  description,
  deadline: '2h',
});

const usdc = (ownerId: string) => assetBalance(t, ownerId, 'USDC');

const settles = () => facilitator.calls.filter(({ path }) => path === '/settle').length;

/**
 * An `@x402/fetch` client paying with a fresh local account, as one platform user; every request
 * it sends is kept, so a test can replay the PAYMENT-SIGNATURE it made.
 */
function payingClient(user: User) {
  const account = privateKeyToAccount(generatePrivateKey());
  const sent: Request[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push(request.clone());
    return fetch(request);
  };
  const client = new x402Client().register('eip155:*', new ExactEvmScheme(account));
  const paying = wrapFetchWithPayment(recording, client);
  const hire = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await paying(`${t.url}${HIRES}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.credential}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { response, body: (await response.json()) as Record<string, unknown> };
  };
  const signature = () => sent.at(-1)?.headers.get('payment-signature') ?? undefined;
  return { account, client, hire, signature };
}

/** One hire request as a plain client sends it. */
const post = (user: User, body: unknown, headers: Record<string, string> = {}) =>
  rest(t, user.credential)('POST', HIRES, { body, headers });

/** The terms of a 402, decoded with x402's own reader. */
async function terms(user: User = hirer): Promise<PaymentRequired> {
  const challenge = await post(user, hireBody());
  expect(challenge.status).toBe(402);
  return decodePaymentRequiredHeader(challenge.headers.get('payment-required')!);
}

test('a USDC agent answers 402 with PAYMENT-REQUIRED (x402 v2, exact USDC on the network) and no-store', async () => {
  const challenge = await post(hirer, hireBody());
  expect(challenge.status).toBe(402);
  expect(challenge.headers.get('cache-control')).toBe('no-store');
  expect(challenge.body).toEqual({ error: expect.stringContaining('USDC'), code: 'PAYMENT_REQUIRED' });
  // The Solana terms are not offered for a USDC price.
  expect(challenge.headers.get('x-payment-address')).toBeNull();
  expect(challenge.headers.get('x-payment-task-id')).toMatch(/^task_[0-9a-z]{26}$/);
  const required = decodePaymentRequiredHeader(challenge.headers.get('payment-required')!);
  expect(required).toEqual({
    x402Version: 2,
    resource: { url: `urn:agentry:hire:${usdcAgent}`, description: 'Hire USDC bot' },
    accepts: [
      {
        scheme: 'exact',
        network: NETWORK,
        amount: RATE.toString(),
        asset: USDC,
        payTo: PAY_TO,
        maxTimeoutSeconds: 300,
        extra: { name: 'USDC', version: '2' },
      },
    ],
  });
  expect(facilitator.calls.filter(({ path }) => path === '/supported').length).toBe(1);
  expect(await taskCount(t, hirer.id)).toBe(0);
});

test('@x402/fetch pays end to end: verify and settle at the facilitator, 201 with PAYMENT-RESPONSE, reward in escrow', async () => {
  const payer = payingClient(hirer);
  const before = await usdc(hirer.id);
  const { response, body } = await payer.hire(hireBody());
  expect(response.status).toBe(201);
  const settlement = decodePaymentResponseHeader(response.headers.get('payment-response')!);
  expect(settlement).toMatchObject({
    success: true,
    network: NETWORK,
    transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    payer: payer.account.address,
  });
  expect(body).toEqual({
    task_id: expect.stringMatching(/^task_/),
    status: 'created',
    escrow: 0.05,
    tx: settlement.transaction,
  });
  expect(facilitator.calls.slice(-2)).toEqual([
    { path: '/verify', payer: payer.account.address, nonce: expect.any(String) },
    { path: '/settle', payer: payer.account.address, nonce: expect.any(String) },
  ]);
  // Credited from deposits clearing and held in escrow from there.
  expect(await usdc(hirer.id)).toEqual({ posted: before.posted + RATE, held: before.held + RATE });
  const status = await rest(t, hirer.credential)('GET', `${HIRES}/${String(body.task_id)}`);
  expect(status.body).toMatchObject({ task_id: body.task_id, agent_id: usdcAgent, escrow: 0.05 });

  // The same payment again: the same task, without asking the facilitator to settle twice.
  const count = settles();
  const again = await post(hirer, hireBody(), { 'PAYMENT-SIGNATURE': payer.signature()! });
  expect(again.status).toBe(201);
  expect(again.body).toEqual(body);
  expect(decodePaymentResponseHeader(again.headers.get('payment-response')!).transaction).toBe(
    settlement.transaction,
  );
  expect(settles()).toBe(count);
  expect(await taskCount(t, hirer.id)).toBe(1);
});

test('a replayed payment funds no second task; the facilitator refuses a settled nonce', async () => {
  const payer = payingClient(hirer);
  const { response } = await payer.hire(hireBody('First'));
  expect(response.status).toBe(201);
  const signature = payer.signature()!;
  const tasks = await taskCount(t, hirer.id);

  // For another challenge's task: 409.
  const other = await post(hirer, hireBody('First'));
  const reused = await post(hirer, hireBody('First'), {
    'PAYMENT-SIGNATURE': signature,
    'X-Payment-Task-Id': other.headers.get('x-payment-task-id')!,
  });
  expect(reused.status).toBe(409);
  expect(reused.body).toEqual({ error: expect.any(String), code: 'CONFLICT' });
  // By another account: 409, nothing credited to it.
  const stranger = await t.register('Stranger');
  const stolen = await post(stranger, hireBody('First'), { 'PAYMENT-SIGNATURE': signature });
  expect(stolen.status).toBe(409);
  expect(await usdc(stranger.id)).toEqual({ posted: 0n, held: 0n });
  expect(await taskCount(t, hirer.id)).toBe(tasks);
  expect(await taskCount(t, stranger.id)).toBe(0);

  // The same authorization re-encoded (another payment id here): the facilitator refuses its nonce.
  const payload = JSON.parse(Buffer.from(signature, 'base64').toString('utf8')) as PaymentPayload;
  const reordered = { ...payload, payload: { signature: payload.payload.signature, ...payload.payload } };
  const replay = await post(stranger, hireBody('First'), {
    'PAYMENT-SIGNATURE': Buffer.from(JSON.stringify(reordered)).toString('base64'),
  });
  expect(replay.status).toBe(402);
  expect(replay.body).toEqual({ error: expect.stringContaining('nonce_used'), code: 'PAYMENT_REQUIRED' });
  expect(replay.headers.get('payment-required')).toBeTruthy();
  expect(await taskCount(t, stranger.id)).toBe(0);
});

test('a tampered amount is refused: 402 with the terms again, nothing settled or credited', async () => {
  const { client } = payingClient(hirer);
  const required = await terms();
  const before = { settles: settles(), balance: await usdc(hirer.id), tasks: await taskCount(t, hirer.id) };

  // Signed for less than the price, and saying so: it does not accept these terms.
  const cheaper = { ...required, accepts: [{ ...required.accepts[0], amount: '1' }] };
  const cheap = await client.createPaymentPayload(cheaper);
  // Signed for the price, then the signed value lowered: the signature no longer recovers.
  const honest = await client.createPaymentPayload(required);
  const lowered = structuredClone(honest) as PaymentPayload & {
    payload: { authorization: { value: string } };
  };
  lowered.payload.authorization.value = '1';
  const raised = structuredClone(honest) as typeof lowered;
  raised.payload.authorization.value = (RATE * 2n).toString();
  raised.accepted.amount = (RATE * 2n).toString();
  for (const payload of [cheap, lowered, raised]) {
    const response = await post(hirer, hireBody(), {
      'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(payload),
    });
    expect([response.status, response.body]).toEqual([
      402,
      { error: expect.any(String), code: 'PAYMENT_REQUIRED' },
    ]);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0].amount).toBe(
      RATE.toString(),
    );
  }
  expect(settles()).toBe(before.settles);
  expect(await usdc(hirer.id)).toEqual(before.balance);
  expect(await taskCount(t, hirer.id)).toBe(before.tasks);
});

test('a malformed PAYMENT-SIGNATURE is 400, never 500', async () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
  for (const header of [
    'not base64!',
    Buffer.from('not json').toString('base64'),
    json({}),
    json([1, 2]),
    json({ x402Version: 1, payload: {} }),
    json({ x402Version: 2, accepted: { scheme: 'exact' }, payload: {} }),
    'A'.repeat(8000),
  ]) {
    const response = await post(hirer, hireBody(), { 'PAYMENT-SIGNATURE': header });
    expect([header.slice(0, 20), response.status, response.body]).toEqual([
      header.slice(0, 20),
      400,
      { error: expect.stringContaining('PAYMENT-SIGNATURE'), code: 'INVALID_PARAMETERS' },
    ]);
  }
});

test('several payment credentials are 400; a credential of the other rail is 400', async () => {
  const payer = payingClient(hirer);
  const required = await terms();
  const signature = encodePaymentSignatureHeader(await payer.client.createPaymentPayload(required));
  const proof = solana.pay(solanaAddress(), solanaAddress(), 1n);
  const api = rest(t);
  const count = settles();
  for (const headers of <Record<string, string>[]>[
    { authorization: `Bearer ${hirer.credential}`, 'PAYMENT-SIGNATURE': signature, 'X-Payment-Proof': proof },
    { 'x-api-key': hirer.credential, authorization: 'Payment id="x"', 'X-Payment-Proof': proof },
    { 'x-api-key': hirer.credential, authorization: 'Payment id="x"', 'PAYMENT-SIGNATURE': signature },
  ]) {
    const response = await api('POST', HIRES, { body: hireBody(), headers });
    expect([Object.keys(headers), response.status, response.body]).toEqual([
      Object.keys(headers),
      400,
      { error: expect.stringContaining('one payment credential'), code: 'INVALID_REQUEST' },
    ]);
  }
  // A USDC agent is not paid with a Solana proof, nor a SOL agent with PAYMENT-SIGNATURE.
  const wrongRail = await post(hirer, hireBody(), { 'X-Payment-Proof': proof });
  expect([wrongRail.status, wrongRail.body.code]).toEqual([400, 'INVALID_PARAMETERS']);
  const solHire = await post(
    hirer,
    { ...hireBody(), agent_id: solAgent },
    { 'PAYMENT-SIGNATURE': signature },
  );
  expect([solHire.status, solHire.body.code]).toEqual([400, 'INVALID_PARAMETERS']);
  // Refused before the facilitator was asked to settle anything.
  expect(settles()).toBe(count);
});

test('Idempotency-Key: the same request answers the first task, another request is 422, one in flight 409', async () => {
  const payer = payingClient(hirer);
  const key = `hire-${Date.now()}`;
  const first = await payer.hire(hireBody('Keyed'), { 'Idempotency-Key': key });
  expect(first.response.status).toBe(201);
  const tasks = await taskCount(t, hirer.id);
  const balance = await usdc(hirer.id);
  const count = settles();

  // A client retrying with a freshly signed payment and the same key pays nothing twice.
  const fresh = encodePaymentSignatureHeader(await payer.client.createPaymentPayload(await terms()));
  const retried = await post(hirer, hireBody('Keyed'), {
    'Idempotency-Key': key,
    'PAYMENT-SIGNATURE': fresh,
  });
  expect(retried.status).toBe(201);
  expect(retried.body.task_id).toBe(first.body.task_id);
  expect(settles()).toBe(count);
  expect(await taskCount(t, hirer.id)).toBe(tasks);
  expect(await usdc(hirer.id)).toEqual(balance);

  const changed = await post(hirer, hireBody('Another job'), {
    'Idempotency-Key': key,
    'PAYMENT-SIGNATURE': fresh,
  });
  expect([changed.status, changed.body.code]).toEqual([422, 'UNPROCESSABLE']);
  // The key is the caller's: another account may use the same one.
  const other = payingClient(owner);
  expect((await other.hire(hireBody('Keyed'), { 'Idempotency-Key': key })).response.status).toBe(201);

  // Two paid requests with one new key at once: one settles, the other is told it is in flight.
  facilitator.settings.settleDelayMs = 400;
  try {
    const racing = `race-${Date.now()}`;
    const payloads = await Promise.all(
      [0, 1].map(async () =>
        encodePaymentSignatureHeader(await payer.client.createPaymentPayload(await terms())),
      ),
    );
    const answers = await Promise.all(
      payloads.map((signature) =>
        post(hirer, hireBody('Raced'), { 'Idempotency-Key': racing, 'PAYMENT-SIGNATURE': signature }),
      ),
    );
    expect(answers.map(({ status }) => status).sort()).toEqual([201, 409]);
    expect(answers.find(({ status }) => status === 409)!.body.code).toBe('CONFLICT');
  } finally {
    facilitator.settings.settleDelayMs = 0;
  }
  expect(await taskCount(t, hirer.id)).toBe(tasks + 1);
});

test('a bad Idempotency-Key is 400', async () => {
  const payer = payingClient(hirer);
  const signature = encodePaymentSignatureHeader(await payer.client.createPaymentPayload(await terms()));
  const response = await post(hirer, hireBody(), {
    'Idempotency-Key': 'spaces are not allowed',
    'PAYMENT-SIGNATURE': signature,
  });
  expect([response.status, response.body.code]).toEqual([400, 'INVALID_PARAMETERS']);
});
