/**
 * AUTX (003) chat: DELETE /sessions/{id} and the WebSocket chat at /ws/agent/{ticker}, end to end
 * through the router and the sessions subgraph to the OpenAI-protocol double.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { BilledChatDocument, CreateApiKeyDocument, StartSessionDocument } from '../generated/graphql';
import { createAgent } from '../support/fixtures';
import {
  ANSWER,
  answerDeltas,
  startLlmDouble,
  USAGE,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { eventually, ISO, openSocket, refusedUpgrade, rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let user: User;
let api: Rest;
let key: string;
let ticker: string;
let agentId: string;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, { LLM_BREAKER_FAILURES: '100' });
  t = await startTestPlatform();
  user = await t.register('Chatter');
  api = rest(t, user.credential);
  ({ key } = (
    await user.data(CreateApiKeyDocument, { input: { name: 'chat', scopes: ['orders'] } })
  ).createApiKey);
  ({ ticker, id: agentId } = await createAgent(user, 'Chat agent'));
});
afterAll(async () => {
  await t.close();
  await double.close();
});

// The platform's metering of the double's answer: 16 tokens × 3000 / 1000 + 80 000 flat, in micro-USD.
const PRICE_MICRO_USD = Math.ceil((USAGE.total_tokens * 3000) / 1000) + 80_000;
/** Micro-USD below one dollar as AUTX shows it: 80048 → "0.080048". */
const usd = (micro: number) => `0.${String(micro).padStart(6, '0')}`;
const PRICE_USD = usd(PRICE_MICRO_USD);

const chatUrl = (agent = ticker) => `${t.url.replace(/^http/, 'ws')}/autx/v1/ws/agent/${agent}`;

type Socket = ReturnType<typeof openSocket>;

/** Opens the chat and authenticates; returns the socket and its session frame. */
async function connect(token = key, agent = ticker) {
  const socket = openSocket(chatUrl(agent));
  await socket.opened;
  socket.ws.send(JSON.stringify({ type: 'auth', token }));
  return { socket, greeting: await socket.next() };
}

/** Frames up to and including the first of `type`. */
async function framesUntil(socket: Socket, type: string) {
  const frames = [];
  for (;;) {
    const frame = await socket.next(10_000);
    frames.push(frame);
    if (frame.type === type) return frames;
  }
}

/** Runs `work` on an authenticated chat and closes it, whatever happens. */
async function inChat(work: (socket: Socket) => Promise<void>, token = key) {
  const { socket, greeting } = await connect(token);
  try {
    expect(greeting.type).toBe('session');
    await work(socket);
  } finally {
    await socket.close();
  }
}

const errorFrame = (code: unknown, message: unknown = expect.any(String)) => ({
  type: 'error',
  code,
  message,
});

const send = (socket: Socket, frame: unknown) => socket.ws.send(JSON.stringify(frame));

/** Polls an async read until `check` passes or 5 s are up; returns the last value read. */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const closedWith = async (socket: Socket) => (await eventually(socket.closed, Boolean))?.code;

describe('DELETE /sessions/{id}', () => {
  test('closes: 204 without a body; again: 200 with the closed session', async () => {
    const { startSession } = await user.data(StartSessionDocument, { input: { title: 'To close' } });
    const first = await api('DELETE', `/autx/v1/sessions/${startSession.id}`);
    expect(first.status).toBe(204);
    expect(first.text).toBe('');

    const again = await api('DELETE', `/autx/v1/sessions/${startSession.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      id: startSession.id,
      agent_ticker: null,
      status: 'closed',
      message_count: 0,
      consumed_usd: '0.00',
      started_at: ISO,
      closed_at: ISO,
    });
  });

  test('another account’s session is 404 in {detail}, and stays open', async () => {
    const stranger = await t.register('Stranger');
    const { startSession } = await stranger.data(StartSessionDocument, { input: { title: 'Private' } });
    const { status, body } = await api('DELETE', `/autx/v1/sessions/${startSession.id}`);
    expect(status).toBe(404);
    expect(body).toEqual({ detail: expect.any(String) });
    const own = await rest(t, stranger.credential)('GET', `/autx/v1/sessions/${startSession.id}`);
    expect(own.body.status).toBe('active');
  });
});

/**
 * The text of a PDF, read by pdf-parse (PDF.js) in a child process: PDF.js loads its worker by a
 * dynamic import, which Jest's module sandbox refuses.
 */
async function pdfText(pdf: Buffer): Promise<string> {
  const script = `const { PDFParse } = require('pdf-parse');
    const parser = new PDFParse({ data: Buffer.from(process.argv[1], 'base64') });
    parser.getText().then((r) => { process.stdout.write(r.text); return parser.destroy(); });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, pdf.toString('base64')]);
  return stdout;
}

describe('GET /sessions/{id}/receipt', () => {
  const receipt = (id: string, credential = user.credential) =>
    fetch(`${t.url}/autx/v1/sessions/${id}/receipt`, { headers: { authorization: `Bearer ${credential}` } });

  test('a closed session that consumed something: a PDF with each answer and the total', async () => {
    const first = await user.data(BilledChatDocument, {
      input: { content: 'one', title: 'Receipted', agentId: (await createAgent(user, 'Receipt agent')).id },
    });
    await user.data(BilledChatDocument, { input: { sessionId: first.chat.sessionId, content: 'two' } });
    expect(await api('DELETE', `/autx/v1/sessions/${first.chat.sessionId}`)).toMatchObject({ status: 204 });

    const response = await receipt(first.chat.sessionId);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = await pdfText(pdf);
    expect(text).toContain(`Session: ${first.chat.sessionId}`);
    expect(text).toContain('Title: Receipted');
    expect(text).toMatch(/Agent: Receipt agent \(\w+\)/);
    expect(text.match(new RegExp(`${USAGE.total_tokens} tokens ${PRICE_USD} USD`, 'g'))).toHaveLength(2);
    expect(text).toContain(`Total: ${usd(2 * PRICE_MICRO_USD)} USD`);
  });

  test('400 while the session is active, 422 when it consumed nothing, 404 for another account', async () => {
    const { startSession } = await user.data(StartSessionDocument, { input: { title: 'Empty' } });
    const active = await receipt(startSession.id);
    expect(active.status).toBe(400);
    expect(await active.json()).toEqual({ detail: expect.stringContaining('active') });

    await api('DELETE', `/autx/v1/sessions/${startSession.id}`);
    const empty = await receipt(startSession.id);
    expect(empty.status).toBe(422);
    expect(await empty.json()).toEqual({ detail: expect.stringContaining('consumed nothing') });

    const stranger = await t.register('Receipt stranger');
    const other = await receipt(startSession.id, stranger.credential);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: expect.any(String) });
  });
});

describe('WS /ws/agent/{ticker}', () => {
  test('auth → session; each message → chunks of the answer, done, billing; leaving closes the session', async () => {
    const { socket, greeting } = await connect();
    let sessionId: string;
    try {
      expect(greeting).toEqual({
        type: 'session',
        session_id: expect.stringMatching(/^ses_/),
        credits_reserved: '0.00',
      });
      sessionId = greeting.session_id;
      expect((await api('GET', `/autx/v1/sessions/${sessionId}`)).body).toMatchObject({
        agent_ticker: ticker,
        status: 'active',
      });

      send(socket, { type: 'message', content: 'Say hello' });
      const frames = await framesUntil(socket, 'billing');
      const chunks = answerDeltas(frames.filter((f) => f.type === 'chunk').map((f) => f.data as string));
      expect(frames).toEqual([
        ...chunks.map((data) => ({ type: 'chunk', data })),
        { type: 'done', order_id: expect.stringMatching(/^turn_/) },
        { type: 'billing', amount_charged: PRICE_USD },
      ]);
      expect(double.requests.at(-1)!.messages.at(-1)).toEqual({ role: 'user', content: 'Say hello' });

      // done's order_id names an order GET /orders/{id} reads (the answer itself), and only for its owner.
      const orderId = frames.at(-2).order_id as string;
      const order = await api('GET', `/autx/v1/orders/${orderId}`);
      expect(order.status).toBe(200);
      expect(order.body).toEqual({
        id: orderId,
        agent_id: agentId,
        status: 'completed',
        prompt: 'Say hello',
        payment_method: 'credits',
        // Billing is off here: the answer was metered, not charged.
        service_price: '0.00',
        amount_paid: '0.00',
        platform_fee: '0.00',
        output_hash: `sha256:${createHash('sha256').update(ANSWER.join('')).digest('hex')}`,
        output_text: ANSWER.join(''),
        error: null,
        latency_ms: null,
        created_at: ISO,
        completed_at: ISO,
      });
      const stranger = rest(t, (await t.register('Order stranger')).credential);
      expect((await stranger('GET', `/autx/v1/orders/${orderId}`)).status).toBe(404);
      expect((await api('GET', '/autx/v1/orders/turn_doesnotexist')).status).toBe(404);

      // The same conversation goes on, `text` being read like `content`.
      send(socket, { type: 'message', text: 'And again' });
      const second = await framesUntil(socket, 'billing');
      expect(second.at(-2).order_id).toMatch(/^turn_/);
      expect(second.at(-2).order_id).not.toBe(frames.at(-2).order_id);
      expect(double.requests.at(-1)!.messages.map((m) => m.content)).toEqual([
        'Say hello',
        ANSWER.join(''),
        'And again',
      ]);
    } finally {
      await socket.close();
    }

    const shown = await until(
      () => api('GET', `/autx/v1/sessions/${sessionId}`).then((r) => r.body),
      (body) => body.status === 'closed',
    );
    expect(shown).toEqual({
      id: sessionId,
      agent_ticker: ticker,
      status: 'closed',
      message_count: 4,
      consumed_usd: usd(2 * PRICE_MICRO_USD),
      started_at: ISO,
      closed_at: ISO,
    });
    const list = await api('GET', '/autx/v1/sessions');
    expect(list.body).toContainEqual(shown);
  });

  test('an access token (JWT) authenticates as well', async () => {
    await inChat(async (socket) => {
      send(socket, { type: 'message', content: 'Hi' });
      expect((await framesUntil(socket, 'billing')).at(-1).amount_charged).toBe(PRICE_USD);
    }, user.credential);
  });

  test('a failed answer is an error frame and the socket stays open for the next message', async () => {
    await inChat(async (socket) => {
      send(socket, { type: 'message', content: 'Fail please', model: 'error-500' });
      const frames = await framesUntil(socket, 'error');
      expect(frames.at(-1)).toEqual(errorFrame('upstream_error', expect.stringMatching(/overloaded/)));
      expect(frames.filter((f) => f.type === 'done' || f.type === 'chunk')).toEqual([]);

      send(socket, { type: 'message', content: 'Now answer' });
      expect((await framesUntil(socket, 'billing')).at(-1)).toEqual({
        type: 'billing',
        amount_charged: PRICE_USD,
      });
      expect(socket.closed()).toBeUndefined();
    });
  });

  test('bad frames after auth are error frames, not the end: not JSON, unknown type, no content', async () => {
    await inChat(async (socket) => {
      socket.ws.send('not json');
      expect(await socket.next()).toEqual(errorFrame('bad_request'));
      send(socket, { type: 'dance' });
      expect(await socket.next()).toEqual(errorFrame('bad_request', expect.stringMatching(/message/)));
      send(socket, { type: 'message', content: '  ' });
      expect(await socket.next()).toEqual(errorFrame('bad_user_input', expect.stringMatching(/content/)));
      expect(socket.closed()).toBeUndefined();
    });
  });

  test('a frame larger than a request body (1 MiB) closes the socket with 1009', async () => {
    const { socket } = await connect();
    send(socket, { type: 'message', content: 'x'.repeat(1024 * 1024 + 1) });
    expect(await closedWith(socket)).toBe(1009);
    // The router is still there for the next conversation.
    await inChat(async () => undefined);
  });

  test('a message while an answer streams is refused as busy; leaving mid-answer cancels it upstream', async () => {
    await inChat(async (socket) => {
      send(socket, { type: 'message', content: 'Take your time', model: 'slow' });
      expect(await socket.next()).toEqual({ type: 'chunk', data: 'w0 ' });
      send(socket, { type: 'message', content: 'Me too' });
      const frames = await framesUntil(socket, 'error');
      expect(frames.at(-1)).toEqual(errorFrame('busy'));
      expect(frames.slice(0, -1).every((f) => f.type === 'chunk')).toBe(true);
      expect(double.requests.filter((r) => r.messages.at(-1)?.content === 'Me too')).toEqual([]);
    });
    const aborted = await double.abortOf('slow', 5000);
    expect(aborted.messages.at(-1)).toEqual({ role: 'user', content: 'Take your time' });
  });

  test('a bad token is an error frame and close 4401; so is a first frame that is not auth', async () => {
    const { socket, greeting } = await connect('agx_live_not_a_key');
    expect(greeting).toEqual(errorFrame('unauthenticated'));
    expect(await closedWith(socket)).toBe(4401);

    const early = openSocket(chatUrl());
    await early.opened;
    send(early, { type: 'message', content: 'hi' });
    expect((await early.next()).code).toBe('unauthenticated');
    expect(await closedWith(early)).toBe(4401);
  });

  test('an unknown ticker is an error frame and close 4404, and opens no session', async () => {
    const before = (await api('GET', '/autx/v1/sessions')).body.length;
    const { socket, greeting } = await connect(key, 'NOSUCH');
    expect(greeting).toEqual(errorFrame('not_found'));
    expect(await closedWith(socket)).toBe(4404);
    expect((await api('GET', '/autx/v1/sessions')).body).toHaveLength(before);
  });

  test('a page of another site may not open it (403 in {detail}); the same host may', async () => {
    const refused = await refusedUpgrade(chatUrl(), { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: expect.stringMatching(/Origin/) });

    const socket = openSocket(chatUrl(), { origin: t.url });
    try {
      await socket.opened;
      send(socket, { type: 'auth', token: key });
      expect((await socket.next()).type).toBe('session');
    } finally {
      await socket.close();
    }
  });

  test('without an auth frame the socket closes with 4408 after 10 s', async () => {
    const socket = openSocket(chatUrl());
    await socket.opened;
    expect(await socket.next(12_000)).toEqual(errorFrame('auth_timeout'));
    expect(await closedWith(socket)).toBe(4408);
  }, 20_000);
});
