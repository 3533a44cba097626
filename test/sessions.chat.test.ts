import pino from 'pino';
import { sweepAbandonedTurns } from '../subgraphs/sessions/chat.turns';
import {
  ChatDocument,
  ChatEventsDocument,
  ChatStreamDocument,
  DeleteSessionDocument,
  MySessionsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  SessionChatDocument,
  SetProviderKeyDocument,
  StartSessionDocument,
  TurnDocument,
  type ChatInput,
  type ChatStreamSubscription,
} from './generated/graphql';
import {
  ANSWER,
  answerDeltas,
  CONFIGURED_KEY,
  startLlmDouble,
  USAGE,
  useUpstream,
  type LlmDouble,
} from './support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { openSessionsReplica, type SessionsReplica } from './support/sessions-replica';
import { subscribe, type Subscription, type Transport } from './support/subscriptions';
import { errorOf, registerAdmin, sql } from './tasks.support';

type ChatEvent = ChatStreamSubscription['chatStream'];

let main: LlmDouble;
let second: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;
let admin: Client;

// 16 tokens at a price of one USD (1,000,000 µUSD) per thousand, no flat fee.
const DEFAULT_PRICES = () => ({ perThousandTokensMicroUsd: 3000n, perCallMicroUsd: 0n });
const PRICED_MODEL_COST = String((USAGE.total_tokens * 1_000_000) / 1000);

beforeAll(async () => {
  [main, second] = [await startLlmDouble(), await startLlmDouble()];
  useUpstream(main, {
    LLM_PROVIDERS: JSON.stringify([{ name: 'second', baseUrl: second.url, models: ['second-*'] }]),
    LLM_MODEL_PRICES: JSON.stringify({ priced: { perThousandTokens: 1_000_000, perCall: 0 } }),
  });
  t = await startTestPlatform();
  [ada, stranger, admin] = [await t.register('Ada'), await t.register('Stranger'), await registerAdmin(t)];
});
afterAll(async () => {
  await t.close();
  await Promise.all([main.close(), second.close()]);
});

const stream = (input: ChatInput, transport: Transport = 'graphql-ws', who: Client = ada) =>
  subscribe(transport, t.graphqlUrl, ChatStreamDocument, { input }, who.credential);

async function untilEnd(events: Subscription<ChatStreamSubscription>) {
  const received: ChatEvent[] = [];
  for (;;) {
    const { chatStream } = await events.next(10_000);
    received.push(chatStream);
    if (chatStream.kind === 'COMPLETED' || chatStream.kind === 'ERROR') return received;
  }
}

describe.each<Transport>(['graphql-ws', 'sse'])('chatStream over %s', (transport) => {
  test('opens a session, streams one answer and then ends', async () => {
    const events = stream({ content: 'Hello there', title: `new over ${transport}` }, transport);
    try {
      const received = await untilEnd(events);
      const deltas = answerDeltas(received.slice(1, -1).map((event) => event.delta ?? ''));
      expect(received.map((event) => event.kind)).toEqual([
        'STARTED',
        ...deltas.map(() => 'TOKEN'),
        'COMPLETED',
      ]);
      expect(received.map((event) => event.delta ?? '').join('')).toBe(ANSWER.join(''));
      expect(received.map((event) => event.seq)).toEqual(received.map((_, index) => index + 1));
      const { sessionId, turnId } = received[0];
      expect(new Set(received.map((event) => event.turnId))).toEqual(new Set([turnId]));
      // The subscription completes with the answer.
      await expect(events.next(5000)).rejects.toThrow('subscription ended');

      const { session } = await ada.data(SessionChatDocument, { id: sessionId });
      expect(session).toMatchObject({ status: 'ACTIVE', messageCount: 2 });
      const { turn } = await ada.data(TurnDocument, { id: turnId });
      expect(turn).toMatchObject({ status: 'COMPLETE', provider: 'default' });
    } finally {
      await events.close();
    }
  });
});

test('leaving a chatStream early cancels the upstream answer and keeps what came', async () => {
  const events = stream({ content: 'Talk slowly', model: 'slow' });
  const first = await events.next(10_000);
  expect(first.chatStream.kind).toBe('STARTED');
  expect((await events.next(10_000)).chatStream.kind).toBe('TOKEN');
  await events.close();

  expect((await main.abortOf('slow', 1000)).aborted).toBe(true);
  const turnId = first.chatStream.turnId;
  let status = 'RUNNING';
  for (let i = 0; i < 100 && status === 'RUNNING'; i++) {
    status = (await ada.data(TurnDocument, { id: turnId })).turn.status;
    if (status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { turn } = await ada.data(TurnDocument, { id: turnId });
  expect(turn).toMatchObject({ status: 'INTERRUPTED', errorCode: 'CANCELLED' });
});

test('a chatStream into a closed or foreign session is refused before anything streams', async () => {
  const { startSession } = await stranger.data(StartSessionDocument, { input: { title: 'theirs' } });
  const foreign = stream({ sessionId: startSession.id, content: 'hi' });
  await expect(foreign.next(5000)).rejects.toThrow(/NOT_FOUND|not found/i);
  await foreign.close();
});

describe('chat (waits for the answer)', () => {
  test('answers in a new session with the sampling parameters sent upstream', async () => {
    const before = main.requests.length;
    const { chat } = await ada.data(ChatDocument, {
      input: { content: 'Hi', temperature: 0.2, maxTokens: 64 },
    });
    expect(chat).toMatchObject({
      status: 'COMPLETE',
      parameters: { temperature: 0.2, maxTokens: 64 },
      assistantMessage: { content: ANSWER.join(''), complete: true },
      session: { status: 'ACTIVE', title: 'Hi', messageCount: 2 },
    });
    const sent = main.requests.slice(before).find((request) => request.messages.at(-1)?.content === 'Hi');
    expect(sent?.body).toMatchObject({ temperature: 0.2, max_tokens: 64, stream: true });
  });

  test('a whole conversation is answered statelessly and its session closes', async () => {
    const messages = [
      { role: 'SYSTEM' as const, content: 'Be brief.' },
      { role: 'USER' as const, content: 'One?' },
      { role: 'ASSISTANT' as const, content: 'Two.' },
      { role: 'USER' as const, content: 'Three?' },
    ];
    const { chat } = await ada.data(ChatDocument, { input: { messages } });
    expect(chat.context).toEqual(messages);
    expect(chat.session).toMatchObject({ status: 'CLOSED', messageCount: 5 });
    expect(chat.assistantMessage?.content).toBe(ANSWER.join(''));
  });

  test('a conversation must end with the user, and content and messages exclude each other', async () => {
    const last = await ada.request(ChatDocument, {
      input: { messages: [{ role: 'ASSISTANT', content: 'Hello' }] },
    });
    expect(errorOf(last)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'messages' });
    const both = await ada.request(ChatDocument, {
      input: { content: 'x', messages: [{ role: 'USER', content: 'y' }] },
    });
    expect(errorOf(both).code).toBe('BAD_USER_INPUT');
    const hot = await ada.request(ChatDocument, { input: { content: 'x', temperature: 3 } });
    expect(errorOf(hot)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'temperature' });
  });

  test('models go to the provider whose patterns match, priced by their own table', async () => {
    const before = second.requests.length;
    const { chat } = await ada.data(ChatDocument, { input: { content: 'Route me', model: 'second-large' } });
    expect(chat).toMatchObject({ provider: 'second', model: 'second-large', status: 'COMPLETE' });
    expect(second.requests.slice(before).map((request) => request.model)).toEqual(['second-large']);

    const priced = await ada.data(ChatDocument, { input: { content: 'Price me', model: 'priced' } });
    expect(priced.chat).toMatchObject({ provider: 'default', costMicroUsd: PRICED_MODEL_COST });
  });
});

describe('an idempotency key', () => {
  test('sends a message once however often it is sent, and replays its answer', async () => {
    const input = { content: 'Only once, please', idempotencyKey: 'once-1' };
    const before = main.requests.length;
    const first = (await ada.data(ChatDocument, { input })).chat;
    const again = (await ada.data(ChatDocument, { input })).chat;
    expect(again).toMatchObject({ id: first.id, sessionId: first.sessionId, status: 'COMPLETE' });
    expect(again.session.messageCount).toBe(2);
    const sent = main.requests.slice(before).filter((r) => r.messages.at(-1)?.content === input.content);
    expect(sent).toHaveLength(1);

    // Over a subscription, the same key streams the first answer again from its start, then ends.
    const events = stream(input);
    try {
      const received = await untilEnd(events);
      expect(received[0]).toMatchObject({ kind: 'STARTED', turnId: first.id });
      expect(received.at(-1)).toMatchObject({ kind: 'COMPLETED', turnId: first.id });
      answerDeltas(received.slice(1, -1).map((event) => event.delta ?? ''));
    } finally {
      await events.close();
    }
    expect(
      main.requests.slice(before).filter((r) => r.messages.at(-1)?.content === input.content),
    ).toHaveLength(1);
  });

  test('is refused with another message', async () => {
    await ada.data(ChatDocument, { input: { content: 'first', idempotencyKey: 'once-2' } });
    const reused = await ada.request(ChatDocument, {
      input: { content: 'second', idempotencyKey: 'once-2' },
    });
    expect(errorOf(reused)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });
    // Keys are per account: another account's use of it is its own.
    const theirs = await stranger.data(ChatDocument, {
      input: { content: 'second', idempotencyKey: 'once-2' },
    });
    expect(theirs.chat.status).toBe('COMPLETE');
  });
});

test('a deleted session reads as not found and leaves the list; its turns stay metered', async () => {
  const { chat } = await ada.data(ChatDocument, { input: { content: 'Forget me' } });
  await ada.data(DeleteSessionDocument, { id: chat.sessionId });
  expect(errorOf(await ada.request(SessionChatDocument, { id: chat.sessionId })).code).toBe('NOT_FOUND');
  const { sessions } = await ada.data(MySessionsDocument, {});
  expect(sessions.nodes.map((node) => node.id)).not.toContain(chat.sessionId);
  const [usage] = await sql<{ price_micro_usd: string }>(
    t,
    `select "price_micro_usd" from "sessions"."usage_record" where "turn_id" = $1`,
    [chat.id],
  );
  expect(usage.price_micro_usd).toBe(chat.costMicroUsd);
});

describe('provider keys', () => {
  test('only admins set them; calls then carry the new key, never shown; removing restores the configured one', async () => {
    const refused = await ada.request(SetProviderKeyDocument, { provider: 'default', apiKey: 'sk-user' });
    expect(errorOf(refused).code).toBe('FORBIDDEN');
    expect(errorOf(await admin.request(SetProviderKeyDocument, { provider: 'nope', apiKey: 'k' })).code).toBe(
      'NOT_FOUND',
    );

    const set = await admin.request(SetProviderKeyDocument, { provider: 'default', apiKey: 'sk-from-api' });
    expect(set.body.data?.setProviderKey).toEqual({ name: 'default', keySet: true, keySource: 'api' });
    expect(JSON.stringify(set.body)).not.toContain('sk-from-api');
    const [stored] = await sql<{ ciphertext: string }>(
      t,
      `select "ciphertext" from "sessions"."provider_key"`,
    );
    expect(stored.ciphertext).not.toContain('sk-from-api');

    await ada.data(ChatDocument, { input: { content: 'which key?' } });
    expect(main.requests.at(-1)?.authorization).toBe('Bearer sk-from-api');

    const { llmProviders } = await ada.data(ProviderKeysDocument, {});
    expect(llmProviders).toEqual(
      expect.arrayContaining([
        { name: 'second', models: ['second-*'], keySet: false, keySource: null },
        { name: 'default', models: ['*'], keySet: true, keySource: 'api' },
      ]),
    );

    const removed = await admin.data(RemoveProviderKeyDocument, { provider: 'default' });
    expect(removed.removeProviderKey).toEqual({ name: 'default', keySet: true, keySource: 'config' });
    await ada.data(ChatDocument, { input: { content: 'which key now?' } });
    expect(main.requests.at(-1)?.authorization).toBe(`Bearer ${CONFIGURED_KEY}`);
  });
});

test('/health reports each LLM provider as reachable', async () => {
  const health = (await (await fetch(new URL('/health', t.graphqlUrl))).json()) as {
    subgraphs: { sessions: { upstream?: { llm: { status: string; providers: unknown[] } } } };
  };
  expect(health.subgraphs.sessions.upstream?.llm).toMatchObject({
    status: 'connected',
    providers: expect.arrayContaining([
      { name: 'default', reachable: true },
      { name: 'second', reachable: true },
    ]),
  });
});

describe('a turn whose server died', () => {
  let replica: SessionsReplica;
  const log = pino({ level: 'silent' });
  const sweep = () =>
    sweepAbandonedTurns({ em: replica.orm.em.fork(), pubsub: replica.pubsub, log }, 60_000, DEFAULT_PRICES);

  beforeAll(async () => {
    replica = await openSessionsReplica(t);
  });
  afterAll(() => replica.close());

  test('is ended by the sweep with what it had streamed, and its subscribers hear of it', async () => {
    const { startSession } = await ada.data(StartSessionDocument, { input: { title: 'orphan' } });
    const sessionId = startSession.id;
    const turnId = 'turn_orphan';
    await replica.insertAbandonedTurn({ id: turnId, sessionId, ownerId: ada.id });
    for (const [seq, kind, delta] of [
      [1, 'STARTED', null],
      [2, 'TOKEN', 'half an '],
      [3, 'TOKEN', 'answer'],
    ] as const)
      await sql(
        t,
        `insert into "sessions"."chat_event" ("session_id", "seq", "turn_id", "kind", "delta", "at")
         values ($1, $2, $3, $4, $5, now() - interval '1 hour')`,
        [sessionId, seq, turnId, kind, delta],
      );

    const events = subscribe(
      'graphql-ws',
      t.graphqlUrl,
      ChatEventsDocument,
      { sessionId, afterSeq: 3 },
      ada.credential,
    );
    try {
      expect(await sweep()).toBe(1);
      const { chatEvents } = await events.next(10_000);
      expect(chatEvents).toMatchObject({ seq: 4, kind: 'ERROR', error: { code: 'UPSTREAM_INTERRUPTED' } });

      const { turn } = await ada.data(TurnDocument, { id: turnId });
      expect(turn).toMatchObject({ status: 'INTERRUPTED', errorCode: 'UPSTREAM_INTERRUPTED' });
      const [answer] = await sql<{ content: string; complete: boolean }>(
        t,
        `select m."content", m."complete" from "sessions"."message" m join "sessions"."turn" t on t."assistant_message_id" = m."id" where t."id" = $1`,
        [turnId],
      );
      expect(answer).toEqual({ content: 'half an answer', complete: false });
      // A second sweep finds nothing left to end.
      expect(await sweep()).toBe(0);
    } finally {
      await events.close();
    }
  });
});
