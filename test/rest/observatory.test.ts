/**
 * 002's observatory and statistics over the hermes dialect: efficiency and hourly usage against a
 * seeded history (expected figures computed here from the seed), heuristic insights and
 * recommendations, analyses through the upstream double (valid, invalid and no JSON, no upstream),
 * turn audits, nickname backfill, Anthropic's model list, and ownership of each.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import { createLogger } from '../../lib';
import { ChatDocument, CreateApiKeyDocument, StartSessionDocument } from '../generated/graphql';
import { ANALYSIS, DOUBLE_MODELS, startLlmDouble, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { ISO, rest, type Rest } from './support';

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let stranger: User;
let admin: Client;
let api: Rest;
let db: pg.Client;

/** The upstream serves only these; the default model is served by none (analysis then answers 503). */
const SERVED = ['double-*', 'analysis-*', 'error-500'];
const UNSERVED_DEFAULT = 'unserved-default';

beforeAll(async () => {
  double = await startLlmDouble();
  Object.assign(process.env, {
    LLM_PROVIDERS: JSON.stringify([{ name: 'double', baseUrl: double.url, models: SERVED }]),
    LLM_DEFAULT_MODEL: UNSERVED_DEFAULT,
    LLM_TIMEOUT_MS: '2000',
  });
  t = await startTestPlatform();
  [ada, stranger, admin] = [await t.register('Ada'), await t.register('Stranger'), await registerAdmin(t)];
  api = rest(t, ada.credential);
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db.end();
  await t.close();
  await double.close();
});

interface SeededTurn {
  model: string;
  status: 'COMPLETE' | 'FAILED';
  prompt: number;
  completion: number;
  costMicroUsd: number;
  latencyMs: number | null;
  firstTokenMs: number | null;
  /** How long ago it started, as a PostgreSQL interval. */
  age: string;
}

let seeded = 0;

/** Writes a finished turn (and its user message) as the chat would have recorded it; answers its start. */
async function seedTurn(
  owner: User,
  sessionId: string,
  turn: SeededTurn,
): Promise<{ id: string; createdAt: Date }> {
  const id = `turn_seed${++seeded}`;
  await db.query(
    `insert into "sessions"."message" ("id", "session_id", "role", "content") values ($1, $2, 'USER', 'seeded')`,
    [`msg_seed${seeded}`, sessionId],
  );
  const { rows } = await db.query<{ created_at: Date }>(
    `insert into "sessions"."turn" ("id", "session_id", "owner_id", "user_message_id", "provider", "model",
       "model_reason", "context", "status", "prompt_tokens", "completion_tokens", "cost_micro_usd",
       "latency_ms", "first_token_latency_ms", "error_code", "created_at", "finished_at")
     values ($1, $2, $3, $4, 'double', $5, 'seeded', '[]', $6, $7, $8, $9, $10, $11, $12,
             now() - $13::interval, now() - $13::interval)
     returning "created_at"`,
    [
      id,
      sessionId,
      owner.id,
      `msg_seed${seeded}`,
      turn.model,
      turn.status,
      turn.prompt,
      turn.completion,
      turn.costMicroUsd,
      turn.latencyMs,
      turn.firstTokenMs,
      turn.status === 'FAILED' ? 'UPSTREAM_ERROR' : null,
      turn.age,
    ],
  );
  return { id, createdAt: rows[0].created_at };
}

const newSession = async (owner: User, title?: string) =>
  (await owner.data(StartSessionDocument, { input: { title } })).startSession.id;

const answeredTurn = async (owner: User = ada) =>
  (await owner.data(ChatDocument, { input: { content: 'Explain the observatory', model: 'double-1' } })).chat;

describe('statistics of a seeded history', () => {
  const HISTORY: SeededTurn[] = [
    {
      model: 'm-a',
      status: 'COMPLETE',
      prompt: 100,
      completion: 40,
      costMicroUsd: 1500,
      latencyMs: 200,
      firstTokenMs: 50,
      age: '10 minutes',
    },
    {
      model: 'm-a',
      status: 'COMPLETE',
      prompt: 600,
      completion: 60,
      costMicroUsd: 2500,
      latencyMs: 400,
      firstTokenMs: 70,
      age: '2 hours 10 minutes',
    },
    {
      model: 'm-b',
      status: 'FAILED',
      prompt: 300,
      completion: 0,
      costMicroUsd: 0,
      latencyMs: null,
      firstTokenMs: null,
      age: '3 days',
    },
    {
      model: 'm-b',
      status: 'COMPLETE',
      prompt: 50,
      completion: 10,
      costMicroUsd: 700,
      latencyMs: 100,
      firstTokenMs: 20,
      age: '10 days',
    },
  ];
  const DAY = 86_400_000;
  let owner: User;
  let stats: Rest;
  let turns: (SeededTurn & { createdAt: Date })[];

  beforeAll(async () => {
    owner = await t.register('Stats');
    stats = rest(t, owner.credential);
    const sessionId = await newSession(owner, 'history');
    turns = [];
    for (const turn of HISTORY) turns.push({ ...turn, ...(await seedTurn(owner, sessionId, turn)) });
    // Another account's turn of the same model, now: never in the owner's figures.
    await seedTurn(stranger, await newSession(stranger), { ...HISTORY[0], prompt: 9999 });
  });

  /** What efficiency must say of the turns younger than `days`, computed from the seed. */
  function expectedEfficiency(days: number, only?: string) {
    const window = turns.filter((x) => Date.now() - x.createdAt.getTime() < days * DAY);
    const models = [...new Set(window.map((x) => x.model))].filter((m) => !only || m === only);
    const mean = (values: (number | null)[]) => {
      const known = values.filter((v): v is number => v !== null);
      return known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
    };
    return Object.fromEntries(
      models.map((model) => {
        const of = window.filter((x) => x.model === model);
        const cost = of.reduce((sum, x) => sum + x.costMicroUsd, 0) / 1e6;
        const failed = of.filter((x) => x.status === 'FAILED').length;
        const tokensOut = of.reduce((sum, x) => sum + x.completion, 0);
        return [
          model,
          {
            model,
            total_turns: of.length,
            failed_turns: failed,
            failure_rate: failed / of.length,
            tokens_in: of.reduce((sum, x) => sum + x.prompt, 0),
            tokens_out: tokensOut,
            cost: {
              total: cost,
              effective_per_turn: cost / of.length,
              per_output_token: tokensOut ? cost / tokensOut : 0,
            },
            avg_latency_ms: mean(of.map((x) => x.latencyMs)),
            avg_first_token_ms: mean(of.map((x) => x.firstTokenMs)),
          },
        ];
      }),
    );
  }

  test('efficiency per model over 7 and 30 days, one model, and a refused period', async () => {
    const week = await stats('GET', '/runtime/api/stats/efficiency');
    expect(week.status).toBe(200);
    expect(week.body).toMatchObject({ period: '7d', since: ISO, models: expectedEfficiency(7) });
    expect(Object.keys(week.body.models).sort()).toEqual(['m-a', 'm-b']);
    expect(week.body.totals).toEqual({
      total_cost: 0.004,
      total_turns: 3,
      failed_turns: 1,
      most_expensive_model: 'm-a',
    });

    const month = await stats('GET', '/runtime/api/stats/efficiency?period=30d');
    expect(month.body.models).toEqual(expectedEfficiency(30));
    expect(month.body.models['m-b'].total_turns).toBe(2);

    const one = await stats('GET', '/runtime/api/stats/efficiency?period=30d&model=m-b');
    expect(one.body.models).toEqual(expectedEfficiency(30, 'm-b'));

    for (const period of ['7 days', '0d', '91d', 'x'])
      expect(
        await stats('GET', `/runtime/api/stats/efficiency?period=${encodeURIComponent(period)}`),
      ).toMatchObject({
        status: 400,
        body: { error: expect.stringContaining('period') },
      });
  });

  test('hourly series: each seeded turn in its hour, empty hours zero, sessions counted', async () => {
    const series = await stats('GET', '/runtime/api/stats/timeseries?hours=6');
    expect(series.status).toBe(200);
    expect(series.body.hours).toBe(6);
    const starts: string[] = series.body.starts;
    expect(starts).toHaveLength(6);
    expect(series.body.labels).toEqual(starts.map((s) => s.slice(11, 16)));
    const hourOf = (d: Date) => new Date(Math.floor(d.getTime() / 3_600_000) * 3_600_000).toISOString();
    const { rows: sessions } = await db.query<{ started_at: Date }>(
      `select "started_at" from "sessions"."session" where "owner_id" = $1`,
      [owner.id],
    );
    const expected = starts.map((start) => {
      const of = turns.filter((x) => hourOf(x.createdAt) === start);
      return {
        cost: of.reduce((sum, x) => sum + x.costMicroUsd, 0) / 1e6,
        tokens: of.reduce((sum, x) => sum + x.prompt + x.completion, 0),
        requests: of.length,
        sessions: sessions.filter((s) => hourOf(s.started_at) === start).length,
        latency: of.length ? (of[0].latencyMs ?? 0) : 0,
      };
    });
    expect(series.body.series).toEqual({
      cost_per_hour: expected.map((e) => e.cost),
      tokens_per_hour: expected.map((e) => e.tokens),
      requests_per_hour: expected.map((e) => e.requests),
      sessions_per_hour: expected.map((e) => e.sessions),
      latency_p50_ms: expected.map((e) => e.latency),
    });
    expect(expected.reduce((sum, e) => sum + e.requests, 0)).toBe(2);

    expect(await stats('GET', '/runtime/api/stats/timeseries?hours=169')).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('hours') },
    });
    expect((await rest(t)('GET', '/runtime/api/stats/timeseries')).status).toBe(401);
  });

  test('recommendations read the same figures: a model that always failed comes first', async () => {
    const advice = await stats('GET', '/runtime/api/recommendations?period=7d');
    expect(advice.status).toBe(200);
    expect(advice.body).toEqual({
      period: '7d',
      profile: { models: expectedEfficiency(7) },
      recommendations: [
        {
          code: 'HIGH_FAILURE_RATE',
          priority: 1,
          title: 'm-b fails often',
          suggestion: expect.stringContaining('1 of 1 turns failed'),
        },
      ],
      count: 1,
    });
    expect((await stats('GET', '/runtime/api/recommendations?period=1h')).body.recommendations).toEqual([]);
  });
});

describe('insights and analyses', () => {
  test('session insights are heuristic (no upstream needed), follow grades, and are the owner’s only', async () => {
    const sessionId = await newSession(ada, 'insights');
    const base = { model: 'double-1', completion: 10, costMicroUsd: 100, latencyMs: 100, firstTokenMs: 10 };
    await seedTurn(ada, sessionId, { ...base, status: 'COMPLETE', prompt: 100, age: '2 minutes' });
    const failed = await seedTurn(ada, sessionId, {
      ...base,
      status: 'FAILED',
      prompt: 500,
      age: '1 minute',
    });

    const first = await api('GET', `/runtime/api/sessions/${sessionId}/insights`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ session_id: sessionId, turn_count: 2, insight_count: 4 });
    expect(first.body.insights.map((i: { code: string }) => i.code)).toEqual([
      'HIGH_FAILURE_RATE',
      'CONTEXT_GROWTH',
      'NO_FEEDBACK',
      'ANSWER_INCOMPLETE',
    ]);
    expect(first.body.insights[1].message).toContain('from 100 to 500 tokens');

    expect(
      (await api('POST', `/runtime/api/turns/${failed.id}/feedback`, { body: { grade: 1 } })).status,
    ).toBe(200);
    const graded = await api('GET', `/runtime/api/sessions/${sessionId}/insights`);
    expect(graded.body.insights.map((i: { code: string }) => i.code)).toContain('LOW_GRADES');
    expect(graded.body.insights.map((i: { code: string }) => i.code)).not.toContain('NO_FEEDBACK');

    const foreign = await rest(t, stranger.credential)('GET', `/runtime/api/sessions/${sessionId}/insights`);
    expect(foreign).toMatchObject({ status: 404, body: { error: expect.stringContaining('not found') } });
    expect(
      (await rest(t, stranger.credential)('POST', `/runtime/api/sessions/${sessionId}/analyze`, { body: {} }))
        .status,
    ).toBe(404);
  });

  test('a turn analysed from valid JSON; its data reaches the upstream as data', async () => {
    const turn = await answeredTurn();
    const analysed = await api('POST', `/runtime/api/turns/${turn.id}/analyze`, {
      body: { model: 'analysis-valid' },
    });
    expect(analysed.status).toBe(200);
    expect(analysed.body).toEqual({
      turn_id: turn.id,
      status: 'complete',
      heuristic_tips: expect.any(Array),
      analysis: ANALYSIS,
      analysis_model: 'analysis-valid',
      tokens_in: 12,
      tokens_out: 4,
    });
    const asked = double.requests.at(-1)!;
    expect(asked.model).toBe('analysis-valid');
    expect(asked.messages[0]).toMatchObject({
      role: 'system',
      content: expect.stringContaining('JSON only'),
    });
    expect(asked.messages[1].content).toContain(`"promptTokens": ${turn.promptTokens}`);
  });

  test('an answer that is not the expected JSON is a 502, no upstream a 503; never a 500', async () => {
    const turn = await answeredTurn();
    const analyze = (model?: string) =>
      api('POST', `/runtime/api/turns/${turn.id}/analyze`, { body: model ? { model } : {} });
    expect(await analyze('double-1')).toMatchObject({
      status: 502,
      body: { error: 'the upstream LLM answered without a usable analysis: not JSON' },
    });
    expect(await analyze('analysis-wrong-shape')).toMatchObject({
      status: 502,
      body: { error: expect.stringMatching(/usable analysis: risk/) },
    });
    expect(await analyze('analysis-empty')).toMatchObject({
      status: 502,
      body: { error: 'the upstream LLM answered without a usable analysis: an empty answer' },
    });
    expect(await analyze()).toMatchObject({
      status: 503,
      body: { error: `no upstream LLM serves model ${UNSERVED_DEFAULT}; analysis needs one` },
    });
    expect(await analyze('error-500')).toMatchObject({
      status: 503,
      body: { error: expect.stringContaining('the upstream LLM did not answer') },
    });
    const foreign = await rest(t, stranger.credential)('POST', `/runtime/api/turns/${turn.id}/analyze`, {
      body: { model: 'analysis-valid' },
    });
    expect(foreign).toMatchObject({ status: 404, body: { error: expect.any(String) } });
  });

  test('a session analysed, and recommendations generated, through the upstream', async () => {
    const turn = await answeredTurn();
    const session = await api('POST', `/runtime/api/sessions/${turn.sessionId}/analyze`, {
      body: { model: 'analysis-valid' },
    });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({
      session_id: turn.sessionId,
      status: 'complete',
      turn_count: 1,
      heuristic_insights: expect.any(Array),
      analysis: ANALYSIS,
      analysis_model: 'analysis-valid',
    });

    const generated = await api('POST', '/runtime/api/recommendations/generate?period=1d', {
      body: { model: 'analysis-valid' },
    });
    expect(generated.status).toBe(200);
    expect(generated.body).toMatchObject({
      status: 'complete',
      period: '1d',
      heuristic_recommendations: expect.any(Array),
      deep_analysis: ANALYSIS,
      analysis_model: 'analysis-valid',
      tokens_in: 12,
      tokens_out: 4,
      profile: { models: { 'double-1': expect.objectContaining({ model: 'double-1' }) } },
    });
    expect(await api('POST', '/runtime/api/recommendations/generate', { body: {} })).toMatchObject({
      status: 503,
    });
  });
});

describe('audits, nicknames and the Anthropic model list', () => {
  test('a turn’s policy decisions and tool calls, for its owner only', async () => {
    const turn = await answeredTurn();
    const policy = await api('GET', `/runtime/api/audit/policy/${turn.id}`);
    expect(policy.status).toBe(200);
    expect(policy.body).toEqual({
      turn_id: turn.id,
      decisions: [
        {
          id: `${turn.id}:model`,
          tool_name: null,
          decision: 'allow',
          rule_name: 'model_selection',
          reason: `double-1 on double: ${turn.modelReason}`,
          created_at: ISO,
        },
        {
          id: `${turn.id}:credits`,
          tool_name: null,
          decision: 'skip',
          rule_name: 'credit_hold',
          reason: 'billing is off: metered, not charged',
          created_at: ISO,
        },
      ],
    });
    expect((await api('GET', `/runtime/api/audit/tools/${turn.id}`)).body).toEqual({
      turn_id: turn.id,
      tool_calls: [],
    });
    for (const path of [
      `/runtime/api/audit/policy/${turn.id}`,
      `/runtime/api/audit/tools/${turn.id}`,
      '/runtime/api/audit/policy/turn_nope',
    ])
      expect(await rest(t, stranger.credential)('GET', path)).toMatchObject({
        status: 404,
        body: { error: expect.any(String) },
      });
  });

  test('unnamed sessions take their first message as nickname; named and foreign ones are kept', async () => {
    const owner = await t.register('Nicknames');
    const unnamed = await newSession(owner);
    const named = await newSession(owner, 'Kept title');
    const empty = await newSession(owner);
    await db.query(
      `insert into "sessions"."message" ("id", "session_id", "role", "content") values
         ('msg_nick1', $1, 'USER', $3), ('msg_nick2', $1, 'USER', 'second'), ('msg_nick3', $2, 'USER', 'other')`,
      [unnamed, named, `  Plan   the\n launch ${'x'.repeat(100)}`],
    );
    const foreign = await newSession(stranger);
    await db.query(
      `insert into "sessions"."message" ("id", "session_id", "role", "content") values ('msg_nick4', $1, 'USER', 'hers')`,
      [foreign],
    );

    const call = rest(t, owner.credential);
    expect(await call('POST', '/runtime/api/sessions/backfill-nicknames')).toMatchObject({
      status: 200,
      body: { backfilled: 1 },
    });
    const { rows } = await db.query<{ id: string; title: string }>(
      `select "id", "title" from "sessions"."session" where "id" = any($1)`,
      [[unnamed, named, empty, foreign]],
    );
    const title = Object.fromEntries(rows.map((r) => [r.id, r.title]));
    expect(title[unnamed]).toBe(`Plan the launch ${'x'.repeat(100)}`.slice(0, 80));
    expect(title[named]).toBe('Kept title');
    expect(title[empty]).toBe('New chat');
    expect(title[foreign]).toBe('New chat');
    expect((await call('POST', '/runtime/api/sessions/backfill-nicknames')).body).toEqual({ backfilled: 0 });
  });

  test('/anthropic/v1/models lists the default model and the upstream’s in Anthropic’s shape', async () => {
    const list = await rest(t)('GET', '/runtime/anthropic/v1/models');
    expect(list.status).toBe(200);
    const ids = [UNSERVED_DEFAULT, ...DOUBLE_MODELS];
    expect(list.body).toEqual({
      data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: ISO })),
      has_more: false,
      first_id: ids[0],
      last_id: ids.at(-1),
    });
  });
});

describe('logs', () => {
  test('every service’s lines, filtered by request id, level and count; admins only', async () => {
    const requestId = 'observatory-logs-1';
    expect(
      (await api('GET', '/runtime/api/stats/efficiency', { headers: { 'x-request-id': requestId } })).status,
    ).toBe(200);
    const logs = rest(t, admin.credential);

    const traced = await logs('GET', `/runtime/api/logs?request_id=${requestId}`);
    expect(traced.status).toBe(200);
    expect(traced.body.unreachable).toEqual([]);
    expect(traced.body.entries.length).toBeGreaterThan(0);
    for (const entry of traced.body.entries)
      expect(entry).toEqual({
        timestamp: ISO,
        level: expect.stringMatching(/^(trace|debug|info|warn|error|fatal)$/),
        message: expect.any(String),
        target: expect.any(String),
        request_id: requestId,
        error: entry.error,
      });
    expect(traced.body.entries.map((e: { target: string }) => e.target)).toContain('sessions');
    const times = traced.body.entries.map((e: { timestamp: string }) => e.timestamp);
    expect(times).toEqual([...times].sort().reverse());

    const sessionsOnly = await logs('GET', `/runtime/api/logs?service=sessions&lines=3`);
    expect(sessionsOnly.body.entries.length).toBeGreaterThan(0);
    expect(sessionsOnly.body.entries.length).toBeLessThanOrEqual(3);
    expect(new Set(sessionsOnly.body.entries.map((e: { target: string }) => e.target))).toEqual(
      new Set(['sessions']),
    );

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await logs('GET', `/runtime/api/logs?since=${future}`)).body.entries).toEqual([]);
    const warnings = await logs('GET', '/runtime/api/logs?level=warn&lines=1000');
    for (const entry of warnings.body.entries) expect(['warn', 'error', 'fatal']).toContain(entry.level);
    // No credential of any caller reaches the store.
    const everything = JSON.stringify((await logs('GET', '/runtime/api/logs?level=trace&lines=1000')).body);
    for (const secret of [ada.credential!, admin.credential!]) expect(everything).not.toContain(secret);

    expect(await api('GET', '/runtime/api/logs')).toMatchObject({
      status: 403,
      body: { error: expect.any(String) },
    });
    for (const query of ['level=loud', 'lines=0', 'lines=1001', 'since=yesterday'])
      expect(await logs('GET', `/runtime/api/logs?${query}`)).toMatchObject({
        status: 400,
        body: { error: expect.any(String) },
      });
  });

  test('secret fields are blanked before a line is written anywhere', async () => {
    const written: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('redaction', 'info', sink);
    log.info(
      { headers: { authorization: 'Bearer s3cret' }, input: { password: 'hunter2' }, apiKey: 'ak_1' },
      'hello',
    );
    expect(written.join('')).not.toMatch(/s3cret|hunter2|ak_1/);
    expect(JSON.parse(written[0])).toMatchObject({
      headers: { authorization: '[redacted]' },
      input: { password: '[redacted]' },
      apiKey: '[redacted]',
      msg: 'hello',
    });
  });
});

describe('cache and capacity', () => {
  test('the router’s credential cache counts each API key call; pools and running answers against their limits', async () => {
    const logs = rest(t, admin.credential);
    const before = (await logs('GET', '/runtime/api/stats/cache')).body;
    expect(before).toMatchObject({ unreachable: [], caches: { 'router.credentials': expect.any(Object) } });
    const { key } = (await ada.data(CreateApiKeyDocument, { input: { name: 'stats', scopes: ['orders'] } }))
      .createApiKey;
    const calls = 3;
    for (let i = 0; i < calls; i++)
      expect((await rest(t, key)('GET', '/runtime/api/stats/efficiency')).status).toBe(200);

    const after = await logs('GET', '/runtime/api/stats/cache');
    expect(after.status).toBe(200);
    const [was, now] = [before.caches['router.credentials'], after.body.caches['router.credentials']];
    // The key's first call misses and loads it; the others hit (the admin's token is not a key).
    expect(now.misses - was.misses).toBe(1);
    expect(now.hits - was.hits).toBe(calls - 1);
    expect(now.entries).toBeGreaterThan(was.entries);
    expect(now.hit_rate).toBeCloseTo((100 * now.hits) / (now.hits + now.misses));
    expect(after.body).toMatchObject({ hits: now.hits, misses: now.misses, entries: now.entries });

    const capacity = await logs('GET', '/runtime/api/stats/capacity');
    expect(capacity.status).toBe(200);
    const pools = ['accounts', 'agents', 'memory', 'sessions', 'tasks', 'wallet'].map((s) => `${s}.db_pool`);
    for (const pool of pools) {
      const figures = capacity.body.resources[pool];
      expect(figures).toMatchObject({ limit: expect.any(Number), waiting: expect.any(Number) });
      expect(figures.used).toBeLessThanOrEqual(figures.limit);
      expect(figures.utilization).toBeCloseTo(figures.used / figures.limit);
    }
    expect(capacity.body.resources['sessions.running_turns']).toEqual({
      used: 0,
      limit: null,
      waiting: 0,
      utilization: null,
      near_capacity: false,
    });

    for (const path of ['/runtime/api/stats/cache', '/runtime/api/stats/capacity'])
      expect(await api('GET', path)).toMatchObject({ status: 403, body: { error: expect.any(String) } });
  });
});
