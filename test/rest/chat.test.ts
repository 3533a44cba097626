/**
 * Chat over the hermes dialect end to end: 001's SSE chat streams (with Hermes Workspace's events
 * too), the OpenAI-compatible routes and 002's turns, feedback, providers and agent routes, through
 * the router and the sessions subgraph to the OpenAI-protocol upstream double.
 */
import { CloseSessionDocument } from '../generated/graphql';
import {
  ANSWER,
  answerDeltas,
  DOUBLE_MODELS,
  CONFIGURED_KEY,
  startLlmDouble,
  USAGE,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { ISO, rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;
let admin: Client;
let api: Rest;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double, { LLM_BREAKER_FAILURES: '2', LLM_BREAKER_COOLDOWN_SECONDS: '300' });
  t = await startTestPlatform();
  [ada, stranger, admin] = [await t.register('Ada'), await t.register('Stranger'), await registerAdmin(t)];
  api = rest(t, ada.credential);
});
afterAll(async () => {
  await t.close();
  await double.close();
});

interface Message {
  event?: string;
  data: string;
}

// Shapes are what the tests check, so parsed bodies stay loosely typed (as in ./support).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** An OpenAI `chat.completion.chunk`. */
interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: unknown;
}

/** Server-Sent Events as a client reads them: `event:` and `data:` lines, comments skipped. */
function parseEvents(text: string): Message[] {
  return text
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n').filter((line) => line && !line.startsWith(':'));
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
      const data = lines.filter((line) => line.startsWith('data: ')).map((line) => line.slice(6));
      return data.length ? { ...(event === undefined ? {} : { event }), data: data.join('\n') } : undefined;
    })
    .filter((message): message is Message => message !== undefined);
}

/** POSTs a JSON body and reads the whole answer; a client that sends `Accept: application/json`. */
async function post(
  path: string,
  body: unknown,
  who: Client = ada,
  accept = 'application/json',
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept,
      ...(who.credential ? { authorization: `Bearer ${who.credential}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    type,
    text,
    body: type.startsWith('application/json') ? (JSON.parse(text) as Json) : undefined,
    events: type.startsWith('text/event-stream')
      ? parseEvents(text).map(({ event, data }) => ({
          event,
          data: (data === '[DONE]' ? data : JSON.parse(data)) as Json,
        }))
      : [],
  };
}

/** The events a 001 chat stream sends for the double's answer: both vocabularies on each step. */
const expectedEvents = (
  events: Json[],
  sessionId: string,
  runId: string,
  opened: 'created' | 'streaming',
) => {
  const run = { session_id: sessionId, run_id: runId };
  const deltas = answerDeltas(
    events.filter((e) => e.event === 'content').map((e) => e.data.content as string),
  );
  return [
    { event: 'session', data: { session_id: sessionId, status: opened } },
    { event: 'run.started', data: run },
    { event: 'message.started', data: { ...run, role: 'assistant' } },
    ...deltas.flatMap((delta) => [
      { event: 'content', data: { content: delta, session_id: sessionId } },
      { event: 'assistant.delta', data: { ...run, delta } },
    ]),
    { event: 'done', data: { session_id: sessionId, status: 'complete' } },
    { event: 'assistant.completed', data: { ...run, content: ANSWER.join('') } },
    { event: 'run.completed', data: { ...run, status: 'complete', usage: USAGE } },
  ];
};

/** A turn of ada's, answered in full; returns its session and turn ids. */
async function answeredTurn(content = 'Tell me something') {
  const { events } = await post('/api/sessions/new/chat/stream', { message: content });
  const started = events.find((e) => e.event === 'run.started')!;
  expect(events.at(-1)).toMatchObject({ event: 'run.completed', data: { status: 'complete' } });
  return { sessionId: started.data.session_id as string, turnId: started.data.run_id as string };
}

const resetBreaker = async () => {
  const reset = await rest(t, admin.credential)('POST', '/runtime/api/breaker/reset/default');
  expect(reset.body).toMatchObject({ name: 'default', state: 'closed', consecutive_failures: 0 });
};

describe('001 chat streams', () => {
  test('/new opens a session and streams the answer in both vocabularies, whatever the Accept; it is stored', async () => {
    const stream = await post('/api/sessions/new/chat/stream', { message: 'What is OPTX?' });
    expect(stream.status).toBe(200);
    expect(stream.type).toMatch(/^text\/event-stream/);
    const sessionId = stream.events[0].data.session_id;
    const runId = stream.events[1].data.run_id;
    expect(sessionId).toMatch(/^ses_/);
    expect(stream.events).toEqual(expectedEvents(stream.events, sessionId, runId, 'created'));
    // 001's documented defaults go upstream.
    expect(double.requests.at(-1)!.body).toMatchObject({ temperature: 0.7, max_tokens: 4096 });

    const messages = await api('GET', `/api/sessions/${sessionId}/messages`);
    expect(messages.status).toBe(200);
    const history = [
      expect.objectContaining({ role: 'user', content: 'What is OPTX?', session_id: sessionId }),
      expect.objectContaining({ role: 'assistant', content: ANSWER.join(''), complete: true }),
    ];
    expect(messages.body).toEqual({ messages: history, items: history, session_id: sessionId, total: 2 });
    const { body } = await api('GET', `/api/sessions/${sessionId}`);
    expect(body.session).toMatchObject({
      id: sessionId,
      title: 'What is OPTX?',
      status: 'active',
      message_count: 2,
      input_tokens: USAGE.prompt_tokens,
      output_tokens: USAGE.completion_tokens,
    });
  });

  test('/:id streams into an existing session (status streaming) with its history as context', async () => {
    const { sessionId } = await answeredTurn('First question');
    const stream = await post(`/api/sessions/${sessionId}/chat/stream`, {
      message: 'Tell me more',
      model: DOUBLE_MODELS[1],
      temperature: 0.2,
      max_tokens: 50,
    });
    expect(stream.status).toBe(200);
    expect(stream.events).toEqual(
      expectedEvents(stream.events, sessionId, stream.events[1].data.run_id, 'streaming'),
    );
    const upstream = double.requests.at(-1)!;
    expect(upstream.model).toBe(DOUBLE_MODELS[1]);
    expect(upstream.body).toMatchObject({ temperature: 0.2, max_tokens: 50 });
    expect(upstream.messages).toEqual([
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: ANSWER.join('') },
      { role: 'user', content: 'Tell me more' },
    ]);

    // Messages page back from the newest; each page reads oldest first.
    const page = await api('GET', `/api/sessions/${sessionId}/messages?limit=2&offset=1`);
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual([
      ANSWER.join(''),
      'Tell me more',
    ]);
    expect(page.body.total).toBe(4);
  });

  test('refusals before streaming are HTTP errors in {detail}: 409 closed, 404 not yours, 422 bad body', async () => {
    const { sessionId } = await answeredTurn();
    const foreign = await post(`/api/sessions/${sessionId}/chat/stream`, { message: 'hijack' }, stranger);
    expect(foreign).toMatchObject({ status: 404, body: { detail: expect.stringContaining(sessionId) } });

    await ada.data(CloseSessionDocument, { id: sessionId });
    const closed = await post(`/api/sessions/${sessionId}/chat/stream`, { message: 'anyone?' });
    expect(closed.status).toBe(409);
    expect(closed.type).toMatch(/^application\/json/);
    expect(closed.body).toEqual({ detail: `session ${sessionId} is closed` });

    const missing = await post('/api/sessions/new/chat/stream', { model: 'double-1' });
    expect(missing).toMatchObject({ status: 422, body: { detail: 'message is required' } });
    const mistyped = await post('/api/sessions/new/chat/stream', { message: 'hi', temperature: 'hot' });
    expect(mistyped).toMatchObject({ status: 422, body: { detail: 'temperature must be a number' } });
    // Refused by the subgraph when the subscription starts, not by the route table.
    const blank = await post('/api/sessions/new/chat/stream', { message: '   ' });
    expect(blank).toMatchObject({ status: 422, body: { detail: 'message must not be empty' } });
    const anonymous = await post('/api/sessions/new/chat/stream', { message: 'hi' }, t.client());
    expect(anonymous).toMatchObject({ status: 401, body: { detail: expect.any(String) } });
  });

  test('a client that leaves mid-stream cancels the upstream answer; what came is kept', async () => {
    const abort = new AbortController();
    const response = await fetch(`${t.url}/api/sessions/new/chat/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.credential}` },
      body: JSON.stringify({ message: 'Count slowly', model: 'slow' }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/event: assistant\.delta/g) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended early');
      text += decoder.decode(value, { stream: true });
    }
    abort.abort();
    const aborted = await double.abortOf('slow', 1000);
    expect(aborted.aborted).toBe(true);

    const runId = JSON.parse(parseEvents(text).find((m) => m.event === 'run.started')!.data).run_id;
    const ended = async () => (await api('GET', `/runtime/api/turns/${runId}`)).body;
    let turn = await ended();
    for (let i = 0; turn.status === 'running' && i < 100; i++) turn = await ended();
    expect(turn).toMatchObject({
      status: 'interrupted',
      error: { code: 'CANCELLED' },
      assistant_message: { complete: false, content: expect.stringMatching(/^w0 w1 /) },
    });
  });

  test('/api/chat/completions/stream answers an OpenAI conversation as chunks, then [DONE]', async () => {
    const stream = await post('/api/chat/completions/stream', {
      model: DOUBLE_MODELS[0],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      ],
    });
    expect(stream.status).toBe(200);
    const messages = parseEvents(stream.text);
    expect(messages.every((m) => m.event === undefined)).toBe(true);
    expect(messages.at(-1)!.data).toBe('[DONE]');
    const chunks = messages.slice(0, -1).map((m) => JSON.parse(m.data));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(ANSWER.join(''));
    expect(chunks.at(-1)).toMatchObject({ model: DOUBLE_MODELS[0], choices: [{ finish_reason: 'stop' }] });
    expect(double.requests.at(-1)!.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    const invalid = await post('/api/chat/completions/stream', {
      messages: [{ role: 'robot', content: 'x' }],
    });
    expect(invalid).toMatchObject({
      status: 422,
      body: { detail: expect.stringMatching(/^messages item 0/) },
    });
  });
});

describe('OpenAI-compatible /v1', () => {
  test('a retry with the same Idempotency-Key gets the first answer; the upstream is asked once', async () => {
    const request = { model: DOUBLE_MODELS[0], messages: [{ role: 'user', content: 'Retry-safe?' }] };
    const key = { 'idempotency-key': 'retry-1' };
    const before = double.requests.length;
    const first = await post('/runtime/v1/chat/completions', request, ada, 'application/json', key);
    const retry = await post('/runtime/v1/chat/completions', request, ada, 'application/json', key);
    expect(first.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    const asked = double.requests.slice(before).filter((r) => r.messages.at(-1)?.content === 'Retry-safe?');
    expect(asked).toHaveLength(1);
    const reused = await post(
      '/runtime/v1/chat/completions',
      { ...request, messages: [{ role: 'user', content: 'Something else' }] },
      ada,
      'application/json',
      key,
    );
    expect(reused).toMatchObject({ status: 400, body: { error: { code: 'bad_user_input' } } });
  });

  test('POST /v1/chat/completions answers a chat.completion in a one-shot session', async () => {
    const { status, body } = await post('/runtime/v1/chat/completions', {
      model: DOUBLE_MODELS[0],
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello?' },
      ],
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      id: expect.any(String),
      object: 'chat.completion',
      created: expect.any(Number),
      model: DOUBLE_MODELS[0],
      choices: [
        { index: 0, message: { role: 'assistant', content: ANSWER.join('') }, finish_reason: 'stop' },
      ],
      usage: USAGE,
    });
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(60);
    expect(double.requests.at(-1)!.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello?' },
    ]);
    // The id is the turn; its session held only this conversation and is closed.
    const turn = await api('GET', `/runtime/api/turns/${body.id}`);
    const session = await api('GET', `/api/sessions/${turn.body.session_id}`);
    expect(session.body.session).toMatchObject({ status: 'closed', message_count: 3 });
  });

  test('Hermes Workspace’s probe (model "test", max_tokens 1) is answered; the limit reads as "length"', async () => {
    const { status, body } = await post('/runtime/v1/chat/completions', {
      model: 'test',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(status).toBe(200);
    expect(body.choices[0].finish_reason).toBe('length');
    expect(double.requests.at(-1)!.body).toMatchObject({ model: 'test', max_tokens: 1 });
  });

  test('"stream": true answers chunks and a usage chunk, then [DONE], as an OpenAI client reads them', async () => {
    const response = await post('/runtime/v1/chat/completions', {
      model: DOUBLE_MODELS[1],
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Stream it' }],
    });
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^text\/event-stream/);
    expect(response.text).not.toMatch(/^event:/m);
    // OpenAI's client: every `data:` is a JSON chunk until `[DONE]`.
    const chunks: Chunk[] = [];
    let done = false;
    for (const { data } of parseEvents(response.text)) {
      if (data === '[DONE]') {
        done = true;
        break;
      }
      chunks.push(JSON.parse(data));
    }
    expect(done).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === DOUBLE_MODELS[1])).toBe(
      true,
    );
    expect(chunks[0].choices).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
    ]);
    const text = chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? '')).join('');
    expect(text).toBe(ANSWER.join(''));
    expect(chunks.at(-2)!.choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop' }]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: USAGE });
  });

  test('without "stream": true but with Accept: text/event-stream, the answer is still one JSON object', async () => {
    const { status, type, body } = await post(
      '/runtime/v1/chat/completions',
      { messages: [{ role: 'user', content: 'Hi' }] },
      ada,
      'text/event-stream',
    );
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/json/);
    expect(body.object).toBe('chat.completion');
  });

  test('invalid requests are 400 in OpenAI’s error format', async () => {
    const missing = await post('/runtime/v1/chat/completions', { model: 'double-1' });
    expect(missing).toMatchObject({
      status: 400,
      body: {
        error: { message: 'messages is required', type: 'invalid_request_error', code: 'bad_user_input' },
      },
    });
    const lastNotUser = await post('/runtime/v1/chat/completions', {
      stream: true,
      messages: [{ role: 'assistant', content: 'I speak last' }],
    });
    expect(lastNotUser.status).toBe(400);
    expect(lastNotUser.body.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.any(String),
    });
    const anonymous = await post(
      '/runtime/v1/chat/completions',
      { messages: [{ role: 'user', content: 'x' }] },
      t.client(),
    );
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.type).toBe('authentication_error');
  });

  test('GET /v1/models lists the default model and the upstream’s, like OpenAI', async () => {
    const { status, body } = await rest(t)('GET', '/runtime/v1/models');
    expect(status).toBe(200);
    expect(body).toEqual({
      object: 'list',
      data: ['default', ...DOUBLE_MODELS].map((id) => ({
        id,
        object: 'model',
        created: expect.any(Number),
        owned_by: 'agentry',
      })),
    });
  });

  test('GET /api/gateway-status reports the probed upstream: enhanced-hermes, snake_case features', async () => {
    const { status, body } = await rest(t)('GET', '/api/gateway-status');
    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'connected',
      mode: 'enhanced-hermes',
      model: 'default',
      version: expect.any(String),
      features: {
        sessions: true,
        streaming: true,
        chat_stream: true,
        memory: true,
        tasks: true,
        wallet: true,
        mcp_servers: false,
        tempo_billing: true,
      },
    });
  });
});

describe('upstream failures', () => {
  afterEach(resetBreaker);

  test('a failing upstream ends the stream with error events and opens the breaker; then streams are 503', async () => {
    await resetBreaker();
    const stream = await post('/api/sessions/new/chat/stream', { message: 'Hello?', model: 'error-500' });
    expect(stream.status).toBe(200);
    const run = stream.events[1].data;
    expect(stream.events.slice(3)).toEqual([
      {
        event: 'error',
        data: {
          ...run,
          error: expect.stringContaining('overloaded'),
          message: expect.stringContaining('overloaded'),
          code: 'UPSTREAM_ERROR',
        },
      },
      {
        event: 'error',
        data: { ...run, error: { message: expect.stringContaining('overloaded'), code: 'UPSTREAM_ERROR' } },
      },
      { event: 'run.completed', data: { ...run, status: 'error' } },
    ]);

    const breakers = await api('GET', '/runtime/api/breaker/status');
    expect(breakers.body.breakers).toEqual([
      expect.objectContaining({ name: 'default', state: 'open', consecutive_failures: 2, key_set: true }),
    ]);
    expect(breakers.text).not.toContain(CONFIGURED_KEY);

    const refused = await post('/api/sessions/new/chat/stream', { message: 'again' });
    expect(refused).toMatchObject({ status: 503, body: { detail: expect.stringContaining('circuit open') } });
    const forbidden = await api('POST', '/runtime/api/breaker/reset/default');
    expect(forbidden).toMatchObject({ status: 403, body: { error: expect.any(String) } });
  });

  test('a failed answer on /v1/chat/completions is a 502 in OpenAI’s format; an open breaker a 503', async () => {
    await resetBreaker();
    const failed = await post('/runtime/v1/chat/completions', {
      model: 'error-500',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(failed).toMatchObject({
      status: 502,
      body: {
        error: {
          message: expect.stringContaining('overloaded'),
          type: 'server_error',
          code: 'upstream_error',
        },
      },
    });
    const open = await post('/runtime/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
    expect(open).toMatchObject({
      status: 503,
      body: { error: { type: 'server_error', code: 'upstream_unavailable' } },
    });
  });
});

describe('002 turns and feedback', () => {
  test('a turn’s detail, context, tools, tips and model selection; the session’s turns', async () => {
    const { sessionId, turnId } = await answeredTurn('Explain turns');
    const detail = await api('GET', `/runtime/api/turns/${turnId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: turnId,
      session_id: sessionId,
      status: 'complete',
      provider: 'default',
      model: 'default',
      model_reason: 'platform default',
      parameters: { temperature: 0.7, max_tokens: 4096 },
      user_message: { content: 'Explain turns' },
      assistant_message: { content: ANSWER.join(''), complete: true },
      usage: USAGE,
      error: null,
      feedback: null,
      created_at: ISO,
      finished_at: ISO,
    });
    expect(detail.body.cost_usd).toBeGreaterThan(0);

    expect((await api('GET', `/runtime/api/turns/${turnId}/context`)).body).toEqual({
      turn_id: turnId,
      messages: [{ role: 'user', content: 'Explain turns' }],
      parameters: { temperature: 0.7, max_tokens: 4096 },
      total: 1,
    });
    expect((await api('GET', `/runtime/api/turns/${turnId}/tools`)).body).toEqual({
      turn_id: turnId,
      tools: [],
      total: 0,
    });
    const tips = await api('GET', `/runtime/api/turns/${turnId}/tips`);
    expect(tips.body).toEqual({ turn_id: turnId, tips: expect.any(Array) });
    for (const tip of tips.body.tips)
      expect(tip).toEqual({
        code: expect.any(String),
        severity: expect.any(String),
        message: expect.any(String),
      });
    expect((await api('GET', `/runtime/api/turns/${turnId}/model-selection`)).body).toEqual({
      turn_id: turnId,
      model: 'default',
      provider: 'default',
      reason: 'platform default',
    });

    const turns = await api('GET', `/runtime/api/sessions/${sessionId}/turns`);
    expect(turns.body).toEqual({
      turns: [expect.objectContaining({ id: turnId })],
      session_id: sessionId,
      total: 1,
    });
    const selections = await api('GET', '/runtime/api/models/selections?limit=1');
    expect(selections.body.events).toEqual([
      expect.objectContaining({
        event_id: turnId,
        turn_id: turnId,
        session_id: sessionId,
        selected_model: 'default',
        provider: 'default',
        strategy: 'platform default',
        created_at: ISO,
      }),
    ]);
    expect(selections.body.count).toBe(1);

    const foreign = await rest(t, stranger.credential)('GET', `/runtime/api/turns/${turnId}`);
    expect(foreign).toMatchObject({ status: 404, body: { error: expect.any(String) } });
  });

  test('feedback: grade 1 to 5 (6 is a 400), read, update, listed per session', async () => {
    const { sessionId, turnId } = await answeredTurn('Grade me');
    const none = await api('GET', `/runtime/api/turns/${turnId}/feedback`);
    expect(none).toMatchObject({ status: 404, body: { error: `turn ${turnId} has no feedback` } });

    const six = await api('POST', `/runtime/api/turns/${turnId}/feedback`, { body: { grade: 6 } });
    expect(six).toMatchObject({ status: 400, body: { error: 'grade must be an integer from 1 to 5' } });

    const created = await api('POST', `/runtime/api/turns/${turnId}/feedback`, {
      body: { grade: 4, comment: 'good' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.any(String),
      turn_id: turnId,
      session_id: sessionId,
      grade: 4,
      source: 'dashboard',
      comment: 'good',
      created_at: ISO,
      updated_at: ISO,
    });
    // Grading again replaces the grade, as Ironclad's upsert does.
    const again = await api('POST', `/runtime/api/turns/${turnId}/feedback`, { body: { grade: 2 } });
    expect(again).toMatchObject({ status: 200, body: { id: created.body.id, grade: 2, comment: null } });

    const updated = await api('PUT', `/runtime/api/turns/${turnId}/feedback`, {
      body: { grade: 5, comment: 'great' },
    });
    expect(updated).toMatchObject({
      status: 200,
      body: { id: created.body.id, grade: 5, comment: 'great', updated: true },
    });
    expect((await api('GET', `/runtime/api/turns/${turnId}/feedback`)).body).toMatchObject({ grade: 5 });
    expect((await api('GET', `/runtime/api/sessions/${sessionId}/feedback`)).body).toEqual({
      session_id: sessionId,
      feedback: [{ ...updated.body, updated: undefined }],
      total: 1,
    });
  });

  test('DELETE /api/sessions/:id deletes it: then it is not found', async () => {
    const { sessionId } = await answeredTurn('Forget me');
    const deleted = await api('DELETE', `/api/sessions/${sessionId}`);
    expect(deleted).toMatchObject({ status: 200, body: { deleted: true, session_id: sessionId } });
    expect((await api('GET', `/api/sessions/${sessionId}`)).status).toBe(404);
  });
});

describe('002 models, providers and agent', () => {
  test('GET /api/models/available and /api/agent/status read the probed upstream', async () => {
    expect((await api('GET', '/runtime/api/models/available')).body).toEqual({
      models: ['default', ...DOUBLE_MODELS],
      count: 3,
      default_model: 'default',
    });
    expect((await api('GET', '/runtime/api/agent/status')).body).toEqual({
      state: 'ready',
      mode: 'enhanced-hermes',
      model: 'default',
      models: DOUBLE_MODELS,
      version: expect.any(String),
      probed_at: ISO,
    });
  });

  test('a provider key is set by an admin only (403 otherwise), never echoed, and used upstream', async () => {
    const secret = 'sk-set-through-rest';
    const refused = await api('PUT', '/runtime/api/providers/default/key', { body: { key: secret } });
    expect(refused).toMatchObject({ status: 403, body: { error: expect.any(String) } });

    const asAdmin = rest(t, admin.credential);
    const set = await asAdmin('PUT', '/runtime/api/providers/default/key', { body: { api_key: secret } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ name: 'default', key_set: true, key_source: 'api' });
    expect(set.text).not.toContain(secret);
    await answeredTurn('With the new key');
    expect(double.requests.at(-1)!.authorization).toBe(`Bearer ${secret}`);

    const removed = await asAdmin('DELETE', '/runtime/api/providers/default/key');
    expect(removed).toMatchObject({
      status: 200,
      body: { removed: true, key_set: true, key_source: 'config' },
    });
    const missing = await asAdmin('PUT', '/runtime/api/providers/default/key', { body: {} });
    expect(missing).toMatchObject({ status: 400, body: { error: 'key is required' } });
  });

  // Shapes from Ironclad's agent_message and agent_message_stream handlers
  // (crates/ironclad-server/src/api/routes/agent/handlers.rs, agent/streaming.rs).
  test('POST /api/agent/message answers the whole reply; /stream streams it into the same session', async () => {
    const answered = await api('POST', '/runtime/api/agent/message', { body: { content: 'Hi agent' } });
    expect(answered.status).toBe(200);
    expect(answered.body).toEqual({
      session_id: expect.stringMatching(/^ses_/),
      turn_id: expect.any(String),
      nickname: null,
      user_message_id: expect.any(String),
      assistant_message_id: expect.any(String),
      content: ANSWER.join(''),
      selected_model: 'default',
      model: 'default',
      model_shift_from: null,
      cached: false,
      tokens_saved: 0,
      tokens_in: USAGE.prompt_tokens,
      tokens_out: USAGE.completion_tokens,
      cost: expect.any(Number),
    });
    const sessionId = answered.body.session_id;
    const stream = await post('/runtime/api/agent/message/stream', {
      content: 'And again',
      session_id: sessionId,
    });
    expect(stream.status).toBe(200);
    // Unnamed events (the default `message`), as axum's Event::default().data(…) writes them.
    expect(stream.events.every((e: { event?: string }) => e.event === undefined)).toBe(true);
    const events = stream.events.map((e: { data: Json }) => e.data);
    const turnId = events[0].turn_id;
    expect(events[0]).toEqual({
      type: 'stream_start',
      session_id: sessionId,
      turn_id: turnId,
      model: 'default',
    });
    const chunks = events.slice(1, -1);
    for (const chunk of chunks)
      expect(chunk).toEqual({
        type: 'chunk',
        delta: expect.any(String),
        model: 'default',
        finish_reason: null,
      });
    expect(chunks.map((c: Json) => c.delta).join('')).toBe(ANSWER.join(''));
    expect(events.at(-1)).toEqual({
      type: 'stream_end',
      session_id: sessionId,
      turn_id: turnId,
      model: 'default',
      tokens_in: USAGE.prompt_tokens,
      tokens_out: USAGE.completion_tokens,
      cost: expect.any(Number),
      content_length: ANSWER.join('').length,
      content_blocked: false,
    });
    // `message`, the field this route read before Ironclad's `content`, is still understood.
    expect((await api('POST', '/runtime/api/agent/message', { body: { message: 'Hi' } })).status).toBe(200);
    const missing = await api('POST', '/runtime/api/agent/message', { body: {} });
    expect(missing).toMatchObject({ status: 400, body: { error: 'content is required' } });
  });
});
