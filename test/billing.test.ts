/**
 * Metered billing with BILLING=on: every chat route holds the most a turn may cost before the
 * upstream is called, posts its price once it completes, voids the hold when it fails or is
 * cancelled, and the reconciler settles what a stopped process left held. Real PostgreSQL, the real
 * wallet subgraph (reached as the sessions subgraph reaches it), and the upstream LLM double.
 */
import { createPeers, type EntityManager } from '../lib';
import { holdBound, holdCredits, reconcileSettlements } from '../subgraphs/sessions/chat.billing';
import { sweepAbandonedTurns } from '../subgraphs/sessions/chat.turns';
import {
  BilledChatDocument,
  BilledMessageDocument,
  BilledTurnDocument,
  BillingPricingDocument,
  CancelTurnDocument,
  ChatStreamDocument,
  CreateApiKeyDocument,
  StartSessionDocument,
  type ChatStreamSubscription,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startLlmDouble, USAGE, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { subscribe } from './support/subscriptions';
import { openSocket, rest } from './rest/support';
import { errorOf, sql } from './tasks.support';
import { fundedUser as fundedUserOf, ledgerViolations, usdCredits, withDatabase } from './wallet.support';

const PER_CALL = 80_000n;
const PER_THOUSAND = 3000n;
const PRICES = { perCallMicroUsd: PER_CALL, perThousandTokensMicroUsd: PER_THOUSAND };
/** What the double's answer costs: its 16 reported tokens and the flat fee. */
const ANSWER_PRICE = PER_CALL + (BigInt(USAGE.total_tokens) * PER_THOUSAND + 999n) / 1000n;
/** Longer than the double's 12 reported prompt tokens, so its hold covers its price. */
const PROMPT = 'How much does this answer cost?';

let double: LlmDouble;
let t: TestPlatform;
let grants = 0;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, {
    BILLING: 'on',
    LLM_BREAKER_FAILURES: '1000',
    LLM_PRICE_PER_CALL_MICRO_USD: String(PER_CALL),
    LLM_PRICE_PER_1K_TOKENS_MICRO_USD: String(PER_THOUSAND),
  });
  t = await startTestPlatform();
});
afterAll(async () => {
  await t.close();
  await double.close();
});
afterEach(async () => {
  expect(await withDatabase(t, ledgerViolations)).toEqual([]);
});

const fundedUser = (microUsd: bigint, name = 'Payer') => fundedUserOf(t, microUsd, name);
/** The user's posted USD credits and what is held of them, from the ledger itself. */
const credits = (user: User) => usdCredits(t, user.id);

const turnOf = async (who: Client, id: string) => (await who.data(BilledTurnDocument, { id })).turn;

/** Polls a turn until it is settled (its runner settles it before the last event goes out). */
async function settled(who: Client, id: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const turn = await turnOf(who, id);
    if (turn.settlement !== 'HELD' || Date.now() > deadline) return turn;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The wallet's view of the hold a turn took and how it was resolved. */
const transfersOf = (turnId: string) =>
  sql<{ id: string; kind: string; amount: string }>(
    t,
    `select "id", "kind", "amount"::text from "wallet"."transfer"
      where "id" = $1 or "pending_id" = $1 order by "created_at", "id"`,
    [turnId],
  );

async function runningTurns(user: User): Promise<number> {
  const [row] = await sql<{ n: string }>(
    t,
    `select count(*) as "n" from "sessions"."turn" where "owner_id" = $1 and "status" = 'RUNNING'`,
    [user.id],
  );
  return Number(row.n);
}

describe('short of credits: 402 on every billed route, nothing sent upstream, no turn left', () => {
  test('GraphQL chat, sendMessage and chatStream; hermes, OpenAI and Tempo REST; the AUTX socket', async () => {
    const poor = await fundedUser(0n, 'Poor');
    const api = rest(t, poor.credential);
    const before = double.requests.length;

    const chat = errorOf(await poor.request(BilledChatDocument, { input: { content: PROMPT } }));
    expect(chat).toMatchObject({ code: 'PAYMENT_REQUIRED', message: 'Insufficient credits' });
    expect(BigInt(chat.requiredMicroUsd as string)).toBeGreaterThan(PER_CALL);

    const { startSession } = await poor.data(StartSessionDocument, { input: { title: 'Unpaid' } });
    const message = errorOf(
      await poor.request(BilledMessageDocument, { sessionId: startSession.id, content: PROMPT }),
    );
    expect(message.code).toBe('PAYMENT_REQUIRED');

    const stream = subscribe(
      'graphql-ws',
      t.graphqlUrl,
      ChatStreamDocument,
      { input: { content: PROMPT } },
      poor.credential,
    );
    await expect(stream.next()).rejects.toThrow(/PAYMENT_REQUIRED|Insufficient credits/);
    await stream.close();

    const hermes = await api('POST', '/api/sessions/new/chat/stream', {
      body: { message: PROMPT },
      headers: { accept: 'text/event-stream' },
    });
    expect(hermes).toMatchObject({ status: 402, body: { detail: 'Insufficient credits' } });
    const inSession = await api('POST', `/api/sessions/${startSession.id}/chat/stream`, {
      body: { message: PROMPT },
    });
    expect(inSession).toMatchObject({ status: 402, body: { detail: 'Insufficient credits' } });

    const openai = await api('POST', '/runtime/v1/chat/completions', {
      body: { model: 'double-1', messages: [{ role: 'user', content: PROMPT }] },
    });
    expect(openai.status).toBe(402);
    expect(openai.body).toEqual({
      error: { message: 'Insufficient credits', type: 'invalid_request_error', code: 'payment_required' },
    });
    const openaiStream = await api('POST', '/runtime/v1/chat/completions', {
      body: { model: 'double-1', stream: true, messages: [{ role: 'user', content: PROMPT }] },
    });
    expect(openaiStream.status).toBe(402);

    const tempo = await api('POST', '/api/wallet/tempo/call', {
      body: { caller_id: 'EFvgELE1Hb4PC5tbPTAe8v1uEDGee8nwYBMCU42bZRGk', model: 'double-1', prompt: PROMPT },
    });
    expect(tempo).toMatchObject({ status: 402, body: { detail: 'Insufficient credits' } });

    // AUTX: the greeting names the hold a message takes; a message it cannot pay is refused.
    const { ticker } = await createAgent(poor, 'Unpaid agent');
    const { key } = (await poor.data(CreateApiKeyDocument, { input: { name: 'chat', scopes: ['orders'] } }))
      .createApiKey;
    const socket = openSocket(`${t.url.replace(/^http/, 'ws')}/autx/v1/ws/agent/${ticker}`);
    try {
      await socket.opened;
      socket.ws.send(JSON.stringify({ type: 'auth', token: key }));
      const greeting = await socket.next();
      const { meteringPricing } = await poor.data(BillingPricingDocument, {});
      expect(meteringPricing.billing).toBe(true);
      expect(greeting).toMatchObject({
        type: 'session',
        credits_reserved: expect.stringMatching(/^0\.\d+$/),
      });
      expect(Math.round(Number(greeting.credits_reserved) * 1e6)).toBe(
        Number(meteringPricing.messageHoldMicroUsd),
      );
      socket.ws.send(JSON.stringify({ type: 'message', content: PROMPT }));
      expect(await socket.next(10_000)).toEqual({
        type: 'error',
        code: 'payment_required',
        message: 'Insufficient credits',
      });
    } finally {
      await socket.close();
    }

    expect(double.requests.length).toBe(before);
    expect(await runningTurns(poor)).toBe(0);
    const [stored] = await sql<{ n: string }>(
      t,
      `select count(*) as "n" from "sessions"."turn" where "owner_id" = $1`,
      [poor.id],
    );
    expect(Number(stored.n)).toBe(0);
    expect(await credits(poor)).toEqual({ posted: 0n, held: 0n });
  });

  test('hermes /api/chat/completions/stream, 002 agent routes, Workspace chat: 402 in each format', async () => {
    const poor = await fundedUser(0n, 'Poor');
    const api = rest(t, poor.credential);
    const before = double.requests.length;
    const { startSession } = await poor.data(StartSessionDocument, { input: { title: 'Unpaid' } });
    const refusals = {
      completionsStream: await api('POST', '/api/chat/completions/stream', {
        body: { messages: [{ role: 'user', content: PROMPT }] },
        headers: { accept: 'text/event-stream' },
      }),
      workspaceChat: await api('POST', `/api/sessions/${startSession.id}/chat`, {
        body: { message: PROMPT },
      }),
      agentMessage: await api('POST', '/runtime/api/agent/message', { body: { message: PROMPT } }),
      agentStream: await api('POST', '/runtime/api/agent/message/stream', {
        body: { message: PROMPT },
        headers: { accept: 'text/event-stream' },
      }),
    };
    const shapes = Object.fromEntries(
      Object.entries(refusals).map(([name, { status, body }]) => [name, { status, body }]),
    );
    expect(shapes).toEqual({
      // hermes (000/001, Workspace): {detail}; 002's runtime: {error}.
      completionsStream: { status: 402, body: { detail: 'Insufficient credits' } },
      workspaceChat: { status: 402, body: { detail: 'Insufficient credits' } },
      agentMessage: { status: 402, body: { error: 'Insufficient credits' } },
      agentStream: { status: 402, body: { error: 'Insufficient credits' } },
    });
    expect(double.requests.length).toBe(before);
    expect(await runningTurns(poor)).toBe(0);
    expect(await credits(poor)).toEqual({ posted: 0n, held: 0n });
  });
});

describe('settlement', () => {
  test('a completed turn posts exactly its recorded price from a hold of its bound', async () => {
    const payer = await fundedUser(1_000_000n);
    const before = await credits(payer);
    const { chat } = await payer.data(BilledChatDocument, { input: { content: PROMPT } });
    expect(chat.status).toBe('COMPLETE');
    const after = await credits(payer);

    const bound = holdBound(PRICES, [{ content: PROMPT }], 4096);
    expect(chat).toMatchObject({
      settlement: 'POSTED',
      holdId: chat.id,
      heldMicroUsd: String(bound),
      costMicroUsd: String(ANSWER_PRICE),
      chargedMicroUsd: String(ANSWER_PRICE),
      callFeeMicroUsd: String(PER_CALL),
    });
    expect(before.posted - after.posted).toBe(ANSWER_PRICE);
    expect(after.held).toBe(0n);
    expect((await transfersOf(chat.id)).map((x) => [x.kind, x.amount])).toEqual([
      ['PENDING', String(bound)],
      ['POST', String(ANSWER_PRICE)],
    ]);
    // The upstream was held to the completion bound the hold was priced with.
    expect(double.requests.at(-1)!.body.max_tokens).toBe(4096);
  });

  test('a failed upstream voids the whole hold', async () => {
    const payer = await fundedUser(1_000_000n);
    const before = await credits(payer);
    const { chat } = await payer.data(BilledChatDocument, { input: { content: PROMPT, model: 'error-500' } });
    expect(chat).toMatchObject({ status: 'FAILED', settlement: 'VOIDED', chargedMicroUsd: '0' });
    expect(await credits(payer)).toEqual(before);
    expect((await transfersOf(chat.id)).map((x) => x.kind)).toEqual(['PENDING', 'VOID']);
  });

  test('a turn cancelled mid-stream voids; so does an AUTX DELETE of its session', async () => {
    const payer = await fundedUser(1_000_000n);
    const before = await credits(payer);
    const events = subscribe(
      'graphql-ws',
      t.graphqlUrl,
      ChatStreamDocument,
      { input: { content: PROMPT, model: 'slow' } },
      payer.credential,
    );
    let turnId: string | undefined;
    try {
      for (;;) {
        const { chatStream }: ChatStreamSubscription = await events.next(10_000);
        turnId = chatStream.turnId;
        if (chatStream.kind === 'TOKEN') break;
      }
      expect((await credits(payer)).held).toBeGreaterThan(0n);
      await payer.data(CancelTurnDocument, { id: turnId! });
    } finally {
      await events.close();
    }
    const cancelled = await settled(payer, turnId!);
    expect(cancelled).toMatchObject({ status: 'INTERRUPTED', settlement: 'VOIDED', chargedMicroUsd: '0' });
    expect(await credits(payer)).toEqual(before);

    const { startSession } = await payer.data(StartSessionDocument, { input: { title: 'To refund' } });
    const { sendMessage } = await payer.data(BilledMessageDocument, {
      sessionId: startSession.id,
      content: PROMPT,
      model: 'slow',
    });
    expect(sendMessage.settlement).toBe('HELD');
    await new Promise((resolve) => setTimeout(resolve, 300)); // a token or two in
    const deleted = await rest(t, payer.credential)('DELETE', `/autx/v1/sessions/${startSession.id}`);
    expect(deleted.status).toBe(204);
    expect(await settled(payer, sendMessage.id)).toMatchObject({
      settlement: 'VOIDED',
      chargedMicroUsd: '0',
    });
    expect(await credits(payer)).toEqual(before);
    const session = await rest(t, payer.credential)('GET', `/autx/v1/sessions/${startSession.id}`);
    expect(session.body.consumed_usd).toBe('0.00');
  });

  test('/runtime/v1/chat/completions and the Tempo call post their price; usage and pricing report it', async () => {
    const payer = await fundedUser(1_000_000n);
    const api = rest(t, payer.credential);
    const before = await credits(payer);
    const openai = await api('POST', '/runtime/v1/chat/completions', {
      body: { model: 'double-1', messages: [{ role: 'user', content: PROMPT }] },
    });
    expect(openai.status).toBe(200);
    const call = await api('POST', '/api/wallet/tempo/call', {
      body: {
        caller_id: 'someone',
        model: 'double-1',
        prompt: PROMPT,
        max_tokens: 64,
        tools: ['web_search'],
      },
    });
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({
      call_id: expect.stringMatching(/^turn_/),
      result: { role: 'assistant', content: 'Hello, world!' },
      usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
      billing: {
        xai_cost_usd: Number(ANSWER_PRICE - PER_CALL) / 1e6,
        optx_margin_usd: 0.08,
        total_usd: Number(ANSWER_PRICE) / 1e6,
        token: 'USD',
        charged_usd: Number(ANSWER_PRICE) / 1e6,
        settlement: 'posted',
      },
      latency_ms: expect.any(Number),
    });
    expect(double.requests.at(-1)!.body.max_tokens).toBe(64);
    expect(before.posted - (await credits(payer)).posted).toBe(2n * ANSWER_PRICE);

    const usage = await api('GET', '/api/wallet/tempo/usage?limit=10');
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({
      calls: 2,
      prompt_tokens: 24,
      completion_tokens: 8,
      total_usd: Number(2n * ANSWER_PRICE) / 1e6,
      charged_usd: Number(2n * ANSWER_PRICE) / 1e6,
      held_usd: 0,
      token: 'USD',
    });
    expect(usage.body.calls.map((c: { call_id: string }) => c.call_id)[0]).toBe(call.body.call_id);

    const pricing = await api('GET', '/api/wallet/tempo/pricing');
    expect(pricing.body).toMatchObject({
      billing: 'credits',
      token: 'USD',
      pricing: { per_1k_tokens_usd: 0.003, per_call_usd: 0.08 },
      max_tokens_default: 4096,
    });
  });
});

describe('a process stopped between hold and settlement', () => {
  const sessionsOf = () => t.platform.subgraphs.find((s) => s.name === 'sessions')!;
  const peers = () =>
    createPeers(
      'sessions',
      Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])),
      t.secrets.internal,
    );
  const settleDeps = () => ({
    em: sessionsOf().orm.em.fork() as unknown as EntityManager,
    peers: peers(),
    log: t.log,
  });

  /** A turn that ended with its hold open, as a process killed right after recording its end leaves it. */
  async function heldTurn(user: User, sessionId: string, status: string, charged: bigint) {
    const id = `turn_${String(++grants).padStart(26, '0')}`;
    const hold = await holdCredits(peers(), {
      turnId: id,
      ownerId: user.id,
      amount: 100_000n,
      timeoutSeconds: 3600,
    });
    await sql(
      t,
      `insert into "sessions"."message" ("id", "session_id", "role", "content") values ($1, $2, 'USER', 'hi')`,
      [`msg_of_${id}`, sessionId],
    );
    await sql(
      t,
      `insert into "sessions"."turn" ("id", "session_id", "owner_id", "user_message_id", "provider", "model",
         "model_reason", "context", "status", "cost_micro_usd", "settlement", "hold_id", "held_micro_usd",
         "charged_micro_usd", "created_at", "finished_at")
       values ($1, $2, $3, $4, 'default', 'double-1', 'test', '[]', $5, $6, 'HELD', $7, $8, $6,
               now() - interval '1 hour', case when $5 = 'RUNNING' then null else now() - interval '1 hour' end)`,
      [
        id,
        sessionId,
        user.id,
        `msg_of_${id}`,
        status,
        String(charged),
        hold.holdId,
        String(hold.heldMicroUsd),
      ],
    );
    return id;
  }

  test('the reconciler posts a completed turn’s recorded price and voids a failed one, once', async () => {
    const payer = await fundedUser(1_000_000n);
    const { startSession } = await payer.data(StartSessionDocument, { input: { title: 'Killed' } });
    const completed = await heldTurn(payer, startSession.id, 'COMPLETE', 12_345n);
    const failed = await heldTurn(payer, startSession.id, 'FAILED', 0n);
    expect(await credits(payer)).toEqual({ posted: 1_000_000n, held: 200_000n });

    // Two replicas at once: SKIP LOCKED shares the turns between them, none is settled twice.
    const [first, second] = await Promise.all([
      reconcileSettlements(settleDeps(), 0),
      reconcileSettlements(settleDeps(), 0),
    ]);
    expect(first + second).toBe(2);
    expect(await reconcileSettlements(settleDeps(), 0)).toBe(0);

    expect(await turnOf(payer, completed)).toMatchObject({ settlement: 'POSTED', chargedMicroUsd: '12345' });
    expect(await turnOf(payer, failed)).toMatchObject({ settlement: 'VOIDED' });
    expect(await credits(payer)).toEqual({ posted: 1_000_000n - 12_345n, held: 0n });
    expect((await transfersOf(completed)).map((x) => [x.kind, x.amount])).toEqual([
      ['PENDING', '100000'],
      ['POST', '12345'],
    ]);
    expect((await transfersOf(failed)).map((x) => x.kind)).toEqual(['PENDING', 'VOID']);
  });

  test('killed while RUNNING: the abandoned-turn sweep ends the turn and the reconciler settles its hold', async () => {
    const payer = await fundedUser(1_000_000n);
    const { startSession } = await payer.data(StartSessionDocument, { input: { title: 'Killed running' } });
    const running = await heldTurn(payer, startSession.id, 'RUNNING', 0n);
    // Still running: the reconciler leaves it (and its hold) to the sweep, which ends it first.
    expect(await reconcileSettlements(settleDeps(), 0)).toBe(0);
    expect(await credits(payer)).toEqual({ posted: 1_000_000n, held: 100_000n });
    const sweepDeps = { ...settleDeps(), pubsub: t.platform.pubsub };
    expect(await sweepAbandonedTurns(sweepDeps, 1000, () => PRICES)).toBeGreaterThanOrEqual(1);
    expect(await reconcileSettlements(settleDeps(), 0)).toBeGreaterThanOrEqual(1);
    const turn = await turnOf(payer, running);
    expect(turn.settlement).not.toBe('HELD');
    const charged = BigInt(turn.chargedMicroUsd ?? '0');
    expect(await credits(payer)).toEqual({ posted: 1_000_000n - charged, held: 0n });
    expect((await transfersOf(running)).map((x) => x.kind)).toEqual([
      'PENDING',
      charged > 0n ? 'POST' : 'VOID',
    ]);
  });

  test('killed before the turn was stored: its hold is voided once past the grace, not before', async () => {
    const payer = await fundedUser(1_000_000n);
    const orphan = `turn_${String(++grants).padStart(26, '0')}`;
    await holdCredits(peers(), { turnId: orphan, ownerId: payer.id, amount: 70_000n, timeoutSeconds: 3600 });
    expect(await credits(payer)).toEqual({ posted: 1_000_000n, held: 70_000n });
    // Within the grace it may be a turn still being stored: left alone.
    expect(await reconcileSettlements(settleDeps(), 60_000)).toBe(0);
    expect(await credits(payer)).toEqual({ posted: 1_000_000n, held: 70_000n });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [first, second] = await Promise.all([
      reconcileSettlements(settleDeps(), 1000),
      reconcileSettlements(settleDeps(), 1000),
    ]);
    expect(first + second).toBeGreaterThanOrEqual(1);
    expect(await credits(payer)).toEqual({ posted: 1_000_000n, held: 0n });
    expect((await transfersOf(orphan)).map((x) => x.kind)).toEqual(['PENDING', 'VOID']);
    expect(await reconcileSettlements(settleDeps(), 0)).toBe(0);
  });
});

describe('concurrency', () => {
  test('20 turns at once on credits that pay for 5: at most 5 go upstream, the rest are 402', async () => {
    const maxTokens = 4;
    const bound = holdBound(PRICES, [{ content: PROMPT }], maxTokens);
    expect(bound).toBeGreaterThanOrEqual(ANSWER_PRICE);
    const payer = await fundedUser(5n * bound, 'Crowd');
    const before = double.requests.length;

    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        payer.request(BilledChatDocument, { input: { content: PROMPT, maxTokens } }),
      ),
    );
    const answered = results.filter((r) => r.body.data?.chat);
    const refused = results.filter((r) => r.body.errors?.[0]?.extensions?.code === 'PAYMENT_REQUIRED');
    expect(answered.length).toBe(5);
    expect(refused.length).toBe(15);
    expect(double.requests.length - before).toBe(5);
    expect(await runningTurns(payer)).toBe(0);
    const after = await credits(payer);
    expect(after.held).toBe(0n);
    expect(5n * bound - after.posted).toBe(5n * ANSWER_PRICE);
  });
});
