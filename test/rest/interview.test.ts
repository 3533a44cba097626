/**
 * The setup interview (002's /api/interview/*, shapes and statuses from Ironclad's
 * crates/ironclad-server/src/api/routes/interview.rs and its tests in routes/mod.rs): a conversation
 * through the upstream double that proposes a configuration, refused proposals the interview goes on
 * after, and a finish that applies it through the settings store, then read by GET /api/config.
 */
import { INTERVIEW_MODEL, INTERVIEW_QUESTION, startLlmDouble, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;
let admin: Client;
let asAdmin: Rest;
let asAda: Rest;

const API = '/runtime/api/interview';

beforeAll(async () => {
  double = await startLlmDouble();
  Object.assign(process.env, {
    // The double serves the interview's model only: the default model has no upstream.
    LLM_PROVIDERS: JSON.stringify([
      { name: 'double', baseUrl: double.url, models: ['interview-*', 'error-500'] },
    ]),
    // A failing upstream in one test must not open the breaker for the others.
    LLM_BREAKER_FAILURES: '100',
    LLM_DEFAULT_MODEL: 'unserved-default',
    LLM_TIMEOUT_MS: '2000',
  });
  t = await startTestPlatform();
  [ada, stranger, admin] = [await t.register('Ada'), await t.register('Stranger'), await registerAdmin(t)];
  asAdmin = rest(t, admin.credential);
  asAda = rest(t, ada.credential);
});
afterAll(async () => {
  await t.close();
  await double.close();
});

/** The value of a setting as GET /api/config reads it. */
async function configured(key: string): Promise<unknown> {
  const { status, body } = await asAdmin('GET', '/runtime/api/config');
  expect(status).toBe(200);
  return (body.settings as { key: string; value: unknown }[]).find((s) => s.key === key)?.value;
}

const start = (api: Rest, body: Record<string, unknown>) =>
  api('POST', `${API}/start`, { body: { model: INTERVIEW_MODEL, ...body } });
const turn = (api: Rest, session_key: string, content: string) =>
  api('POST', `${API}/turn`, { body: { session_key, content } });
const finish = (api: Rest, session_key: string) => api('POST', `${API}/finish`, { body: { session_key } });

describe('an interview from start to an applied configuration', () => {
  test('start → question → refused proposals → valid proposal → finish → visible in GET /api/config', async () => {
    const before = await configured('model.temperature');
    expect(before).not.toBe(0.3);

    const started = await start(asAdmin, { session_key: 'setup-1' });
    expect(started.status).toBe(200);
    expect(started.body).toEqual({
      session_key: 'setup-1',
      status: 'started',
      opening: expect.any(String),
      model: INTERVIEW_MODEL,
    });
    // Ironclad: a key in progress is a 409 naming it "already in progress".
    const again = await start(asAdmin, { session_key: 'setup-1' });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain('already in progress');

    const asked = await turn(asAdmin, 'setup-1', 'I run a support desk');
    expect(asked.status).toBe(200);
    // Ironclad counts the turn as the history's length: system prompt, question, answer.
    expect(asked.body).toEqual({
      session_key: 'setup-1',
      content: INTERVIEW_QUESTION,
      turn: 3,
      proposal: null,
    });
    // The upstream saw the setup prompt first, naming the settings it may propose.
    const seen = double.requests.at(-1)!;
    expect(seen.model).toBe(INTERVIEW_MODEL);
    expect(seen.messages[0].role).toBe('system');
    expect(seen.messages[0].content).toContain('model.temperature');
    expect(seen.messages.at(-1)).toEqual({ role: 'user', content: 'I run a support desk' });

    // Not JSON: the interview says so and goes on; the LLM is told why on the next turn.
    const broken = await turn(asAdmin, 'setup-1', 'propose-broken');
    expect(broken.status).toBe(200);
    expect(broken.body.proposal).toEqual({
      status: 'invalid',
      settings: {},
      errors: [expect.stringContaining('not valid JSON')],
    });
    expect(broken.body.turn).toBe(6); // question, answer and the note of refusal
    const early = await finish(asAdmin, 'setup-1');
    expect(early.status).toBe(422);
    expect(early.body.error).toContain('invalid');

    // Unknown keys and out-of-range values, each named.
    const unknown = await turn(asAdmin, 'setup-1', 'propose-unknown');
    expect(unknown.status).toBe(200);
    expect(double.requests.at(-1)!.messages.at(-2)).toEqual({
      role: 'system',
      content: expect.stringContaining('refused: the proposal is not valid JSON'),
    });
    expect(unknown.body.proposal.status).toBe('invalid');
    expect(unknown.body.proposal.errors).toEqual([
      expect.stringContaining('model.colour is not a setting'),
      expect.stringContaining('model.temperature must be from 0 to 2'),
    ]);
    expect(await configured('model.temperature')).toEqual(before);

    const valid = await turn(asAdmin, 'setup-1', 'propose-valid');
    expect(valid.status).toBe(200);
    expect(valid.body.proposal).toEqual({
      status: 'valid',
      settings: { 'model.temperature': 0.3, 'model.max_tokens': 2048 },
      errors: [],
    });

    const finished = await finish(asAdmin, 'setup-1');
    expect(finished.status).toBe(200);
    expect(finished.body).toEqual({
      session_key: 'setup-1',
      status: 'applied',
      settings_applied: 2,
      applied: { 'model.temperature': 0.3, 'model.max_tokens': 2048 },
    });
    expect(await configured('model.temperature')).toBe(0.3);
    expect(await configured('model.max_tokens')).toBe(2048);

    // Once only: finishing or answering a finished interview is a conflict.
    expect((await finish(asAdmin, 'setup-1')).status).toBe(409);
    expect((await turn(asAdmin, 'setup-1', 'more')).status).toBe(409);
  });

  test('two finishes at once apply it once: one 200, one 409', async () => {
    expect((await start(asAdmin, { session_key: 'race' })).status).toBe(200);
    expect((await turn(asAdmin, 'race', 'propose-valid')).body.proposal.status).toBe('valid');
    const statuses = (await Promise.all([finish(asAdmin, 'race'), finish(asAdmin, 'race')])).map(
      (r) => r.status,
    );
    expect(statuses.sort()).toEqual([200, 409]);
  });

  test('without session_key a new key is made; finish before any proposal is 422', async () => {
    const started = await start(asAda, {});
    expect(started.status).toBe(200);
    expect(started.body.session_key).toMatch(/^[0-9a-f-]{36}$/);
    const early = await finish(asAda, started.body.session_key);
    expect(early.status).toBe(422);
    expect(early.body.error).toContain('no configuration proposal');
  });
});

describe('who may', () => {
  test("another account's interview is not found, for turns and finish alike", async () => {
    expect((await start(asAdmin, { session_key: 'private' })).status).toBe(200);
    const asStranger = rest(t, stranger.credential);
    for (const response of [
      await turn(asStranger, 'private', 'hello'),
      await finish(asStranger, 'private'),
    ]) {
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: 'no interview session found' });
    }
    // The same key is the stranger's own to use.
    expect((await start(asStranger, { session_key: 'private' })).status).toBe(200);
  });

  test('a valid proposal is applied by admins only; a user’s finish changes nothing', async () => {
    expect((await start(asAda, { session_key: 'mine' })).status).toBe(200);
    const valid = await turn(asAda, 'mine', 'propose-valid');
    expect(valid.body.proposal.status).toBe('valid');
    const before = await configured('model.max_tokens');
    const refused = await finish(asAda, 'mine');
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain('admin');
    expect(await configured('model.max_tokens')).toEqual(before);
    // Still active: an admin's own interview is the way to apply it; Ada may keep talking.
    expect((await turn(asAda, 'mine', 'hello')).status).toBe(200);
  });

  test('anonymous callers are refused', async () => {
    expect((await rest(t)('POST', `${API}/start`, { body: {} })).status).toBe(401);
  });
});

describe('bad input and no upstream', () => {
  test('no upstream for the model: a clear 503, and the interview is left as it was', async () => {
    const started = await asAda('POST', `${API}/start`, { body: { session_key: 'offline' } });
    expect(started.body.model).toBe('unserved-default');
    const refused = await turn(asAda, 'offline', 'hello');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toContain('no upstream LLM serves model unserved-default');
    const early = await finish(asAda, 'offline');
    expect(early.status).toBe(422);
  });

  test('an upstream that fails is a 502 (Ironclad: "LLM call failed"), and the turn is not kept', async () => {
    expect((await start(asAda, { session_key: 'failing', model: 'error-500' })).status).toBe(200);
    const failed = await turn(asAda, 'failing', 'hello');
    expect(failed.status).toBe(502);
    expect(failed.body.error).toContain('LLM call failed');
    expect((await finish(asAda, 'failing')).status).toBe(422);
  });

  test('missing, empty, unsafe or overlong fields are 400; unknown keys 404', async () => {
    expect((await start(asAda, { session_key: 'checks' })).status).toBe(200);
    for (const body of [
      { session_key: 'checks' },
      { content: 'hello' },
      { session_key: 'checks', content: '  ' },
      { session_key: 'checks', content: 'nul\u0000' },
      { session_key: 'checks', content: 'x'.repeat(8001) },
    ]) {
      const response = await asAda('POST', `${API}/turn`, { body });
      expect(response.status).toBe(400);
      expect(typeof response.body.error).toBe('string');
    }
    for (const session_key of ['', 'spaces are not keys', 'k'.repeat(101)])
      expect((await asAda('POST', `${API}/start`, { body: { session_key } })).status).toBe(400);
    expect((await start(asAda, { model: 'not a model!' })).status).toBe(400);
    const missing = await turn(asAda, 'nonexistent', 'hello');
    expect(missing.status).toBe(404);
    expect((await finish(asAda, 'nonexistent')).status).toBe(404);
  });
});
