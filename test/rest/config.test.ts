/**
 * The platform settings store over REST (001's /api/config routes, 002's PUT, capabilities and
 * status): secrets redacted on read, dot-notation keys, validation, admin-only writes, and a live
 * setting reaching chat on a second platform on the same database through the pub/sub.
 */
import { createPubSub, loadConfig, SETTINGS_TOPIC, type PubSub } from '../../lib';
import { startPlatform, type Platform } from '../../launcher/platform';
import {
  CONFIGURED_KEY,
  DOUBLE_MODELS,
  startLlmDouble,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let user: Rest;
let admin: Rest;
let adminId: string;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double);
  t = await startTestPlatform();
  user = rest(t, (await t.register('Ada')).credential);
  const boss = await registerAdmin(t);
  admin = rest(t, boss.credential);
  adminId = await meOf(boss.credential!);
});
afterAll(async () => {
  await t.close();
  await double.close();
});

async function meOf(credential: string): Promise<string> {
  const response = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
  return ((await response.json()) as { data: { me: { id: string } } }).data.me.id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits up to 5 s for `ready`. */
async function until(ready: () => boolean | Promise<boolean>, failure: string) {
  for (const deadline = Date.now() + 5000; !(await ready()); await sleep(50))
    if (Date.now() > deadline) throw new Error(failure);
}

const settingOf = (body: { settings: { key: string }[] }, key: string) =>
  body.settings.find((s) => s.key === key);

describe('GET /api/config', () => {
  test('every known setting, as a tree and a list; secrets redacted, token counts not', async () => {
    const { status, body, text } = await user('GET', '/api/config');
    expect(status).toBe(200);
    expect(text).not.toContain(CONFIGURED_KEY);
    expect(body).toMatchObject({ model: 'default', provider: 'default', temperature: 0.7, max_tokens: 4096 });
    expect(body.config.llm).toMatchObject({ api_key: '***', base_url: double.url, timeout_ms: 2000 });
    expect(body.config.model).toEqual({ default: 'default', temperature: 0.7, max_tokens: 4096 });
    expect(settingOf(body, 'llm.api_key')).toMatchObject({ secret: true, value: '***', live: false });
    expect(settingOf(body, 'model.max_tokens')).toMatchObject({
      secret: false,
      value: 4096,
      default: 4096,
      type: 'integer',
      minimum: 1,
      maximum: 100000,
      source: 'default',
      live: true,
      restart_required: false,
      env: 'BILLING_MAX_COMPLETION_TOKENS',
    });
    expect(settingOf(body, 'rate_limit.per_minute')).toMatchObject({
      source: 'environment',
      restart_required: true,
    });
    expect((await rest(t)('GET', '/api/config')).status).toBe(401);
  });
});

describe('POST /api/config', () => {
  test('a dot-notation key is set and read back; null resets it to its default', async () => {
    const set = await admin('POST', '/api/config', { body: { key: 'model.temperature', value: 1.1 } });
    expect(set).toMatchObject({
      status: 200,
      body: { updated: true, key: 'model.temperature', value: 1.1, live: true, restart_required: false },
    });
    const { body } = await user('GET', '/api/config');
    expect(body.config.model.temperature).toBe(1.1);
    expect(settingOf(body, 'model.temperature')).toMatchObject({
      source: 'stored',
      default: 0.7,
      updated_by: adminId,
      updated_at: expect.any(String),
    });
    const reset = await admin('POST', '/api/config', { body: { key: 'model.temperature', value: null } });
    expect(reset.body).toMatchObject({ updated: true, value: 0.7 });
    expect(settingOf((await user('GET', '/api/config')).body, 'model.temperature')).toMatchObject({
      source: 'default',
    });
  });

  test.each([
    [{ key: 'model.colour', value: 1 }, /model.colour is not a setting/],
    [{ key: 'model.temperature', value: 'hot' }, /model.temperature must be a number/],
    [{ key: 'model.temperature', value: 3 }, /model.temperature must be from 0 to 2/],
    [{ key: 'model.max_tokens', value: 1.5 }, /model.max_tokens must be an integer/],
    [{ key: 'model.default', value: 'no spaces allowed' }, /model name/],
    [{ key: 'llm.timeout_ms', value: 1000 }, /LLM_TIMEOUT_MS .*restart/],
    [{ key: 'model.default' }, /value is required/],
    [{ value: 1 }, /key is required/],
  ])('%j is refused with 422 and a detail', async (body, detail) => {
    const refused = await admin('POST', '/api/config', { body });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ detail: expect.stringMatching(detail) });
  });

  test('only admins write: 403 with a detail, and nothing changes', async () => {
    const refused = await user('POST', '/api/config', { body: { key: 'model.temperature', value: 0.1 } });
    expect(refused).toMatchObject({ status: 403, body: { detail: expect.stringContaining('admin') } });
    const put = await user('PUT', '/runtime/api/config', { body: { model: { temperature: 0.1 } } });
    expect(put).toMatchObject({ status: 403, body: { error: expect.stringContaining('admin') } });
    expect((await user('GET', '/api/config')).body.config.model.temperature).toBe(0.7);
  });

  test('a batch with one bad value changes nothing (PATCH and 002’s PUT)', async () => {
    const patch = await admin('PATCH', '/api/config', {
      body: { model: { temperature: 0.2 }, 'breaker.failures': 0 },
    });
    expect(patch).toMatchObject({
      status: 422,
      body: { detail: expect.stringContaining('breaker.failures') },
    });
    const put = await admin('PUT', '/runtime/api/config', {
      body: { model: { temperature: 0.2, max_tokens: -1 } },
    });
    expect(put).toMatchObject({ status: 400, body: { error: expect.stringContaining('model.max_tokens') } });
    expect((await user('GET', '/api/config')).body.config.model.temperature).toBe(0.7);
    const ok = await admin('PUT', '/runtime/api/config', {
      body: { breaker: { failures: 7, cooldown_seconds: 60 } },
    });
    expect(ok.body).toMatchObject({ updated: ['breaker.failures', 'breaker.cooldown_seconds'] });
    const status = await user('GET', '/runtime/api/config/status');
    expect(status.body.applied.map((a: { key: string }) => a.key).sort()).toEqual([
      'breaker.cooldown_seconds',
      'breaker.failures',
    ]);
    expect(status.body.restart_required).toContain('llm.base_url');
    const capabilities = await user('GET', '/runtime/api/config/capabilities');
    expect(capabilities.body).toMatchObject({ capabilities: { chat: true, config_live_reload: true } });
    expect(capabilities.body.live_settings).toContain('model.default');
    await admin('PATCH', '/api/config', { body: { breaker: { failures: null, cooldown_seconds: null } } });
  });
});

describe('live settings reach every replica', () => {
  let second: Platform;
  let listener: PubSub;
  const announced: unknown[] = [];
  let stopListening: () => unknown;
  beforeAll(async () => {
    // A second platform (router and six subgraphs) on the same database and pub/sub.
    second = await startPlatform({
      config: loadConfig({ PORT: '0', RATE_LIMIT_PER_MINUTE: '1000000' }),
      databaseUrl: t.databaseUrl,
      supergraph: t.supergraph,
      secrets: t.secrets,
      log: t.log,
    });
    // The transport both platforms use (their configuration names no Redis): LISTEN/NOTIFY.
    listener = createPubSub({ databaseUrl: t.databaseUrl, log: t.log });
    const subscription = listener.subscribe(SETTINGS_TOPIC);
    stopListening = () => subscription.return?.();
    void (async () => {
      for await (const message of subscription) announced.push(message);
    })();
    // SUBSCRIBE takes effect a moment later: announce (nothing changed) until one comes through.
    for (let tries = 0; !announced.length && tries < 50; tries++) {
      await listener.publish(SETTINGS_TOPIC, { keys: [] });
      await sleep(100);
    }
    await sleep(200);
    announced.length = 0;
  });
  afterAll(async () => {
    await stopListening();
    await listener.close();
    await second.close();
  });

  test('POST /api/config/model on one platform: chat on the other uses the new model and limits', async () => {
    const [model] = DOUBLE_MODELS.slice(1);
    const changed = await admin('POST', '/api/config/model', {
      body: { model, temperature: 0.4, max_tokens: 99 },
    });
    expect(changed).toMatchObject({
      status: 200,
      body: { updated: true, model, temperature: 0.4, max_tokens: 99 },
    });
    // The announcement crossed to another connection of the pub/sub.
    const ours = { keys: ['model.default', 'model.temperature', 'model.max_tokens'] };
    await until(() => announced.length > 0, 'no announcement came');
    expect(announced).toEqual([ours]);

    // The second platform's sessions subgraph reloads it without a restart.
    const other = `${second.router.url}`;
    await until(async () => {
      const models = (await (await fetch(`${other}/v1/models`)).json()) as { data: { id: string }[] };
      return models.data[0].id === model;
    }, 'the second platform never took the new default model');
    const credential = (await t.register('Replica user')).credential!;
    const answered = await fetch(`${other}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'which model?' }] }),
    });
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { model: string }).model).toBe(model);
    expect(double.requests.at(-1)).toMatchObject({ model, body: { temperature: 0.4, max_tokens: 99 } });
    expect((await user('GET', '/api/config/model')).body).toEqual({
      model,
      provider: 'default',
      temperature: 0.4,
      max_tokens: 99,
    });
  });
});
