import pino from 'pino';
import { Writable } from 'node:stream';
import { chatSettings } from '../subgraphs/sessions/chat.providers';
import { sweepAbandonedTurns } from '../subgraphs/sessions/chat.turns';
import {
  ChatDocument,
  ChatEventsDocument,
  SendMessageDocument,
  SessionChatDocument,
  StartSessionDocument,
  TurnDocument,
  type ChatEventsSubscription,
} from './generated/graphql';
import { ANSWER, HOSTILE, startLlmDouble, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { openSessionsReplica, type SessionsReplica } from './support/sessions-replica';
import { subscribe } from './support/subscriptions';
import { errorOf, sql } from './tasks.support';

let upstream: LlmDouble;
let t: TestPlatform;
let ada: User;

const MAX_INT = 2 ** 31 - 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  upstream = await startLlmDouble();
  // Hostile answers fail on purpose; the breaker must not close the upstream for the next test.
  useUpstream(upstream, { LLM_BREAKER_FAILURES: '1000' });
  t = await startTestPlatform();
  ada = await t.register('Ada');
});
afterAll(async () => {
  await t.close();
  await upstream.close();
});

/** No log line says a turn was left unrecorded. */
const expectNoUnrecordedTurn = () =>
  expect(t.logs.filter((line) => /failed to record|not recorded/.test(String(line.msg)))).toEqual([]);

/** Every stored event of a session, read back through chatEvents from the start. */
async function replay(sessionId: string) {
  const events = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    ChatEventsDocument,
    { sessionId, afterSeq: 0 },
    ada.credential,
  );
  const received: ChatEventsSubscription['chatEvents'][] = [];
  try {
    for (;;) {
      const { chatEvents } = await events.next(10_000);
      received.push(chatEvents);
      if (chatEvents.kind === 'COMPLETED' || chatEvents.kind === 'ERROR') return received;
    }
  } finally {
    await events.close();
  }
}

/** The session still takes a message after whatever came before, and answers it. */
async function expectSessionAnswers(sessionId: string) {
  const { chat } = await ada.data(ChatDocument, {
    input: { sessionId, content: 'still there?', model: 'well-behaved' },
  });
  expect(chat).toMatchObject({ status: 'COMPLETE', assistantMessage: { content: ANSWER.join('') } });
}

describe('a model named like an Object.prototype property', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    '%s is answered as a model like any other, and the session goes on',
    async (model) => {
      const { startSession } = await ada.data(StartSessionDocument, { input: { title: model } });
      const response = await ada.request(ChatDocument, {
        input: { sessionId: startSession.id, content: 'hi', model },
      });
      expect(response.body.errors ?? []).toEqual([]);
      expect(response.body.data?.chat).toMatchObject({
        model,
        status: 'COMPLETE',
        assistantMessage: { content: ANSWER.join('') },
      });
      const sent = await ada.data(SendMessageDocument, {
        sessionId: startSession.id,
        content: 'and again',
        model,
      });
      expect(sent.sendMessage.model).toBe(model);
      let status = 'RUNNING';
      for (let i = 0; i < 100 && status === 'RUNNING'; i++, await sleep(50))
        status = (await ada.data(TurnDocument, { id: sent.sendMessage.id })).turn.status;
      expect(status).toBe('COMPLETE');
      await expectSessionAnswers(startSession.id);
    },
  );

  test('a model name that is not one is refused as bad input, never a server error', async () => {
    const refused = await ada.request(ChatDocument, { input: { content: 'hi', model: 'a b' } });
    expect(errorOf(refused)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
  });
});

interface Outcome {
  status: 'COMPLETE' | 'INTERRUPTED' | 'FAILED';
  errorCode?: string;
  /** The stored answer; none when nothing was answered. */
  content?: string;
}

const WHOLE = ANSWER.join('');
const OUTCOMES: Record<keyof typeof HOSTILE, Outcome> = {
  'hostile-negative-usage': { status: 'COMPLETE', content: WHOLE },
  'hostile-huge-usage': { status: 'COMPLETE', content: WHOLE },
  'hostile-nul-token': { status: 'COMPLETE', content: 'Hello\uFFFD world' },
  // Each chunk is made whole on its own: halves of a pair split across chunks are both replaced.
  'hostile-lone-surrogate': { status: 'COMPLETE', content: 'Hello\uFFFD\uFFFD world' },
  'hostile-garbage': { status: 'FAILED', errorCode: 'UPSTREAM_ERROR' },
  'hostile-garbage-midway': { status: 'INTERRUPTED', errorCode: 'UPSTREAM_INTERRUPTED', content: 'Hello,' },
  'hostile-no-done': { status: 'COMPLETE', content: WHOLE },
  'hostile-truncated': { status: 'INTERRUPTED', errorCode: 'UPSTREAM_INTERRUPTED', content: 'Hello,' },
  'hostile-error-200': { status: 'FAILED', errorCode: 'UPSTREAM_ERROR' },
  'hostile-error-event': { status: 'FAILED', errorCode: 'UPSTREAM_ERROR' },
  'hostile-wrong-types': { status: 'COMPLETE', content: WHOLE },
};

/** Text PostgreSQL and JSON clients accept: no NUL, no lone surrogate. */
const wellFormed = (text: string) =>
  !text.includes('\u0000') &&
  !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);

describe('a hostile upstream', () => {
  test.each(Object.entries(OUTCOMES))(
    '%s: the turn ends, recorded, and the session goes on',
    async (model, outcome) => {
      const { chat } = await ada.data(ChatDocument, { input: { content: `try ${model}`, model } });
      expect(chat.status).toBe(outcome.status);
      expect(chat.errorCode ?? undefined).toBe(outcome.errorCode);
      expect(chat.assistantMessage?.content).toBe(outcome.content);
      expect(chat.assistantMessage?.complete ?? undefined).toBe(
        outcome.content === undefined ? undefined : outcome.status === 'COMPLETE',
      );
      // Counts fit their Int columns, summed too, and a charge is never negative.
      for (const count of [chat.promptTokens, chat.completionTokens])
        expect(Number.isInteger(count) && count >= 0 && count <= MAX_INT).toBe(true);
      expect(chat.promptTokens + chat.completionTokens).toBeLessThanOrEqual(MAX_INT);
      expect(BigInt(chat.costMicroUsd) >= 0n).toBe(true);

      const { session } = await ada.data(SessionChatDocument, { id: chat.sessionId });
      expect(session.turns.nodes).toEqual([{ id: chat.id, status: outcome.status }]);
      expect(session.messages.nodes.map((message) => message.content).sort()).toEqual(
        [`try ${model}`, outcome.content].filter((content) => content !== undefined).sort(),
      );
      expect(session.inputTokens).toBeLessThanOrEqual(MAX_INT);

      const events = await replay(chat.sessionId);
      expect(events.at(-1)).toMatchObject({
        turnId: chat.id,
        kind: outcome.status === 'COMPLETE' ? 'COMPLETED' : 'ERROR',
      });
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
      expect(events.map((event) => event.delta ?? '').join('')).toBe(outcome.content ?? '');
      const [stored] = await sql<{ error_message: string | null }>(
        t,
        `select "error_message" from "sessions"."turn" where "id" = $1`,
        [chat.id],
      );
      for (const text of [stored.error_message ?? '', ...events.map((event) => event.error?.message ?? '')])
        expect(wellFormed(text)).toBe(true);

      await expectSessionAnswers(chat.sessionId);
      expectNoUnrecordedTurn();
    },
  );

  test('usage beyond any column is clamped, and a session total never overflows', async () => {
    const { chat } = await ada.data(ChatDocument, { input: { content: 'big', model: 'hostile-huge-usage' } });
    for (let i = 0; i < 3; i++)
      await ada.data(ChatDocument, {
        input: { sessionId: chat.sessionId, content: `big ${i}`, model: 'hostile-huge-usage' },
      });
    const { session } = await ada.data(SessionChatDocument, { id: chat.sessionId });
    expect(session.inputTokens).toBe(MAX_INT);
    expect(session.outputTokens).toBe(MAX_INT);
    expect(session.turns.nodes.every((turn) => turn.status === 'COMPLETE')).toBe(true);
  });

  test('usage that is negative or not numbers is not trusted: the turn is counted approximately', async () => {
    for (const model of ['hostile-negative-usage', 'hostile-wrong-types']) {
      const { turn } = await ada.data(TurnDocument, {
        id: (await ada.data(ChatDocument, { input: { content: 'count me', model } })).chat.id,
      });
      expect(turn.usage).toMatchObject({ estimated: true });
      expect(turn.usage!.promptTokens).toBeGreaterThan(0);
      expect(turn.usage!.completionTokens).toBeGreaterThan(0);
    }
  });
});

describe('the abandoned-turn sweep', () => {
  let replica: SessionsReplica;

  beforeAll(async () => {
    replica = await openSessionsReplica(t);
  });
  afterAll(() => replica.close());

  /** A RUNNING turn an hour old in a new session of Ada's. */
  async function abandonedTurn(name: string, model = 'default') {
    const { startSession } = await ada.data(StartSessionDocument, { input: { title: name } });
    const turnId = `turn_${name}`;
    await replica.insertAbandonedTurn({ id: turnId, sessionId: startSession.id, ownerId: ada.id, model });
    return { sessionId: startSession.id, turnId };
  }

  test('skips and logs a turn it cannot end, and still ends the others', async () => {
    // No seq is left after this event, so the turn's final event cannot be stored.
    const bad = await abandonedTurn('unnumberable');
    await sql(
      t,
      `insert into "sessions"."chat_event" ("session_id", "seq", "turn_id", "kind", "at")
       values ($1, $2, $3, 'STARTED', now() - interval '1 hour')`,
      [bad.sessionId, MAX_INT, bad.turnId],
    );
    // Models named like prototype properties once made every sweep fail.
    const proto = await abandonedTurn('proto', '__proto__');
    const constructor = await abandonedTurn('constructor', 'constructor');
    const plain = await abandonedTurn('plain');

    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    await expect(
      sweepAbandonedTurns(
        { em: replica.orm.em.fork(), pubsub: replica.pubsub, log },
        60_000,
        chatSettings().pricesOf,
      ),
    ).resolves.toBeGreaterThanOrEqual(0);

    for (const { turnId } of [proto, constructor, plain]) {
      const { turn } = await ada.data(TurnDocument, { id: turnId });
      expect(turn).toMatchObject({ status: 'FAILED', errorCode: 'UPSTREAM_INTERRUPTED' });
    }
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, turnId: bad.turnId }));
    const { turn } = await ada.data(TurnDocument, { id: bad.turnId });
    expect(turn.status).toBe('RUNNING');
    // The sessions of the ended turns take messages again.
    await expectSessionAnswers(plain.sessionId);
    await expectSessionAnswers(proto.sessionId);

    // Leave nothing behind that the platform's own sweep would report every minute.
    await sql(t, `delete from "sessions"."chat_event" where "turn_id" = $1`, [bad.turnId]);
    await sql(t, `delete from "sessions"."turn" where "id" = $1`, [bad.turnId]);
  });
});
