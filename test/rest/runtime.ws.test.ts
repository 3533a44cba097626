/**
 * 002's WebSocket tickets, against Ironclad's own: `POST /api/ws-ticket` answers
 * `{"ticket": "wst_…", "expires_in": 30}` (api/routes/admin/advanced_runtime.rs issue_ws_ticket,
 * ws_ticket.rs), and `/ws?ticket=` opens the socket once, without a header credential, within its
 * lifetime (ironclad-harness/tests/websocket.rs ws_auth_via_ticket, ws_ticket_is_single_use).
 * Then what /ws pushes besides task changes: answers streaming in the caller's sessions in the
 * frames of Ironclad's streaming handler (api/routes/agent/streaming.rs), and memory changes.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { sha256 } from '../../lib';
import { runDueSchedules } from '../../subgraphs/tasks';
import { CreateApiKeyDocument, RevokeApiKeyDocument, StoreMemoryDocument } from '../generated/graphql';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { eventually, ISO, openSocket, refusedUpgrade, rest, type Rest } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
let db: pg.Client;
let double: LlmDouble;
beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double);
  t = await startTestPlatform();
  user = await t.register('Ticketed');
  api = rest(t, user.credential);
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await t.close();
  await double.close();
});

const wsUrl = (query = '') => `${t.url.replace(/^http/, 'ws')}/runtime/ws${query}`;
const CONNECTED = { type: 'connected', version: expect.any(String), timestamp: ISO };

async function issueTicket(): Promise<string> {
  const issued = await api('POST', '/runtime/api/ws-ticket', { body: {} });
  expect(issued).toMatchObject({
    status: 200,
    body: { ticket: expect.stringMatching(/^wst_[0-9a-f]{64}$/), expires_in: 30 },
  });
  expect(Object.keys(issued.body).sort()).toEqual(['expires_in', 'ticket']);
  return issued.body.ticket;
}

test('POST /api/ws-ticket needs a credential (401 {"error"})', async () => {
  expect(await rest(t)('POST', '/runtime/api/ws-ticket', { body: {} })).toMatchObject({
    status: 401,
    body: { error: expect.any(String) },
  });
});

test('a ticket opens /ws once without a header credential; it is stored only as its hash', async () => {
  const ticket = await issueTicket();
  const stored = await db.query('select id from accounts.socket_ticket where id = $1', [sha256(ticket)]);
  expect(stored.rowCount).toBe(1);
  const plain = await db.query('select 1 from accounts.socket_ticket where id = $1', [ticket]);
  expect(plain.rowCount).toBe(0);

  const socket = openSocket(wsUrl(`?ticket=${ticket}`));
  try {
    await socket.opened;
    expect(await socket.next()).toEqual(CONNECTED);
  } finally {
    await socket.close();
  }
  // Used once: the second upgrade with it is refused, in 002's error format.
  expect(await refusedUpgrade(wsUrl(`?ticket=${ticket}`))).toMatchObject({
    status: 401,
    body: { error: expect.any(String) },
  });
});

test('an expired, unknown or malformed ticket is refused with 401', async () => {
  const ticket = await issueTicket();
  // Its 30 seconds are over (moved back rather than waited for).
  await db.query(`update accounts.socket_ticket set expires_at = now() - interval '1 second' where id = $1`, [
    sha256(ticket),
  ]);
  for (const query of [`?ticket=${ticket}`, `?ticket=wst_${'0'.repeat(64)}`, '?ticket=nonsense', ''])
    expect({ query, ...(await refusedUpgrade(wsUrl(query))) }).toMatchObject({
      query,
      status: 401,
      body: { error: expect.any(String) },
    });
});

test('a ticket acts as the account that asked for it: its pushes are that account’s only', async () => {
  const stranger = await t.register('Stranger');
  const ticket = await issueTicket();
  const socket = openSocket(wsUrl(`?ticket=${ticket}`));
  try {
    await socket.opened;
    expect(await socket.next()).toEqual(CONNECTED);
    await rest(t, stranger.credential)('POST', '/api/tasks', {
      body: { title: 'Not yours', reward: '1.00' },
    });
    const mine = await api('POST', '/api/tasks', { body: { title: 'Yours', reward: '1.00' } });
    expect(await socket.next()).toMatchObject({
      type: 'task.created',
      task: expect.objectContaining({ task_id: mine.body.task_id, title: 'Yours' }),
    });
  } finally {
    await socket.close();
  }
});

test('a ticket issued with an API key revoked since opens nothing', async () => {
  const { key } = (await user.data(CreateApiKeyDocument, { input: { name: 'ws', scopes: ['orders'] } }))
    .createApiKey;
  const keyed = rest(t, key);
  const ticket = (await keyed('POST', '/runtime/api/ws-ticket', { body: {} })).body.ticket;
  await user.data(RevokeApiKeyDocument, {
    id: (await db.query('select id from accounts.api_key where key_hash = $1', [sha256(key)])).rows[0].id,
  });
  expect(await refusedUpgrade(wsUrl(`?ticket=${ticket}`))).toMatchObject({ status: 401 });
});

/** Subscribers of every topic of the platform's event bus: a socket's feeds are live once counted. */
const busSubscribers = () =>
  [...(t.platform.pubsub as unknown as { topics: Map<string, Set<unknown>> }).topics.values()].reduce(
    (sum, subscribers) => sum + subscribers.size,
    0,
  );

test('/ws pushes the caller’s answers (agent_working, stream_chunk…, done) and memory changes, nobody else’s', async () => {
  const before = busSubscribers();
  const socket = openSocket(wsUrl(), { 'x-api-key': user.credential! });
  try {
    await socket.opened;
    expect(await socket.next()).toEqual(CONNECTED);
    // Tasks, cron runs, sessions and memory: four subscriptions of this caller.
    await eventually(busSubscribers, (n) => n === before + 4);

    const stranger = await t.register('Stranger');
    await stranger.data(StoreMemoryDocument, { input: { content: 'Not yours to see' } });
    await rest(t, stranger.credential)('POST', '/runtime/api/agent/message', { body: { content: 'Hi' } });

    const { storeMemory } = await user.data(StoreMemoryDocument, {
      input: { content: 'Pushed memory', category: 'pushed' },
    });
    expect(await socket.next()).toEqual({
      type: 'memory_stored',
      entry: {
        id: storeMemory.id,
        tier: 'semantic',
        category: 'pushed',
        content: 'Pushed memory',
        session_id: null,
      },
      at: ISO,
    });

    const reply = await api('POST', '/runtime/api/agent/message', { body: { content: 'Hello?' } });
    expect(reply.status).toBe(200);
    const ids = { session_id: reply.body.session_id, turn_id: reply.body.turn_id };
    // Answers and memory come on separate feeds (the answer is remembered too): read until the
    // answer is done and compare its frames in order.
    const frames: { type: string; done?: boolean }[] = [];
    while (!frames.some((f) => f.type === 'stream_chunk' && f.done)) frames.push(await socket.next());
    const answer = frames.filter((f) => f.type !== 'memory_stored') as { delta?: string }[];
    // Tokens may arrive joined; their text is the whole answer.
    const chunks = answer.slice(1, -1);
    expect(chunks.map((c) => c.delta).join('')).toBe(ANSWER.join(''));
    expect(answer).toEqual([
      { type: 'agent_working', agent_id: null, workstation: 'llm', activity: 'inference', ...ids },
      ...chunks.map((c) => ({ type: 'stream_chunk', delta: c.delta, done: false, ...ids })),
      { type: 'stream_chunk', delta: '', done: true, ...ids },
    ]);
  } finally {
    await socket.close();
  }
  // Leaving ends every feed upstream: the four are gone. (At most as many as before, not exactly:
  // a platform subscription that was open before, such as a turn's, may have ended meanwhile.)
  expect(await eventually(busSubscribers, (n) => n <= before)).toBeLessThanOrEqual(before);
});

test('/ws pushes a run of the caller’s cron job as cron_run (with the task it posted), nobody else’s', async () => {
  const stranger = rest(t, (await t.register('Other scheduler')).credential);
  await stranger('POST', '/runtime/api/cron/jobs', { body: { name: 'Theirs', schedule_expr: '* * * * *' } });
  const job = await api('POST', '/runtime/api/cron/jobs', {
    body: { name: 'Mine', schedule_expr: '* * * * *' },
  });
  expect(job.status).toBe(200);
  const before = busSubscribers();
  const socket = openSocket(wsUrl(), { authorization: `Bearer ${user.credential}` });
  try {
    await socket.opened;
    expect(await socket.next()).toEqual(CONNECTED);
    await eventually(busSubscribers, (n) => n === before + 4);
    // The scheduler's pass, a minute ahead so both jobs are due.
    const tasks = t.platform.subgraphs.find((s) => s.name === 'tasks')!;
    const [first] = await runDueSchedules(
      { em: tasks.orm.em.fork() as unknown as EntityManager, pubsub: t.platform.pubsub, log: t.log },
      new Date(Date.now() + 120_000),
    );
    expect(first).toBeDefined();
    const frames: { type: string }[] = [await socket.next(), await socket.next()];
    const run = frames.find((f) => f.type === 'cron_run');
    expect(run).toEqual({
      type: 'cron_run',
      run: {
        id: expect.stringMatching(/^run_/),
        job_id: job.body.job_id,
        due_at: ISO,
        ran_at: ISO,
        status: 'succeeded',
        task_id: expect.any(String),
        error: null,
      },
    });
    expect(frames.find((f) => f.type === 'task.created')).toMatchObject({
      task: expect.objectContaining({ title: 'Mine' }),
    });
    // Nothing of the other account's run follows.
    socket.ws.send('{}');
    expect(await socket.next()).toEqual({ type: 'ack' });
  } finally {
    await socket.close();
  }
});
