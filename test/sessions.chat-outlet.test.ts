import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import {
  ChatEventsDocument,
  SendMessageDocument,
  StartSessionDocument,
  type ChatEventsSubscription,
} from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { subscribe, type Subscription } from './support/subscriptions';

/**
 * Chat events leave as soon as they are built and are stored meanwhile: a slow store (the event
 * table locked by another transaction) neither holds tokens back nor costs a client that resumes
 * during it a token. The upstream is a double speaking OpenAI's streaming protocol whose tokens the
 * test writes when it wants them.
 */

type ChatEvent = ChatEventsSubscription['chatEvents'];

const sse = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
const tokenChunk = (content: string) =>
  sse({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });

/** The answer in flight: the test writes its tokens and ends it. */
let answer: ServerResponse | undefined;
let answerStarted: () => void = () => undefined;
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    answer = res;
    answerStarted();
  });
});
const nextAnswer = () => new Promise<void>((resolve) => (answerStarted = resolve));
const write = (...tokens: string[]) => answer!.write(tokens.map(tokenChunk).join(''));
const finish = () =>
  answer!.end(
    sse({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) +
      'data: [DONE]\n\n',
  );

let t: TestPlatform;
let ada: User;
let database: pg.Client;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  Object.assign(process.env, { LLM_BASE_URL: `http://127.0.0.1:${port}/v1`, LLM_TIMEOUT_MS: '20000' });
  t = await startTestPlatform();
  ada = await t.register('Ada');
  database = new pg.Client({ connectionString: t.databaseUrl });
  await database.connect();
});
afterAll(async () => {
  await database.end();
  await t.close();
  upstream.closeAllConnections(); // the platform's keep-alive connections would hold it open
  await new Promise((resolve) => upstream.close(resolve));
});

async function startAnswer() {
  const { startSession } = await ada.data(StartSessionDocument, { input: { title: 'outlet' } });
  const sessionId = startSession.id;
  const watch = (afterSeq: number) =>
    subscribe('graphql-ws', t.graphqlUrl, ChatEventsDocument, { sessionId, afterSeq }, ada.credential);
  const first = watch(0);
  const started = nextAnswer();
  await ada.data(SendMessageDocument, { sessionId, content: 'Go' });
  await started;
  return { sessionId, watch, first };
}

const take = async (events: Subscription<ChatEventsSubscription>, count: number, into: ChatEvent[] = []) => {
  for (let i = 0; i < count; i++) into.push((await events.next(10_000)).chatEvents);
  return into;
};

async function untilEnd(events: Subscription<ChatEventsSubscription>, into: ChatEvent[] = []) {
  for (;;) {
    const [event] = await take(events, 1);
    into.push(event);
    if (event.kind === 'COMPLETED' || event.kind === 'ERROR') return into;
  }
}

const stored = async (sessionId: string) =>
  (
    await database.query<{ seq: number; kind: string; delta: string | null }>(
      'select "seq", "kind", "delta" from "sessions"."chat_event" where "session_id" = $1 order by "seq"',
      [sessionId],
    )
  ).rows;

/** Holds every insert into the event table until `release` (reads go on). */
async function lockEvents() {
  const locker = new pg.Client({ connectionString: t.databaseUrl });
  await locker.connect();
  await locker.query('begin');
  await locker.query('lock table "sessions"."chat_event" in exclusive mode');
  return async () => {
    await locker.query('commit');
    await locker.end();
  };
}

const words = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `w${from + i} `);

test('tokens reach the client while the store is held up, and a burst leaves in fewer events, each token once', async () => {
  const { sessionId, first } = await startAnswer();
  const release = await lockEvents();
  let received: ChatEvent[];
  try {
    try {
      write('w0 ');
      received = await take(first, 2); // STARTED (stored before the lock) and the first token
      // A burst reaches the sessions subgraph while that token's publish is in flight.
      write(...words(1, 40));
      while (received.map((event) => event.delta ?? '').join('') !== words(0, 40).join(''))
        await take(first, 1, received);
      // Published, not yet stored: the table holds nothing of the answer.
      expect((await stored(sessionId)).filter((row) => row.kind === 'TOKEN')).toEqual([]);
    } finally {
      await release();
    }
    finish();
    await untilEnd(first, received);
  } finally {
    await first.close();
  }
  const tokens = received.filter((event) => event.kind === 'TOKEN');
  expect(tokens.length).toBeLessThan(40);
  expect(tokens.map((event) => event.delta).join('')).toBe(words(0, 40).join(''));
  expect(received.map((event) => event.seq)).toEqual(received.map((_, index) => index + 1));
  expect(received.at(-1)!.kind).toBe('COMPLETED');
  // The durable log holds exactly what went out live.
  expect(await stored(sessionId)).toEqual(
    received.map(({ seq, kind, delta }) => ({ seq, kind, delta: delta ?? null })),
  );
});

test('a client resuming while published events are not stored yet waits for them: no gap, no duplicate', async () => {
  const { sessionId, watch, first } = await startAnswer();
  const release = await lockEvents();
  let releasing: Promise<void> | undefined;
  const seen: ChatEvent[] = [];
  try {
    await take(first, 1, seen); // STARTED
    for (const word of words(0, 4)) {
      write(word); // one event each: each token waits for the client before the next is written
      await take(first, 1, seen);
    }
    expect(seen.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    await first.close();

    // Resumes after seq 2: seqs 3–5 went out before it listened and are not in the table yet.
    const resumed = watch(2);
    try {
      write('w4 '); // live seq 6 shows the gap, which the table fills once the lock goes
      releasing = new Promise((resolve) => setTimeout(resolve, 300)).then(release);
      const after = await take(resumed, 4);
      await releasing;
      write(...words(5, 8));
      finish();
      await untilEnd(resumed, after);
      expect(after.map((event) => event.seq)).toEqual(after.map((_, index) => index + 3));
      expect(
        [...seen.slice(0, 2), ...after]
          .map((event) => event.delta ?? '')
          .join('')
          .replace(/\s+$/, ''),
      ).toBe(words(0, 8).join('').trimEnd());
      expect(after.at(-1)!.kind).toBe('COMPLETED');
    } finally {
      await resumed.close();
    }
  } finally {
    await (releasing ?? release());
  }
  expect((await stored(sessionId)).map((row) => row.seq)).toEqual(
    Array.from({ length: (await stored(sessionId)).length }, (_, i) => i + 1),
  );
});
