/**
 * Once-only changes under concurrency: N identical calls at once have exactly one effect, exactly
 * one caller is told it made the change, and the others get the documented "already done" answer.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import pg from 'pg';
import {
  CloseSessionDocument,
  CreateApiKeyDocument,
  CreateScheduleDocument,
  CreateWebhookEndpointDocument,
  DeleteScheduleDocument,
  DeleteSessionDocument,
  DeleteWebhookEndpointDocument,
  MeDocument,
  RefreshTokenDocument,
  SchedulesDocument,
  StartSessionDocument,
  WebhookEndpointsDocument,
} from './generated/graphql';
import { rest } from './rest/support';
import { startTestPlatform, type GraphQLResponse, type TestPlatform } from './support/platform';

const N = 20;

let t: TestPlatform;
let db: pg.Client;
beforeAll(async () => {
  // Room for every call to wait on a row at once.
  t = await startTestPlatform({ DB_POOL_MAX: String(N + 5) });
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.close();
});

const codeOf = (response: GraphQLResponse<unknown>) => response.body.errors?.[0]?.extensions?.code;

/** How many answers carry data, and the error codes of the rest. */
function tally<T>(answers: GraphQLResponse<T>[]) {
  const changed = answers.filter((answer) => answer.body.data && !answer.body.errors);
  return { changed, codes: answers.filter((answer) => !changed.includes(answer)).map(codeOf) };
}

async function eventually(what: string, condition: () => Promise<boolean>) {
  for (const deadline = Date.now() + 10_000; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const lockWaiters = async () =>
  (
    await db.query(`select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`)
  ).rows[0].n as number;

/**
 * N identical calls made while the test holds `FOR UPDATE` on `row`, released once `ready` holds
 * (by default: once every call waits for the row). Every call has read the row by then and none
 * has written it: the interleaving in which a read-then-write answers "changed now" N times.
 */
async function raceOnLockedRow<T>(
  row: { table: string; id: string },
  call: () => Promise<T>,
  ready: (settled: number) => Promise<boolean> = async () => (await lockWaiters()) >= N,
): Promise<T[]> {
  const locker = new pg.Client({ connectionString: t.databaseUrl });
  await locker.connect();
  try {
    await locker.query('begin');
    await locker.query(`select 1 from ${row.table} where id = $1 for update`, [row.id]);
    let settled = 0;
    const answers = Promise.all(Array.from({ length: N }, () => call().finally(() => settled++)));
    await eventually('the calls to reach the locked row', () => ready(settled));
    await locker.query('commit');
    return await answers;
  } finally {
    await locker.end();
  }
}

test('a refresh token spent by 20 at once: one wins, and the reuse revokes the family, the winner’s new token included', async () => {
  const user = await t.register();
  // Locking the account holds back the winner's commit of its new token (its foreign key waits
  // for the lock) until every loser has revoked the family: the new token is written last.
  const answers = await raceOnLockedRow(
    { table: 'accounts.account', id: user.id },
    () => t.request(RefreshTokenDocument, { refreshToken: user.refreshToken }),
    async (settled) => settled === N - 1,
  );
  const { changed, codes } = tally(answers);
  expect(changed).toHaveLength(1);
  expect(codes).toEqual(Array(N - 1).fill('UNAUTHENTICATED'));

  const won = changed[0]!.body.data!.refreshToken;
  // The winner's access token is a signed JWT and lives out its 15 minutes; its refresh token is dead.
  expect((await t.client(won.accessToken).data(MeDocument)).me.id).toBe(user.id);
  const next = await t.request(RefreshTokenDocument, { refreshToken: won.refreshToken });
  expect(codeOf(next)).toBe('UNAUTHENTICATED');
  expect(next.body.errors?.[0]?.message).toMatch(/revoked/);
  const { rows } = await db.query(
    `select count(*)::int as links, count(used_at)::int as used, count(revoked_at)::int as revoked
     from accounts.refresh_token where account_id = $1`,
    [user.id],
  );
  expect(rows[0]).toEqual({ links: 2, used: 1, revoked: 2 });
});

test('a refresh token spent twice in a row revokes the family as before', async () => {
  const user = await t.register();
  const first = await t.data(RefreshTokenDocument, { refreshToken: user.refreshToken });
  const second = await t.data(RefreshTokenDocument, { refreshToken: first.refreshToken.refreshToken });
  expect(codeOf(await t.request(RefreshTokenDocument, { refreshToken: user.refreshToken }))).toBe(
    'UNAUTHENTICATED',
  );
  expect(
    codeOf(await t.request(RefreshTokenDocument, { refreshToken: second.refreshToken.refreshToken })),
  ).toBe('UNAUTHENTICATED');
});

const sessionRow = (id: string) => ({ table: 'sessions.session', id });

test('closeSession by 20 at once: one closes it, 19 are told it was already closed, all with one end time', async () => {
  const user = await t.register();
  const { startSession } = await user.data(StartSessionDocument, { input: { title: 'Closing race' } });
  const answers = await raceOnLockedRow(sessionRow(startSession.id), () =>
    user.data(CloseSessionDocument, { id: startSession.id }),
  );
  expect(answers.filter((answer) => !answer.closeSession.alreadyClosed)).toHaveLength(1);
  const endedAt = new Set(answers.map((answer) => answer.closeSession.session.endedAt));
  expect(endedAt.size).toBe(1);
  expect(answers.every((answer) => answer.closeSession.session.status === 'CLOSED')).toBe(true);
  const { rows } = await db.query(`select ended_at from sessions.session where id = $1`, [startSession.id]);
  expect(rows[0].ended_at.toISOString()).toBe([...endedAt][0]);
});

test('AUTX DELETE /sessions/{id} by 20 at once: 204 once, then 200 with the closed session', async () => {
  const user = await t.register();
  const api = rest(t, user.credential);
  const { startSession } = await user.data(StartSessionDocument, { input: { title: 'AUTX race' } });
  const answers = await raceOnLockedRow(sessionRow(startSession.id), () =>
    api('DELETE', `/autx/v1/sessions/${startSession.id}`),
  );
  const statuses = answers.map((answer) => answer.status).sort();
  expect(statuses).toEqual([...Array(N - 1).fill(200), 204]);
  const closed = answers.filter((answer) => answer.status === 200).map((answer) => answer.body);
  expect(new Set(closed.map((session) => session.closed_at)).size).toBe(1);
  expect(closed.every((session) => session.status === 'closed')).toBe(true);
});

test('deleteSession by 20 at once: one deletes it, the others find it gone', async () => {
  const user = await t.register();
  const { startSession } = await user.data(StartSessionDocument, { input: { title: 'Deleting race' } });
  const { changed, codes } = tally(
    await raceOnLockedRow(sessionRow(startSession.id), () =>
      user.request(DeleteSessionDocument, { id: startSession.id }),
    ),
  );
  expect(changed).toHaveLength(1);
  expect(codes).toEqual(Array(N - 1).fill('NOT_FOUND'));
  const { rows } = await db.query(`select status, deleted_at from sessions.session where id = $1`, [
    startSession.id,
  ]);
  expect(rows[0]).toMatchObject({ status: 'CLOSED', deleted_at: expect.any(Date) });
});

const RevokeApiKeyAtDocument = parse(
  'mutation RevokeApiKeyAt($id: ID!) { revokeApiKey(id: $id) { id status revokedAt } }',
) as TypedDocumentNode<{ revokeApiKey: { id: string; status: string; revokedAt: string } }, { id: string }>;

test('revokeApiKey by 20 at once: the key is revoked once, and every answer shows that one time', async () => {
  const user = await t.register();
  const { createApiKey } = await user.data(CreateApiKeyDocument, {
    input: { name: 'raced', scopes: ['tasks'] },
  });
  const answers = await raceOnLockedRow({ table: 'accounts.api_key', id: createApiKey.apiKey.id }, () =>
    user.data(RevokeApiKeyAtDocument, { id: createApiKey.apiKey.id }),
  );
  expect(new Set(answers.map((answer) => answer.revokeApiKey.status))).toEqual(new Set(['REVOKED']));
  const revokedAt = new Set(answers.map((answer) => answer.revokeApiKey.revokedAt));
  expect(revokedAt.size).toBe(1);
  const { rows } = await db.query(`select revoked_at from accounts.api_key where id = $1`, [
    createApiKey.apiKey.id,
  ]);
  expect(rows[0].revoked_at.toISOString()).toBe([...revokedAt][0]);
  expect((await t.client(createApiKey.key).request(MeDocument)).status).toBe(401);
});

test('deleteSchedule by 20 at once: one deletes it, the others find it gone', async () => {
  const user = await t.register();
  const { createSchedule } = await user.data(CreateScheduleDocument, {
    input: { name: 'raced', cron: '0 9 * * 1', taskTitle: 'Weekly report' },
  });
  const { changed, codes } = tally(
    await raceOnLockedRow({ table: 'tasks.schedule', id: createSchedule.id }, () =>
      user.request(DeleteScheduleDocument, { id: createSchedule.id }),
    ),
  );
  expect(changed.map((answer) => answer.body.data!.deleteSchedule.id)).toEqual([createSchedule.id]);
  expect(codes).toEqual(Array(N - 1).fill('NOT_FOUND'));
  expect((await user.data(SchedulesDocument)).schedules.totalCount).toBe(0);
});

test('deleteWebhookEndpoint by 20 at once: one deletes it, the others find it gone', async () => {
  const user = await t.register();
  const { createWebhookEndpoint } = await user.data(CreateWebhookEndpointDocument, {
    input: { url: 'https://93.184.215.14/hook', events: ['*'] },
  });
  const id = createWebhookEndpoint.endpoint.id;
  const { changed, codes } = tally(
    await raceOnLockedRow({ table: 'tasks.webhook_endpoint', id }, () =>
      user.request(DeleteWebhookEndpointDocument, { id }),
    ),
  );
  expect(changed.map((answer) => answer.body.data!.deleteWebhookEndpoint)).toEqual([id]);
  expect(codes).toEqual(Array(N - 1).fill('NOT_FOUND'));
  expect((await user.data(WebhookEndpointsDocument)).webhookEndpoints.totalCount).toBe(0);
});
