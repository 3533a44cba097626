/**
 * 000's gaze attestation through the hermes REST rows and the real accounts subgraph: samples build
 * gaze time by the server's clock (222 cs in one session verify it), the attestation expires after
 * ATTESTATION_TTL_SECONDS, and a gaze-gated escrow is released only by an account verified now (the
 * wallet asks the accounts subgraph under its service identity).
 */
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { fundedUser, ledgerViolations, usdCredits, withDatabase } from '../wallet.support';
import { ISO, rest, type Rest } from './support';

const TTL_SECONDS = 4;
const env = { ATTESTATION_TTL_SECONDS: String(TTL_SECONDS), GAZE_MAX_GAP_CENTISECONDS: '50' };
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform(env);
  // Subgraphs read these settings on each call.
  Object.assign(process.env, env);
});
afterAll(async () => {
  for (const name of Object.keys(env)) delete process.env[name];
  await t.close();
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SAMPLE = { gaze_x: 0.4, gaze_y: 0.6, cog_value: 0.7, emo_value: 0.2, env_value: 0.1, confidence: 0.9 };

/** Sends a sample every `everyMs` until the attestation is verified (or 60 samples); answers the last answer. */
async function gazeUntilVerified(api: Rest, everyMs = 100) {
  const seen: { status: string; progress_cs: number }[] = [];
  for (let i = 0; i < 60; i++) {
    const { status, body } = await api('POST', '/api/gaze/store', { body: SAMPLE });
    expect(status).toBe(200);
    seen.push(body.attestation);
    if (body.attestation.status === 'verified') return { last: body, seen };
    await sleep(everyMs);
  }
  throw new Error(`not verified after 60 samples: ${JSON.stringify(seen.at(-1))}`);
}

test('samples → pending → verified at 222 cs → expired after the TTL; a gaze-gated release 403 then 200', async () => {
  const payer = await fundedUser(t, 5_000_000n, 'Gaze payer');
  const recipient = await t.register('Gaze recipient');
  const api = rest(t, payer.credential);

  expect((await api('GET', '/api/attestation/status')).body).toEqual({
    attestation_id: null,
    status: 'pending',
    progress_cs: 0,
    required_cs: 222,
    progress: 0,
    sample_count: 0,
    verified_at: null,
    expires_at: null,
  });

  const task = await api('POST', '/api/tasks', { body: { title: 'Look at this' } });
  const escrow = await api('POST', '/api/wallet/escrow', {
    body: {
      task_id: task.body.task_id,
      amount: 1.5,
      recipient: recipient.id,
      gaze_required: true,
      ttl_seconds: 3600,
    },
  });
  expect(escrow.status).toBe(200);
  const release = () =>
    api('POST', '/api/wallet/escrow/release', { body: { escrow_id: escrow.body.escrow_id } });
  // No attestation yet: refused, and nothing moves.
  expect(await release()).toMatchObject({
    status: 403,
    body: { detail: 'this escrow is released only with a verified gaze attestation' },
  });

  // The first sample opens a session at 0 cs; each next one adds the pause since the previous.
  const first = await api('POST', '/api/gaze/store', { body: SAMPLE });
  expect(first.body).toEqual({
    stored: true,
    sample: {
      id: expect.stringMatching(/^gaze_/),
      session_id: expect.stringMatching(/^att_/),
      ...SAMPLE,
      counted_cs: 0,
      created_at: ISO,
    },
    attestation: expect.objectContaining({ status: 'pending', progress_cs: 0, sample_count: 1 }),
  });
  const started = Date.now();
  const { last, seen } = await gazeUntilVerified(api);
  const elapsedCs = (Date.now() - started) / 10;
  // Pending all the way below 222 cs, progress only rising, verified once it reached 222.
  for (const [i, step] of seen.slice(0, -1).entries()) {
    expect(step.status).toBe('pending');
    expect(step.progress_cs).toBeLessThan(222);
    if (i) expect(step.progress_cs).toBeGreaterThanOrEqual(seen[i - 1]!.progress_cs);
  }
  expect(last.attestation.progress_cs).toBeGreaterThanOrEqual(222);
  // Counted by the server's clock: never more than the time that passed.
  expect(last.attestation.progress_cs).toBeLessThanOrEqual(elapsedCs + 10);
  expect(last.sample.session_id).toBe(first.body.sample.session_id);
  const status = (await api('GET', '/api/attestation/status')).body;
  expect(status).toMatchObject({
    status: 'verified',
    attestation_id: first.body.sample.session_id,
    progress: 1,
  });
  expect(Date.parse(status.expires_at) - Date.parse(status.verified_at)).toBe(TTL_SECONDS * 1000);

  // Verified: the gaze-gated release goes through (an attestation id that is not yours does not).
  const wrongId = await api('POST', '/api/wallet/escrow/release', {
    body: { escrow_id: escrow.body.escrow_id, attestation_id: 'att_00000000000000000000000000' },
  });
  expect(wrongId.status).toBe(403);
  const released = await release();
  expect(released.status).toBe(200);
  expect(released.body.status).toBe('released');
  expect(await usdCredits(t, recipient.id)).toEqual({ posted: 1_500_000n, held: 0n });
  expect(await usdCredits(t, payer.id)).toEqual({ posted: 3_500_000n, held: 0n });

  // The recipient's attestation is its own: still pending, and its history is empty.
  const other = rest(t, recipient.credential);
  expect((await other('GET', '/api/attestation/status')).body.status).toBe('pending');
  expect((await other('GET', '/api/gaze/history')).body).toEqual({
    samples: [],
    total: 0,
    limit: 20,
    offset: 0,
  });
  const history = (await api('GET', '/api/gaze/history?limit=5')).body;
  expect(history.total).toBe(seen.length + 1);
  expect(history.samples).toHaveLength(5);
  expect(history.samples[0].id).toBe(last.sample.id);

  // After the TTL: expired, and a second gaze-gated escrow is refused again.
  await sleep(Date.parse(status.expires_at) - Date.now() + 200);
  expect((await api('GET', '/api/attestation/status')).body).toMatchObject({
    status: 'expired',
    attestation_id: first.body.sample.session_id,
  });
  const second = await api('POST', '/api/wallet/escrow', {
    body: {
      task_id: task.body.task_id,
      amount: 1,
      recipient: recipient.id,
      gaze_required: true,
      ttl_seconds: 3600,
    },
  });
  const refused = await api('POST', '/api/wallet/escrow/release', {
    body: { escrow_id: second.body.escrow_id },
  });
  expect(refused.status).toBe(403);
  expect((await api('POST', `/api/wallet/escrow/${second.body.escrow_id}/refund`)).status).toBe(200);
});

test('a pause longer than the gap limit starts a new session at 0 cs', async () => {
  const api = rest(t, (await t.register('Blinker')).credential);
  const a = await api('POST', '/api/gaze/store', { body: SAMPLE });
  await sleep(100);
  const b = await api('POST', '/api/gaze/store', { body: SAMPLE });
  expect(b.body.sample.session_id).toBe(a.body.sample.session_id);
  expect(b.body.sample.counted_cs).toBeGreaterThanOrEqual(9);
  await sleep(700); // past 50 cs
  const c = await api('POST', '/api/gaze/store', { body: SAMPLE });
  expect(c.body.sample.session_id).not.toBe(a.body.sample.session_id);
  expect(c.body.attestation).toMatchObject({ status: 'pending', progress_cs: 0, sample_count: 1 });
});

test('values outside 0..1, missing or not numbers are 422 in {detail}, and nothing is stored', async () => {
  const api = rest(t, (await t.register('Sloppy tracker')).credential);
  for (const sent of [
    { ...SAMPLE, gaze_x: 1.5 },
    { ...SAMPLE, confidence: -0.1 },
    { ...SAMPLE, cog_value: 'high' },
    { ...SAMPLE, env_value: null },
    (({ emo_value: _, ...rest }) => rest)(SAMPLE),
  ]) {
    const refused = await api('POST', '/api/gaze/store', { body: sent });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ detail: expect.any(String) });
  }
  expect((await api('GET', '/api/gaze/history')).body.total).toBe(0);
  expect((await rest(t)('GET', '/api/attestation/status')).status).toBe(401);
});

test('a gaze-flagged task is claimed only by an account verified now; an unflagged one without', async () => {
  // Hermes' operator claims its tasks for a worker it names; the operator is who must have gazed.
  const operator = rest(t, (await t.register('Operator')).credential);
  const flagged = await operator('POST', '/api/tasks', {
    body: { title: 'Watch closely', gaze_required: true },
  });
  expect(flagged.status).toBe(200);
  expect(flagged.body.gaze_required).toBe(true);
  const plain = await operator('POST', '/api/tasks', { body: { title: 'Anyone may' } });
  expect(plain.body.gaze_required).toBe(false);
  expect((await operator('GET', `/api/tasks/${flagged.body.task_id}`)).body.gaze_required).toBe(true);

  const claim = (id: string) =>
    operator('POST', `/api/tasks/${id}/claim`, { body: { agent_name: 'worker-1' } });
  const refused = await claim(flagged.body.task_id);
  expect(refused.status).toBe(403);
  expect(refused.body).toEqual({ detail: 'this task is claimed only with a verified gaze attestation' });
  expect((await operator('GET', `/api/tasks/${flagged.body.task_id}`)).body).toMatchObject({
    status: 'Open',
    assigned_agent: null,
  });
  expect((await claim(plain.body.task_id)).status).toBe(200);

  await gazeUntilVerified(operator);
  const claimed = await claim(flagged.body.task_id);
  expect(claimed.status).toBe(200);
  expect(claimed.body).toMatchObject({
    status: 'InProgress',
    assigned_agent: 'worker-1',
    gaze_required: true,
  });

  const sloppy = await operator('POST', '/api/tasks', { body: { title: 'x', gaze_required: 'yes' } });
  expect(sloppy.status).toBe(422);
  expect(sloppy.body).toEqual({ detail: expect.stringContaining('gaze_required') });
});

test('verify-session: the tier follows what the account proved (free, paid, attested, admin)', async () => {
  const fresh = rest(t, (await t.register('Newcomer')).credential);
  const free = await fresh('POST', '/api/verify-session', { body: {} });
  expect(free.status).toBe(200);
  expect(free.body).toMatchObject({
    valid: true,
    user_id: expect.any(String),
    display_name: 'Newcomer',
    role: 'user',
    access_tier: 'free',
    gaze_verified: false,
    subscription: { active: false, kind: 'prepaid_credits', balances: {} },
    attestation: { status: 'pending', progress_cs: 0 },
  });

  const payer = rest(t, (await fundedUser(t, 2_500_000n, 'Subscriber')).credential);
  const paid = (await payer('POST', '/api/verify-session', { body: {} })).body;
  expect(paid).toMatchObject({ access_tier: 'paid', subscription: { active: true } });
  expect(Object.values(paid.subscription.balances)).toEqual([2.5]);

  await gazeUntilVerified(payer);
  expect((await payer('POST', '/api/verify-session', { body: {} })).body).toMatchObject({
    access_tier: 'attested',
    gaze_verified: true,
    attestation: { status: 'verified' },
  });

  const boss = rest(t, (await registerAdmin(t)).credential);
  expect((await boss('POST', '/api/verify-session', { body: {} })).body).toMatchObject({
    role: 'admin',
    access_tier: 'admin',
  });

  const anonymous = await rest(t)('POST', '/api/verify-session', { body: {} });
  expect(anonymous.status).toBe(401);
  expect(anonymous.body).toEqual({ detail: expect.any(String) });
});

test('/health keeps the platform answer and adds the upstream and the capabilities that work', async () => {
  const before = await fetch(new URL('/health', t.url));
  expect(before.status).toBe(200);
  expect(await before.text()).toContain('"status":"ok"');
  const healthy = await (await fetch(new URL('/health', t.url))).json();
  expect(healthy).toMatchObject({
    status: 'ok',
    health: 'healthy',
    version: expect.any(String),
    uptimeSeconds: expect.any(Number),
    subgraphs: { accounts: { reachable: true } },
    upstream: { status: expect.any(String) },
  });
  // No LLM is configured here, so chat and Tempo billing are off and the rest on.
  expect(healthy.capability_status).toEqual({
    gaze_data_storage: true,
    gaze_data_retrieval: true,
    gaze_pattern_analysis: true,
    context_awareness: true,
    ai_chat: false,
    usage_analytics: true,
    tempo_billing: false,
    task_escrow: true,
  });
  expect(healthy.capabilities).toEqual([
    'gaze_data_storage',
    'gaze_data_retrieval',
    'gaze_pattern_analysis',
    'context_awareness',
    'usage_analytics',
    'task_escrow',
  ]);

  await t.platform.subgraphs.find((s) => s.name === 'wallet')!.close();
  const degraded = await fetch(new URL('/health', t.url));
  expect(degraded.status).toBe(503);
  const after = await degraded.json();
  expect(after).toMatchObject({ status: 'degraded', health: 'degraded' });
  expect(after.capabilities).not.toContain('task_escrow');
  expect(after.capability_status.task_escrow).toBe(false);
});
