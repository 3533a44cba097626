/**
 * Contract of the runtime dialect (002) at its mount, against the shapes of Ironclad's own handlers
 * (robot-accomplice/ironclad, crates/ironclad-server/src): each expectation names the file it is
 * written from. The routes' deeper behaviour is in chat, skills, memory, config, runtime-agents tests.
 */
import { CloseSessionDocument } from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let user_: User;
let api: Rest;
beforeAll(async () => {
  t = await startTestPlatform();
  user_ = await t.register('Runtime');
  api = rest(t, user_.credential);
});
afterAll(() => t.close());

/** api/routes/mod.rs security_headers_layer. */
function expectSecurityHeaders(headers: Headers) {
  expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
}

test('GET /api/health: status, version, agent, uptime_seconds, models; no credential needed (health.rs, auth.rs is_exempt)', async () => {
  for (const caller of [rest(t), rest(t, 'not-a-token')]) {
    const { status, headers, body } = await caller('GET', '/runtime/api/health');
    expect(status).toBe(200);
    expectSecurityHeaders(headers);
    expect(body).toEqual({
      status: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      agent: expect.any(String),
      uptime_seconds: expect.any(Number),
      models: { primary: 'default', current: 'default', fallbacks: expect.any(Array) },
    });
  }
});

test('a missing or wrong credential is 401 {"error": "unauthorized", "message"}; x-api-key or Bearer pass (auth.rs)', async () => {
  const none = await rest(t)('GET', '/runtime/api/sessions');
  expect(none).toMatchObject({ status: 401, body: { error: 'unauthorized', message: expect.any(String) } });
  expectSecurityHeaders(none.headers);
  const wrong = await rest(t, 'not-a-token')('GET', '/runtime/api/sessions');
  expect(wrong).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
  const keyed = await rest(t)('GET', '/runtime/api/sessions', {
    headers: { 'x-api-key': user_.credential! },
  });
  expect(keyed.status).toBe(200);
  expect((await api('GET', '/runtime/api/sessions')).status).toBe(200);
});

test('every failure is {"error"} JSON: 404, 405, 415, 400, 413 (mod.rs json_error_layer, DefaultBodyLimit 1 MB)', async () => {
  const cases: [string, string, Parameters<Rest>[2], number][] = [
    ['GET', '/runtime/api/nowhere', {}, 404],
    ['DELETE', '/runtime/api/health', {}, 405],
    ['POST', '/runtime/api/sessions', { raw: 'a=b', headers: { 'content-type': 'text/plain' } }, 415],
    [
      'POST',
      '/runtime/api/sessions',
      { raw: '{"title": ', headers: { 'content-type': 'application/json' } },
      400,
    ],
    [
      'POST',
      '/runtime/api/sessions',
      {
        raw: JSON.stringify({ title: 'x'.repeat(1024 * 1024) }),
        headers: { 'content-type': 'application/json' },
      },
      413,
    ],
  ];
  for (const [method, path, options, status] of cases) {
    const answer = await api(method, path, options);
    expect({ method, path, status: answer.status, body: answer.body }).toEqual({
      method,
      path,
      status,
      body: { error: expect.any(String) },
    });
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expectSecurityHeaders(answer.headers);
    // Sanitised: nothing of the platform's internals.
    expect(answer.text).not.toMatch(/SELECT|INSERT|\/work\/|node_modules|at \w+ \(/);
  }
});

/** api/routes/sessions.rs create_session / get_session / list_sessions. */
const SESSION = {
  id: expect.stringMatching(/^ses_/),
  agent_id: null,
  scope_key: null,
  status: 'active',
  model: expect.any(String),
  nickname: 'Contract',
  created_at: ISO,
  updated_at: ISO,
  metadata: null,
};

test('sessions: create answers the full session (200), get and list answer the same fields (sessions.rs)', async () => {
  const created = await api('POST', '/runtime/api/sessions', { body: { title: 'Contract' } });
  expect(created).toMatchObject({ status: 200, body: SESSION });
  const { id } = created.body;
  expect((await api('GET', `/runtime/api/sessions/${id}`)).body).toEqual({ ...SESSION, id });
  const list = await api('GET', '/runtime/api/sessions?limit=5');
  expect(Object.keys(list.body)).toEqual(['sessions']);
  expect(list.body.sessions).toContainEqual({ ...SESSION, id });
  expect((await api('GET', '/runtime/api/sessions/ses_unknown')).body).toEqual({
    error: expect.stringContaining('not found'),
  });
});

test('messages: {messages: [{id, session_id, parent_id, role, content, usage_json, created_at}]}; an unknown session has none (sessions.rs list_messages)', async () => {
  const { id } = (await api('POST', '/runtime/api/sessions', { body: { title: 'Contract' } })).body;
  expect(await api('GET', `/runtime/api/sessions/${id}/messages`)).toMatchObject({
    status: 200,
    body: { messages: [] },
  });
  expect(await api('GET', '/runtime/api/sessions/ses_unknown/messages')).toMatchObject({
    status: 200,
    body: { messages: [] },
  });
  // Another account's session reads as unknown: nothing of it is shown.
  const stranger = await t.register('Stranger');
  expect((await rest(t, stranger.credential)('GET', `/runtime/api/sessions/${id}/messages`)).body).toEqual({
    messages: [],
  });
});

test('POST /api/sessions/:id/messages appends {role, content} without a turn and answers {message_id} (sessions.rs post_message; routes/mod.rs post_message_* tests)', async () => {
  const { id } = (await api('POST', '/runtime/api/sessions', { body: { title: 'Contract' } })).body;
  const user = await api('POST', `/runtime/api/sessions/${id}/messages`, {
    body: { role: 'user', content: '  Written elsewhere  ' },
  });
  expect(user).toMatchObject({ status: 200, body: { message_id: expect.stringMatching(/^msg_/) } });
  expect(Object.keys(user.body)).toEqual(['message_id']);
  const assistant = await api('POST', `/runtime/api/sessions/${id}/messages`, {
    body: { role: 'assistant', content: 'And answered there' },
  });
  expect(assistant.status).toBe(200);
  const { messages } = (await api('GET', `/runtime/api/sessions/${id}/messages`)).body;
  expect(
    messages.map((m: { id: string; role: string; content: string }) => [m.id, m.role, m.content]),
  ).toEqual([
    [user.body.message_id, 'user', 'Written elsewhere'],
    [assistant.body.message_id, 'assistant', 'And answered there'],
  ]);
  // No turn was started for either.
  expect((await api('GET', `/runtime/api/sessions/${id}/turns`)).body).toMatchObject({ turns: [], total: 0 });

  const refused = {
    badRole: await api('POST', `/runtime/api/sessions/${id}/messages`, {
      body: { role: 'system', content: 'x' },
    }),
    noRole: await api('POST', `/runtime/api/sessions/${id}/messages`, { body: { content: 'x' } }),
    empty: await api('POST', `/runtime/api/sessions/${id}/messages`, {
      body: { role: 'user', content: '  ' },
    }),
    tooLong: await api('POST', `/runtime/api/sessions/${id}/messages`, {
      body: { role: 'user', content: 'x'.repeat(32_001) },
    }),
    unknown: await api('POST', '/runtime/api/sessions/ses_unknown/messages', {
      body: { role: 'user', content: 'x' },
    }),
    foreign: await rest(t, (await t.register('Intruder')).credential)(
      'POST',
      `/runtime/api/sessions/${id}/messages`,
      {
        body: { role: 'user', content: 'x' },
      },
    ),
  };
  expect(
    Object.fromEntries(Object.entries(refused).map(([k, r]) => [k, [r.status, typeof r.body.error]])),
  ).toEqual({
    badRole: [400, 'string'],
    noRole: [400, 'string'],
    empty: [400, 'string'],
    tooLong: [400, 'string'],
    unknown: [404, 'string'],
    foreign: [404, 'string'],
  });
  // Nothing was written by the refusals.
  expect((await api('GET', `/runtime/api/sessions/${id}/messages`)).body.messages).toHaveLength(2);

  // A closed session takes no more messages (as no more turns).
  await user_.data(CloseSessionDocument, { id });
  const closed = await api('POST', `/runtime/api/sessions/${id}/messages`, {
    body: { role: 'user', content: 'x' },
  });
  expect(closed).toMatchObject({ status: 409, body: { error: expect.stringContaining('closed') } });
});
