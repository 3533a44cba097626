import {
  CancelTurnDocument,
  ChatEventsDocument,
  CloseSessionDocument,
  CreateFeedbackDocument,
  GatewayStatusDocument,
  LlmProvidersDocument,
  ResetCircuitBreakerDocument,
  SendMessageDocument,
  SessionChatDocument,
  StartSessionDocument,
  TurnDocument,
  UpdateFeedbackDocument,
  type ChatEventsSubscription,
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
import { subscribe, type Subscription, type Transport } from './support/subscriptions';
import { errorOf, registerAdmin } from './tasks.support';

type ChatEvent = ChatEventsSubscription['chatEvents'];

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, { LLM_BREAKER_FAILURES: '2', LLM_BREAKER_COOLDOWN_SECONDS: '300' });
  t = await startTestPlatform();
  [ada, stranger] = [await t.register('Ada'), await t.register('Stranger')];
});
afterAll(async () => {
  await t.close();
  await double.close();
});

async function newSession(owner: Client, title = 'Chat') {
  const { startSession } = await owner.data(StartSessionDocument, { input: { title } });
  return startSession.id;
}

/** Events of one session from the first stored one (afterSeq 0), so none precede the subscription. */
const watch = (sessionId: string, transport: Transport = 'graphql-ws', afterSeq = 0, who: Client = ada) =>
  subscribe(transport, t.graphqlUrl, ChatEventsDocument, { sessionId, afterSeq }, who.credential);

async function untilEnd(events: Subscription<ChatEventsSubscription>, received: ChatEvent[] = []) {
  for (;;) {
    const { chatEvents } = await events.next(10_000);
    received.push(chatEvents);
    if (chatEvents.kind === 'COMPLETED' || chatEvents.kind === 'ERROR') return received;
  }
}

const send = (sessionId: string, content: string, model?: string) =>
  ada.data(SendMessageDocument, { sessionId, content, model }).then((data) => data.sendMessage);

// 001's pricing in micro-USD: 16 tokens × 3000 / 1000 + 80 000 flat.
const PRICE = String(Math.ceil((USAGE.total_tokens * 3000) / 1000) + 80_000);

describe.each<Transport>(['graphql-ws', 'sse'])('a chat over %s through the router', (transport) => {
  test('streams the tokens in order, completes with usage, stores the answer and meters it', async () => {
    const sessionId = await newSession(ada, `over ${transport}`);
    const events = watch(sessionId, transport);
    try {
      const turn = await send(sessionId, 'Say hello');
      expect(turn).toMatchObject({ status: 'RUNNING', model: 'default', modelReason: 'platform default' });
      const received = await untilEnd(events);

      const deltas = answerDeltas(received.slice(1, -1).map((event) => event.delta ?? ''));
      expect(received.map((event) => event.kind)).toEqual([
        'STARTED',
        ...deltas.map(() => 'TOKEN'),
        'COMPLETED',
      ]);
      expect(received.map((event) => event.seq)).toEqual(received.map((_, index) => index + 1));
      expect(received.every((event) => event.turnId === turn.id && event.sessionId === sessionId)).toBe(true);
      expect(received.map((event) => event.delta ?? '').join('')).toBe(ANSWER.join(''));
      expect(received.at(-1)!.usage).toEqual({
        promptTokens: USAGE.prompt_tokens,
        completionTokens: USAGE.completion_tokens,
        totalTokens: USAGE.total_tokens,
        estimated: false,
        costMicroUsd: PRICE,
      });

      const { turn: stored } = await ada.data(TurnDocument, { id: turn.id });
      expect(stored).toMatchObject({
        status: 'COMPLETE',
        provider: 'default',
        costMicroUsd: PRICE,
        userMessage: { role: 'USER', content: 'Say hello' },
        assistantMessage: { role: 'ASSISTANT', content: ANSWER.join(''), complete: true, tokens: 4 },
        usage: {
          idempotencyKey: turn.id,
          model: 'default',
          provider: 'default',
          promptTokens: USAGE.prompt_tokens,
          completionTokens: USAGE.completion_tokens,
          estimated: false,
          priceMicroUsd: PRICE,
        },
        context: [{ role: 'USER', content: 'Say hello' }],
      });
      expect(stored.firstTokenLatencyMs).toEqual(expect.any(Number));
      expect(stored.latencyMs).toBeGreaterThanOrEqual(stored.firstTokenLatencyMs!);

      const { session } = await ada.data(SessionChatDocument, { id: sessionId });
      expect(session).toMatchObject({
        messageCount: 2,
        inputTokens: 12,
        outputTokens: 4,
        costMicroUsd: PRICE,
      });
      const upstream = double.requests.at(-1)!;
      expect(upstream.authorization).toBe(`Bearer ${CONFIGURED_KEY}`);
      expect(upstream.messages).toEqual([{ role: 'user', content: 'Say hello' }]);
    } finally {
      await events.close();
    }
  });
});

test('the next turn sends the earlier messages as context', async () => {
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  try {
    await send(sessionId, 'First');
    await untilEnd(events);
    const second = await send(sessionId, 'Second', 'double-2');
    await untilEnd(events);
    const { turn } = await ada.data(TurnDocument, { id: second.id });
    expect(turn.modelReason).toBe('requested with the message');
    expect(turn.context.map((message) => [message.role, message.content])).toEqual([
      ['USER', 'First'],
      ['ASSISTANT', ANSWER.join('')],
      ['USER', 'Second'],
    ]);
  } finally {
    await events.close();
  }
});

test('a client that reconnects with afterSeq misses nothing and sees nothing twice', async () => {
  const sessionId = await newSession(ada);
  const first = watch(sessionId, 'graphql-ws');
  const seen: ChatEvent[] = [];
  try {
    await send(sessionId, 'Count slowly', 'slow');
    while (seen.length < 4) seen.push((await first.next(10_000)).chatEvents);
  } finally {
    await first.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 400)); // tokens keep coming while away
  const resumed = watch(sessionId, 'sse', seen.at(-1)!.seq);
  try {
    await untilEnd(resumed, seen);
  } finally {
    await resumed.close();
  }
  expect(seen.map((event) => event.seq)).toEqual(seen.map((_, index) => index + 1));
  expect(seen.map((event) => event.delta ?? '').join('')).toBe(
    Array.from({ length: 10 }, (_, i) => `w${i} `).join(''),
  );
  expect(seen.at(-1)!.kind).toBe('COMPLETED');
});

test('cancelling a turn aborts the upstream request within a second', async () => {
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  try {
    const turn = await send(sessionId, 'Think forever', 'stall');
    expect((await events.next()).chatEvents.kind).toBe('STARTED');
    const cancelledAt = Date.now();
    await ada.data(CancelTurnDocument, { id: turn.id });
    await double.abortOf('stall', 1000);
    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    const [end] = await untilEnd(events);
    expect(end).toMatchObject({ kind: 'ERROR', error: { code: 'CANCELLED' }, usage: null });
    const { turn: stored } = await ada.data(TurnDocument, { id: turn.id });
    expect(stored).toMatchObject({
      status: 'FAILED',
      assistantMessage: null,
      usage: null,
      errorCode: 'CANCELLED',
    });
  } finally {
    await events.close();
  }
});

test('an answer cut off mid-stream is stored as incomplete with what came', async () => {
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  try {
    const turn = await send(sessionId, 'Go on', 'disconnect');
    const received = await untilEnd(events);
    expect(received.map((event) => event.kind)).toEqual(['STARTED', 'TOKEN', 'TOKEN', 'ERROR']);
    expect(received.at(-1)).toMatchObject({
      error: { code: 'UPSTREAM_INTERRUPTED' },
      usage: { estimated: true },
    });
    const { turn: stored } = await ada.data(TurnDocument, { id: turn.id });
    expect(stored).toMatchObject({
      status: 'INTERRUPTED',
      assistantMessage: { content: 'Hello,', complete: false },
      usage: { estimated: true },
    });
  } finally {
    await events.close();
  }
});

test('upstream failures open the breaker, the stream ends with ERROR, and an admin resets it', async () => {
  const admin = await registerAdmin(t);
  await admin.data(ResetCircuitBreakerDocument, { provider: 'default' });
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  try {
    const turn = await send(sessionId, 'Hello?', 'error-500');
    const received = await untilEnd(events);
    expect(received.map((event) => event.kind)).toEqual(['STARTED', 'ERROR']);
    expect(received[1].error).toEqual({
      code: 'UPSTREAM_ERROR',
      message: expect.stringContaining('overloaded'),
    });
    expect(double.requests.filter((request) => request.model === 'error-500')).toHaveLength(2); // one retry
    expect((await ada.data(TurnDocument, { id: turn.id })).turn.status).toBe('FAILED');

    const { llmProviders } = await ada.data(LlmProvidersDocument);
    expect(llmProviders).toEqual([
      {
        name: 'default',
        state: 'OPEN',
        consecutiveFailures: 2,
        lastError: expect.stringContaining('500'),
        retryAt: expect.any(String),
      },
    ]);
    expect(JSON.stringify(llmProviders)).not.toContain('sk-test');

    const refused = await ada.request(SendMessageDocument, { sessionId, content: 'again' });
    expect(errorOf(refused).code).toBe('UPSTREAM_UNAVAILABLE');
    const forbidden = await ada.request(ResetCircuitBreakerDocument, { provider: 'default' });
    expect(errorOf(forbidden).code).toBe('FORBIDDEN');
    const unknown = await admin.request(ResetCircuitBreakerDocument, { provider: 'nobody' });
    expect(errorOf(unknown).code).toBe('NOT_FOUND');

    const { resetCircuitBreaker } = await admin.data(ResetCircuitBreakerDocument, { provider: 'default' });
    expect(resetCircuitBreaker).toEqual({ name: 'default', state: 'CLOSED', consecutiveFailures: 0 });
    await send(sessionId, 'Hello again');
    expect((await untilEnd(events)).at(-1)!.kind).toBe('COMPLETED');
  } finally {
    await events.close();
  }
});

test('a closed session refuses messages; closing twice is fine', async () => {
  const sessionId = await newSession(ada);
  const { closeSession } = await ada.data(CloseSessionDocument, { id: sessionId });
  expect(closeSession).toMatchObject({
    alreadyClosed: false,
    session: { status: 'CLOSED', endedAt: expect.any(String) },
  });
  expect((await ada.data(CloseSessionDocument, { id: sessionId })).closeSession).toEqual({
    ...closeSession,
    alreadyClosed: true,
  });
  const refused = await ada.request(SendMessageDocument, { sessionId, content: 'anyone?' });
  expect(errorOf(refused).code).toBe('CONFLICT');
  expect((await ada.data(SessionChatDocument, { id: sessionId })).session.messages.totalCount).toBe(0);
});

test("another account's session, turn and feedback are NOT_FOUND", async () => {
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  let turnId: string;
  try {
    turnId = (await send(sessionId, 'Mine')).id;
    await untilEnd(events);
  } finally {
    await events.close();
  }
  await ada.data(CreateFeedbackDocument, { turnId, input: { grade: 4 } });
  for (const response of [
    await stranger.request(SendMessageDocument, { sessionId, content: 'hijack' }),
    await stranger.request(CloseSessionDocument, { id: sessionId }),
    await stranger.request(TurnDocument, { id: turnId }),
    await stranger.request(CancelTurnDocument, { id: turnId }),
    await stranger.request(CreateFeedbackDocument, { turnId, input: { grade: 1 } }),
    await stranger.request(UpdateFeedbackDocument, { turnId, input: { grade: 1 } }),
  ])
    expect(errorOf(response).code).toBe('NOT_FOUND');
  const spy = watch(sessionId, 'graphql-ws', 0, stranger);
  try {
    await expect(spy.next()).rejects.toThrow(/NOT_FOUND|not found/);
  } finally {
    await spy.close();
  }
});

test('feedback: one grade 1-5 per turn, updated in place, listed per session', async () => {
  const sessionId = await newSession(ada);
  const events = watch(sessionId);
  let turnId: string;
  try {
    turnId = (await send(sessionId, 'Rate me')).id;
    await untilEnd(events);
  } finally {
    await events.close();
  }
  for (const grade of [0, 6, -1])
    expect(errorOf(await ada.request(CreateFeedbackDocument, { turnId, input: { grade } })).code).toBe(
      'BAD_USER_INPUT',
    );
  expect(errorOf(await ada.request(UpdateFeedbackDocument, { turnId, input: { grade: 3 } })).code).toBe(
    'NOT_FOUND',
  );
  await ada.data(CreateFeedbackDocument, { turnId, input: { grade: 5, comment: ' great ' } });
  expect(errorOf(await ada.request(CreateFeedbackDocument, { turnId, input: { grade: 2 } })).code).toBe(
    'CONFLICT',
  );
  expect(errorOf(await ada.request(UpdateFeedbackDocument, { turnId, input: { grade: 9 } })).code).toBe(
    'BAD_USER_INPUT',
  );
  await ada.data(UpdateFeedbackDocument, { turnId, input: { grade: 3, comment: 'fine' } });
  const { session } = await ada.data(SessionChatDocument, { id: sessionId });
  expect(session.feedback).toEqual([{ grade: 3, comment: 'fine' }]);
  expect((await ada.data(TurnDocument, { id: turnId })).turn.feedback).toEqual({ grade: 3, comment: 'fine' });
});

test('bad messages are BAD_USER_INPUT and write nothing', async () => {
  const sessionId = await newSession(ada);
  for (const variables of [
    { sessionId, content: '   ' },
    { sessionId, content: 'x'.repeat(32_001) },
    { sessionId, content: 'hi', model: 'no spaces allowed' },
  ])
    expect(errorOf(await ada.request(SendMessageDocument, variables)).code).toBe('BAD_USER_INPUT');
  const { session } = await ada.data(SessionChatDocument, { id: sessionId });
  expect(session).toMatchObject({ messageCount: 0, messages: { totalCount: 0 }, turns: { totalCount: 0 } });
});

test('gatewayStatus reports the probed upstream, without signing in', async () => {
  const { gatewayStatus } = await t.data(GatewayStatusDocument);
  expect(gatewayStatus).toMatchObject({
    status: 'connected',
    mode: 'ENHANCED',
    model: 'default',
    models: ['double-1', 'double-2'],
    features: { sessions: true, streaming: true, chatStream: true, tempoBilling: true },
  });
  expect(gatewayStatus.version).toMatch(/^\d+\.\d+\.\d+/);
});
