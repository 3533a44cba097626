/**
 * MPP (README "MPP (Machine Payments Protocol)") on the hermes routes: a real mppx client pays
 * with the agentry-credits method from a platform account's USD credits, through the real router,
 * wallet ledger and database.
 */
import { creditsClient } from '../../router/rest';
import { CreateApiKeyDocument } from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { fundedUser, ledgerViolations, usdCredits, withDatabase } from '../wallet.support';

const PRICE = 25_000n;
let t: TestPlatform;
let payer: User;
let key: string;

const core = () => import('mppx');
const client = () => import('mppx/client');

async function apiKey(user: User, scopes: string[]): Promise<string> {
  return (await user.data(CreateApiKeyDocument, { input: { name: 'mpp', scopes } })).createApiKey.key;
}

/** An mppx client that pays as the account of `payingKey`. */
async function payingClient(payingKey: string) {
  const { Mppx } = await client();
  return Mppx.create({ methods: [await creditsClient(payingKey)], polyfill: false });
}

const postTask = (headers: Record<string, string> = {}, title = 'paid task') =>
  fetch(`${t.url}/api/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ title }),
  });

/** A credential for one fresh challenge of POST /api/tasks, made by the mppx client. */
async function credentialFor(payingKey: string): Promise<string> {
  const challenged = await postTask();
  expect(challenged.status).toBe(402);
  return (await payingClient(payingKey)).createCredential(challenged);
}

async function expectProblem(response: Response, type: string) {
  expect(response.status).toBe(402);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('payment-receipt')).toBeNull();
  const { Challenge } = await core();
  // A fresh challenge for this route comes with every refusal.
  const challenge = Challenge.fromResponse(response);
  expect(challenge.method).toBe('agentry-credits');
  const problem = (await response.json()) as Record<string, unknown>;
  expect(problem).toMatchObject({ type: `https://paymentauth.org/problems/${type}`, status: 402 });
  expect(problem.challengeId).toBe(challenge.id);
  return problem;
}

beforeAll(async () => {
  t = await startTestPlatform({ MPP_ENABLED: 'true', MPP_PRICE_MICRO_USD: String(PRICE) });
  payer = await fundedUser(t, 1_000_000n, 'MPP payer');
  key = await apiKey(payer, ['tasks', 'wallet']);
});
afterAll(() => t.close());
afterEach(async () => expect(await withDatabase(t, ledgerViolations)).toEqual([]));

test('no credential: 402 with a parseable WWW-Authenticate: Payment challenge for the price', async () => {
  const response = await fetch(`${t.url}/api/tasks`);
  const { Challenge } = await core();
  const challenge = Challenge.fromResponse(response);
  expect(challenge).toMatchObject({
    method: 'agentry-credits',
    intent: 'charge',
    realm: 'agentry',
    request: { amount: String(PRICE), currency: 'usd', decimals: 6 },
  });
  expect(response.headers.get('www-authenticate')).toMatch(/^Payment /);
  await expectProblem(response, 'payment-required');
});

test('a real mppx client pays end to end: the row runs as the payer, the receipt comes back, the price is charged once', async () => {
  const before = await usdCredits(t, payer.id);
  const mppx = await payingClient(key);
  const response = await mppx.fetch(`${t.url}/api/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'paid by MPP' }),
  });
  expect(response.status).toBe(200);
  const { Receipt } = await core();
  const receipt = Receipt.deserialize(response.headers.get('payment-receipt')!);
  expect(receipt).toMatchObject({ method: 'agentry-credits', status: 'success' });
  const { task_id: taskId } = (await response.json()) as { task_id: string };

  // The task belongs to the payer: its owner reads it with a Bearer key.
  const read = await fetch(`${t.url}/api/tasks/${taskId}`, { headers: { authorization: `Bearer ${key}` } });
  expect(read.status).toBe(200);
  expect(((await read.json()) as { title: string }).title).toBe('paid by MPP');

  const after = await usdCredits(t, payer.id);
  expect(before.posted - after.posted).toBe(PRICE);
  expect(after.held).toBe(0n);
});

test('a replayed credential is refused with a fresh challenge and charges nothing', async () => {
  const credential = await credentialFor(key);
  const first = await postTask({ authorization: credential }, 'once');
  expect(first.status).toBe(200);
  const paid = await usdCredits(t, payer.id);

  const again = await postTask({ authorization: credential }, 'twice');
  const problem = await expectProblem(again, 'invalid-challenge');
  expect(problem.detail).toMatch(/already used/);
  expect(await usdCredits(t, payer.id)).toEqual(paid);
});

test('the same credential sent twice at once runs and charges once', async () => {
  const before = await usdCredits(t, payer.id);
  const credential = await credentialFor(key);
  const answers = await Promise.all([1, 2].map(() => postTask({ authorization: credential }, 'race')));
  expect(answers.map((a) => a.status).sort()).toEqual([200, 402]);
  const after = await usdCredits(t, payer.id);
  expect(before.posted - after.posted).toBe(PRICE);
});

test('a tampered amount, a credential for another route and a malformed one are refused, never 500', async () => {
  const before = await usdCredits(t, payer.id);
  const { Credential } = await core();
  const genuine = Credential.deserialize(await credentialFor(key));
  const cheaper = Credential.serialize({
    ...genuine,
    challenge: { ...genuine.challenge, request: { ...genuine.challenge.request, amount: '1' } },
  });
  await expectProblem(await postTask({ authorization: cheaper }), 'invalid-challenge');

  // Bound to POST /api/tasks: not accepted by GET /api/tasks.
  const elsewhere = await fetch(`${t.url}/api/tasks`, {
    headers: { authorization: Credential.serialize(genuine) },
  });
  await expectProblem(elsewhere, 'invalid-challenge');

  await expectProblem(await postTask({ authorization: 'Payment not-a-credential' }), 'malformed-credential');
  expect(await usdCredits(t, payer.id)).toEqual(before);
});

test('a payer short of credits, an unknown key and a key without the wallet scope: 402 with a fresh challenge', async () => {
  const poor = await fundedUser(t, PRICE - 1n, 'MPP poor');
  const poorKey = await apiKey(poor, ['tasks', 'wallet']);
  const short = await expectProblem(
    await postTask({ authorization: await credentialFor(poorKey) }),
    'verification-failed',
  );
  expect(short.detail).toMatch(/insufficient credits/);
  expect(await usdCredits(t, poor.id)).toEqual({ posted: PRICE - 1n, held: 0n });

  const unknown = await credentialFor('agx_not_a_key_at_all');
  await expectProblem(await postTask({ authorization: unknown }), 'verification-failed');

  const narrow = await apiKey(payer, ['tasks']);
  const before = await usdCredits(t, payer.id);
  const scoped = await expectProblem(
    await postTask({ authorization: await credentialFor(narrow) }),
    'verification-failed',
  );
  expect(scoped.detail).toMatch(/wallet scope/);
  expect(await usdCredits(t, payer.id)).toEqual(before);
});

test('a paid row that fails voids the hold: no receipt, nothing charged', async () => {
  const before = await usdCredits(t, payer.id);
  const mppx = await payingClient(key);
  const response = await mppx.fetch(`${t.url}/api/tasks/task_missing`);
  expect(response.status).toBe(404);
  expect(response.headers.get('payment-receipt')).toBeNull();
  expect(await usdCredits(t, payer.id)).toEqual(before);
});

test('a Bearer key wins: no payment, no receipt; health and gateway status are never gated', async () => {
  const before = await usdCredits(t, payer.id);
  const keyed = await postTask({ authorization: `Bearer ${key}` }, 'by key');
  expect(keyed.status).toBe(200);
  expect(keyed.headers.get('payment-receipt')).toBeNull();
  expect(await usdCredits(t, payer.id)).toEqual(before);

  for (const path of ['/health', '/runtime/api/health', '/api/gateway-status'])
    expect((await fetch(`${t.url}${path}`)).status).not.toBe(402);
  // GraphQL is not a hermes route: a Payment credential there is no credential.
  const graphql = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: await credentialFor(key) },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
  const body = (await graphql.json()) as { errors?: { extensions?: { code?: string } }[] };
  expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});

test('MPP_ENABLED unset: the same route answers 401 without a credential, as before', async () => {
  const plain = await startTestPlatform();
  try {
    const response = await fetch(`${plain.url}/api/tasks`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBeNull();
  } finally {
    await plain.close();
  }
});
