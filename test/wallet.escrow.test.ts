/**
 * 000/001's escrow: a pending ledger transfer from the payer to the recipient with the TTL as its
 * timeout; release posts it, refund voids it, expiry returns it. Real PostgreSQL, the whole platform
 * through the REST routes, and the ledger's invariants after every test.
 */
import { grantCredits } from '../subgraphs/wallet/ledger/ledger.service';
import { expireDueHolds } from '../subgraphs/wallet';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { rest, type Rest } from './rest/support';
import { ledgerViolations, walletDeps, withDatabase } from './wallet.support';

let t: TestPlatform;
let grants = 0;

beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t.close();
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

interface Party {
  user: User;
  api: Rest;
}

async function party(name: string, microUsd = 0n): Promise<Party> {
  const user = await t.register(name);
  if (microUsd > 0n)
    await grantCredits(walletDeps(t), {
      id: `escrow-grant-${++grants}`,
      accountId: user.id,
      asset: 'USD',
      amountMinor: microUsd,
    });
  return { user, api: rest(t, user.credential) };
}

/** Posted USD and what is held of it, from the ledger itself. */
const credits = (user: User) =>
  withDatabase(t, async (db) => {
    const { rows } = await db.query<{ posted: string; held: string }>(
      `select "credits_posted" - "debits_posted" as "posted", "debits_pending" as "held"
         from "wallet"."ledger_account" where "owner_id" = $1 and "asset" = 'USD'`,
      [user.id],
    );
    return { posted: BigInt(rows[0]?.posted ?? 0), held: BigInt(rows[0]?.held ?? 0) };
  });

async function taskOf(payer: Party): Promise<string> {
  const created = await payer.api('POST', '/api/tasks', { body: { title: 'Label 100 images' } });
  expect(created.status).toBe(200);
  return created.body.task_id as string;
}

async function lock(payer: Party, recipient: Party, extra: Record<string, unknown> = {}) {
  return payer.api('POST', '/api/wallet/escrow', {
    body: { task_id: await taskOf(payer), amount: 2.5, token: 'USD', recipient: recipient.user.id, ...extra },
  });
}

/** Moves an escrow's expiry (and its hold's timeout) to `seconds` from now. */
const expireIn = (escrowId: string, seconds: number) =>
  withDatabase(t, async (db) => {
    const at = `now() + make_interval(secs => ${seconds})`;
    await db.query(`update "wallet"."escrow" set "expires_at" = ${at} where "id" = $1`, [escrowId]);
    await db.query(
      `update "wallet"."pending_hold" set "timeout_at" = ${at}
        where "transfer_id" = (select "hold_id" from "wallet"."escrow" where "id" = $1)`,
      [escrowId],
    );
  });

/** How many EXPIRE transfers ended an escrow's hold. */
const expiries = (escrowId: string) =>
  withDatabase(t, async (db) => {
    const { rows } = await db.query(
      `select count(*)::int as n from "wallet"."transfer"
        where "kind" = 'EXPIRE' and "pending_id" = (select "hold_id" from "wallet"."escrow" where "id" = $1)`,
      [escrowId],
    );
    return rows[0].n as number;
  });

test('lock, read, list and release: the shapes, and the money moves once', async () => {
  const payer = await party('Escrow payer', 10_000_000n);
  const recipient = await party('Escrow recipient');
  const locked = await lock(payer, recipient, { gaze_required: false, ttl_seconds: 3600 });
  expect(locked.status).toBe(200);
  expect(locked.body).toEqual({
    escrow_id: expect.stringMatching(/^esc_/),
    task_id: expect.stringMatching(/^task_/),
    amount: 2.5,
    amount_minor: '2500000',
    token: 'USD',
    payer: payer.user.id,
    recipient: recipient.user.id,
    status: 'locked',
    gaze_required: false,
    ttl_seconds: 3600,
    hold_id: `${locked.body.escrow_id}.hold`,
    created_at: expect.any(String),
    expires_at: expect.any(String),
    settled_at: null,
  });
  expect(Date.parse(locked.body.expires_at) - Date.parse(locked.body.created_at)).toBe(3600_000);
  expect(await credits(payer.user)).toEqual({ posted: 10_000_000n, held: 2_500_000n });
  const id = locked.body.escrow_id as string;

  const read = await payer.api('GET', `/api/wallet/escrow/${id}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(locked.body);
  // The recipient sees it too; a stranger does not.
  expect((await recipient.api('GET', `/api/wallet/escrow/${id}`)).status).toBe(200);
  const stranger = await party('Stranger');
  expect((await stranger.api('GET', `/api/wallet/escrow/${id}`)).status).toBe(404);
  expect(
    (await stranger.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: id } })).body,
  ).toEqual({
    detail: expect.stringContaining('not found'),
  });

  const listed = await payer.api('GET', `/api/wallet/escrow?status=locked&task_id=${locked.body.task_id}`);
  expect(listed.status).toBe(200);
  expect(listed.body).toEqual({ escrows: [locked.body], total: 1, limit: expect.any(Number), offset: 0 });
  expect((await payer.api('GET', '/api/wallet/escrow?status=released')).body.total).toBe(0);
  expect((await payer.api('GET', '/api/wallet/escrow?status=open')).status).toBe(422);

  // Only the payer releases.
  expect(
    (await recipient.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: id } })).status,
  ).toBe(403);
  const released = await payer.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: id } });
  expect(released.status).toBe(200);
  expect(released.body).toMatchObject({ escrow_id: id, status: 'released', settled_at: expect.any(String) });
  expect(await credits(payer.user)).toEqual({ posted: 7_500_000n, held: 0n });
  expect(await credits(recipient.user)).toEqual({ posted: 2_500_000n, held: 0n });

  const again = await payer.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: id } });
  expect(again.status).toBe(409);
  expect(again.body).toEqual({ detail: expect.stringContaining('released, not locked') });
  expect((await payer.api('POST', `/api/wallet/escrow/${id}/refund`)).status).toBe(409);
  expect((await payer.api('GET', '/api/wallet/escrow?status=released')).body.escrows).toHaveLength(1);
});

test('refund returns a locked escrow to the payer, once', async () => {
  const payer = await party('Refunded payer', 5_000_000n);
  const recipient = await party('Refunding recipient');
  const { body } = await lock(payer, recipient);
  // The recipient may give it back.
  const refunded = await recipient.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`);
  expect(refunded.status).toBe(200);
  expect(refunded.body).toMatchObject({ status: 'refunded', settled_at: expect.any(String) });
  expect(await credits(payer.user)).toEqual({ posted: 5_000_000n, held: 0n });
  expect(await credits(recipient.user)).toEqual({ posted: 0n, held: 0n });
  expect((await payer.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`)).status).toBe(409);
  expect(
    (await payer.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: body.escrow_id } })).status,
  ).toBe(409);
});

test('an expired escrow answers 410 on release and may still be refunded, swept or not', async () => {
  const payer = await party('Expired payer', 5_000_000n);
  const recipient = await party('Expired recipient');
  for (const swept of [false, true]) {
    const { body } = await lock(payer, recipient, { ttl_seconds: 60 });
    expect(body.ttl_seconds).toBe(60);
    await expireIn(body.escrow_id, -1);
    if (swept) {
      // The wallet's own sweeper may get there first; either way the hold ends with one EXPIRE.
      await expireDueHolds(walletDeps(t));
      expect(await expiries(body.escrow_id)).toBe(1);
    }
    expect((await payer.api('GET', `/api/wallet/escrow/${body.escrow_id}`)).body.status).toBe('expired');
    expect(
      (await payer.api('GET', `/api/wallet/escrow?status=expired&task_id=${body.task_id}`)).body.total,
    ).toBe(1);
    const release = await payer.api('POST', '/api/wallet/escrow/release', {
      body: { escrow_id: body.escrow_id },
    });
    expect(release.status).toBe(410);
    expect(release.body).toEqual({ detail: expect.stringContaining('expired') });
    const refund = await payer.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`);
    expect(refund.status).toBe(200);
    expect(refund.body.status).toBe('refunded');
    expect((await payer.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`)).status).toBe(409);
    expect(await credits(payer.user)).toEqual({ posted: 5_000_000n, held: 0n });
  }
});

test('a gaze-required escrow is not released without a verified attestation (none exist yet)', async () => {
  const payer = await party('Gaze payer', 5_000_000n);
  const recipient = await party('Gaze recipient');
  const { body } = await lock(payer, recipient, { gaze_required: true });
  expect(body.gaze_required).toBe(true);
  const release = await payer.api('POST', '/api/wallet/escrow/release', {
    body: { escrow_id: body.escrow_id, attestation_id: 'att_unknown' },
  });
  expect(release.status).toBe(403);
  expect(release.body).toEqual({ detail: expect.stringContaining('gaze attestation') });
  expect((await payer.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`)).body.status).toBe(
    'refunded',
  );
});

test('402 when the balance is short, and nothing is stored; bad input is 422, unknown references 404', async () => {
  const payer = await party('Short payer', 1_000_000n);
  const recipient = await party('Short recipient');
  const short = await lock(payer, recipient, { amount: '1.000001' });
  expect(short.status).toBe(402);
  expect(short.body).toEqual({ detail: expect.any(String) });
  expect((await payer.api('GET', '/api/wallet/escrow')).body.total).toBe(0);
  expect(await credits(payer.user)).toEqual({ posted: 1_000_000n, held: 0n });

  expect((await lock(payer, recipient, { amount: 0 })).status).toBe(422);
  expect((await lock(payer, recipient, { amount: -1 })).status).toBe(422);
  expect((await lock(payer, recipient, { ttl_seconds: 59 })).status).toBe(422);
  expect((await lock(payer, recipient, { ttl_seconds: 604801 })).status).toBe(422);
  expect((await lock(payer, recipient, { token: 'OPTX' })).status).toBe(422);
  expect((await lock(payer, payer)).status).toBe(422);
  const noTask = await payer.api('POST', '/api/wallet/escrow', {
    body: { task_id: 'task_nothere', amount: 1, recipient: recipient.user.id },
  });
  expect(noTask.status).toBe(404);
  expect((await lock(payer, recipient, { recipient: 'acc_00000000000000000000000000' })).status).toBe(404);
  // Someone else's task cannot carry your escrow.
  const other = await party('Other creator');
  const foreign = await payer.api('POST', '/api/wallet/escrow', {
    body: { task_id: await taskOf(other), amount: 1, recipient: recipient.user.id },
  });
  expect(foreign.status).toBe(404);
  expect((await payer.api('GET', '/api/wallet/escrow')).body.total).toBe(0);
});

test('release, refund and expiry racing 20 at once: exactly one wins, balances conserved', async () => {
  const payer = await party('Racing payer', 100_000_000n);
  const recipient = await party('Racing recipient');
  const outcomes = new Set<string>();
  for (let round = 0; round < 4; round++) {
    const { body } = await lock(payer, recipient);
    await expireIn(body.escrow_id, 0.15);
    const attempts = Array.from({ length: 20 }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, (index * 17) % 300));
      if (index % 3 === 0) return expireDueHolds(walletDeps(t)).then((n) => (n ? 'expired' : 'none'));
      const call =
        index % 3 === 1
          ? payer.api('POST', '/api/wallet/escrow/release', { body: { escrow_id: body.escrow_id } })
          : payer.api('POST', `/api/wallet/escrow/${body.escrow_id}/refund`);
      const response = await call;
      expect([200, 409, 410]).toContain(response.status);
      return response.status === 200 ? (response.body.status as string) : 'refused';
    });
    const results = await Promise.all(attempts);
    const wins = results.filter((r) => r === 'released' || r === 'refunded');
    expect(wins.length).toBeLessThanOrEqual(1);
    // The hold was resolved exactly once, by the release, the refund or the expiry.
    const resolutions = await withDatabase(t, (db) =>
      db
        .query(`select "kind" from "wallet"."transfer" where "pending_id" = $1`, [body.hold_id])
        .then((r) => r.rows.map((row: { kind: string }) => row.kind)),
    );
    expect(resolutions).toHaveLength(1);
    const final = (await payer.api('GET', `/api/wallet/escrow/${body.escrow_id}`)).body.status as string;
    if (resolutions[0] === 'POST') expect(final).toBe('released');
    else expect(['refunded', 'expired']).toContain(final);
    if (final === 'released') expect(wins).toEqual(['released']);
    outcomes.add(resolutions[0]);
  }
  const paid = (await credits(recipient.user)).posted;
  const payerNow = await credits(payer.user);
  expect(payerNow.held).toBe(0n);
  expect(payerNow.posted + paid).toBe(100_000_000n);
  expect(outcomes.size).toBeGreaterThanOrEqual(1);
});
