/**
 * Hermes Workspace (001's web client) against the platform, screen by screen: each test makes the
 * requests the client makes (its URLs, headers and bodies, as read in its src/server/*.ts and
 * src/routes/api/*.ts) and reads the fields it reads, in our own words. Chat goes through the
 * router and the sessions subgraph to the OpenAI-protocol upstream double.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANSWER, DOUBLE_MODELS, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { createAgent } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';

let double: LlmDouble;
let t: TestPlatform;
let ada: User;
let adminToken: string;
let skillsDir: string;

// Shapes are what the tests check, so parsed bodies stay loosely typed (as in ./support).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double);
  skillsDir = await mkdtemp(join(tmpdir(), 'agentry-workspace-'));
  await mkdir(join(skillsDir, 'code-review'));
  await writeFile(
    join(skillsDir, 'code-review', 'SKILL.md'),
    '---\nname: Code Review\ndescription: Reviews a diff\ncategory: coding\n---\n\nReview it.\n',
  );
  process.env.SKILLS_DIR = skillsDir;
  t = await startTestPlatform();
  ada = await t.register('Ada');
  adminToken = (await registerAdmin(t)).credential!;
});
afterAll(async () => {
  delete process.env.SKILLS_DIR;
  await t.close();
  await double.close();
  await rm(skillsDir, { recursive: true, force: true });
});

/** The client's bearer: HERMES_API_TOKEN, sent on every gateway call. */
const bearer = (token = ada.credential!) => ({ Authorization: `Bearer ${token}` });

/** What the client's claudeGet/claudePost/claudePatch do: JSON in, JSON out, an Error unless ok. */
async function call(method: string, path: string, body?: unknown, token?: string): Promise<Json> {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Hermes Agent API ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** An SSE body as the client's streamChat splits it: `event: ` then `data: ` lines, JSON data. */
async function sseEvents(response: Response): Promise<{ event: string; data: Json }[]> {
  const events: { event: string; data: Json }[] = [];
  let current = '';
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('event: ')) current = line.slice(7).trim();
    else if (line.startsWith('data: ') && line.slice(6) !== '[DONE]') {
      try {
        events.push({ event: current || 'message', data: JSON.parse(line.slice(6)) });
      } catch {
        // the client skips malformed JSON too
      }
    }
  }
  return events;
}

/**
 * What send-stream makes of the session stream: the text from assistant.delta (or the whole
 * assistant.completed), the run id of the first event that has one, and on the first `error`
 * the message it shows, read from error.message, else message, else its fallback; it stops there.
 */
function readRun(events: { event: string; data: Json }[]) {
  let text = '';
  let runId: string | undefined;
  for (const { event, data } of events) {
    runId ??= typeof data.run_id === 'string' ? data.run_id : undefined;
    if (event === 'assistant.delta') text += data.delta;
    if (event === 'assistant.completed' && data.content) text = data.content;
    if (event === 'error') {
      const shown =
        (typeof data.error?.message === 'string' && data.error.message) ||
        (typeof data.message === 'string' && data.message) ||
        'Hermes stream error';
      return { text, runId, error: shown as string, completed: false };
    }
    if (event === 'run.completed') return { text, runId, completed: true };
  }
  return { text, runId, completed: false };
}

/** The chat stream the enhanced mode uses, with the body streamChat sends. */
const streamChat = (sessionId: string, message: string, model?: string) =>
  fetch(`${t.url}/api/sessions/${sessionId}/chat/stream`, {
    method: 'POST',
    headers: { ...bearer(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ message, model, system_message: undefined, attachments: undefined }),
  });

describe('connection', () => {
  /** The client's probe(): any status but 404 and 403 means the API is there. */
  const probe = async (path: string) => {
    const { status } = await fetch(`${t.url}${path}`, { headers: bearer() });
    return status !== 404 && status !== 403;
  };

  test('every probe finds its API, so the connection is "enhanced" with enhanced chat', async () => {
    const [health, models, sessions, skills, memory, config, jobs] = await Promise.all(
      [
        '/health',
        '/v1/models',
        '/api/sessions',
        '/api/skills',
        '/api/memory',
        '/api/config',
        '/api/jobs',
      ].map(probe),
    );
    // Chat completions: a GET that is not 404 (405 here) means the route is served.
    const completions = await fetch(`${t.url}/v1/chat/completions`, { headers: bearer() });
    const chatCompletions = completions.status !== 404;
    // Enhanced chat: a POST of {} to a session stream is registered unless 404, 403 or 405.
    const enhancedProbe = await fetch(`${t.url}/api/sessions/__probe__/chat/stream`, {
      method: 'POST',
      headers: { ...bearer(), 'Content-Type': 'application/json' },
      body: '{}',
    });
    const enhancedChat = ![404, 403, 405].includes(enhancedProbe.status);
    expect({ health, models, sessions, skills, memory, config, jobs, chatCompletions, enhancedChat }).toEqual(
      {
        health: true,
        models: true,
        sessions: true,
        skills: true,
        memory: true,
        config: true,
        jobs: true,
        chatCompletions: true,
        enhancedChat: true,
      },
    );
    // getConnectionStatus: health or completions, and sessions, skills and config → enhanced.
    const status = (health || chatCompletions) && sessions && skills && config ? 'enhanced' : 'partial';
    expect(status).toBe('enhanced');
    // The MCP probe wants a 200 with a JSON body its normaliser accepts.
    const mcp = await fetch(`${t.url}/api/mcp`, { headers: bearer() });
    expect(mcp.status).toBe(200);
    expect(await mcp.json()).toEqual({ servers: [], total: 0 });
  });

  test('the dashboard screens: status, detailed health, slash commands', async () => {
    const status = await call('GET', '/api/status');
    expect(status).toMatchObject({ version: expect.any(String), gateway_state: 'running' });
    const detailed = await call('GET', '/health/detailed');
    expect(detailed).toMatchObject({ status: 'ok', active_agents: 0 });
    const { commands } = await call('GET', '/v1/commands');
    expect(Array.isArray(commands)).toBe(true);
  });
});

describe('sessions', () => {
  test('create, rename, list, search, status, history, fork and delete', async () => {
    const { session } = await call('POST', '/api/sessions', {});
    expect(session).toMatchObject({
      id: expect.stringMatching(/^ses_/),
      title: 'New chat',
      message_count: 0,
    });
    expect(session.started_at).toBeGreaterThan(Date.now() / 1000 - 60);

    // The first exchange, then the automatic title.
    const run = readRun(await sseEvents(await streamChat(session.id, 'Plan a trip to Lyon')));
    expect(run).toMatchObject({
      text: ANSWER.join(''),
      completed: true,
      runId: expect.stringMatching(/^turn_/),
    });
    const renamed = await call('PATCH', `/api/sessions/${session.id}`, { title: 'Lyon trip' });
    expect(renamed.session).toMatchObject({ id: session.id, title: 'Lyon trip' });

    const listed = await call('GET', '/api/sessions?limit=50&offset=0');
    const list = listed.items ?? listed.data ?? [];
    expect(list.find((s: Json) => s.id === session.id)).toMatchObject({
      title: 'Lyon trip',
      message_count: 2,
    });

    const found = await call('GET', `/api/sessions/search?q=${encodeURIComponent('lyon')}&limit=20`);
    expect(found.query).toBe('lyon');
    expect(found.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          session_id: session.id,
          title: 'Lyon trip',
          snippet: 'Plan a trip to Lyon',
        }),
        expect.objectContaining({ session_id: session.id, snippet: 'Lyon trip', source: 'title' }),
      ]),
    );
    expect(found.count).toBe(found.results.length);
    const none = await call('GET', `/api/sessions/search?q=${encodeURIComponent('100%')}&limit=20`);
    expect(none.results).toEqual([]);

    // The status screen: the session's tokens, the config's model and provider, the runtime's context.
    const { session: detail } = await call('GET', `/api/sessions/${session.id}`);
    expect(detail.input_tokens).toBeGreaterThan(0);
    expect(detail.ended_at).toBeNull();
    const config = await call('GET', '/api/config');
    expect(config).toMatchObject({ model: 'default', provider: 'default' });
    const runtime = await call('GET', `/api/sessions/${session.id}/runtime`);
    expect(runtime).toMatchObject({ model: 'default', context_tokens: detail.input_tokens });

    // History: items (or data), each with its epoch-seconds timestamp.
    const history = await call('GET', `/api/sessions/${session.id}/messages`);
    const messages = history.items ?? history.data ?? [];
    expect(messages.map((m: Json) => [m.role, m.content])).toEqual([
      ['user', 'Plan a trip to Lyon'],
      ['assistant', ANSWER.join('')],
    ]);
    for (const m of messages) {
      expect(Number.isInteger(m.timestamp)).toBe(true);
      expect(Math.abs(m.timestamp * 1000 - Date.now())).toBeLessThan(60_000);
      expect(m.session_id).toBe(session.id);
    }

    const forked = await call('POST', `/api/sessions/${session.id}/fork`);
    expect(forked.forked_from).toBe(session.id);
    expect(forked.session).toMatchObject({ title: 'Lyon trip (fork)', message_count: 2 });
    const copy = await call('GET', `/api/sessions/${forked.session.id}/messages`);
    expect(copy.items.map((m: Json) => m.content)).toEqual(messages.map((m: Json) => m.content));
    expect(copy.items[0].id).not.toBe(messages[0].id);

    await call('DELETE', `/api/sessions/${forked.session.id}`);
    await expect(call('GET', `/api/sessions/${forked.session.id}`)).rejects.toThrow(/404/);
    const after = await call('GET', '/api/sessions?limit=50&offset=0');
    expect(after.items.map((s: Json) => s.id)).not.toContain(forked.session.id);
  });

  test("another account's session cannot be renamed, forked, searched or read at runtime", async () => {
    const { session } = await call('POST', '/api/sessions', { title: 'Private plans' });
    const other = (await t.register('Other')).credential!;
    await expect(call('PATCH', `/api/sessions/${session.id}`, { title: 'x' }, other)).rejects.toThrow(/404/);
    await expect(call('POST', `/api/sessions/${session.id}/fork`, undefined, other)).rejects.toThrow(/404/);
    await expect(call('GET', `/api/sessions/${session.id}/runtime`, undefined, other)).rejects.toThrow(/404/);
    const found = await call('GET', '/api/sessions/search?q=Private&limit=20', undefined, other);
    expect(found.results).toEqual([]);
    await expect(call('PATCH', `/api/sessions/${session.id}`, { title: '  ' })).rejects.toThrow(/422/);
    await expect(call('GET', '/api/sessions/search?q=x&limit=500')).rejects.toThrow(/422/);
  });
});

describe('chat', () => {
  test('send without streaming answers the reply and its run', async () => {
    const { session } = await call('POST', '/api/sessions', {});
    const result = await call('POST', `/api/sessions/${session.id}/chat`, { message: 'Hi there' });
    expect(result).toMatchObject({
      session_id: session.id,
      run_id: expect.stringMatching(/^turn_/),
      content: ANSWER.join(''),
    });
  });

  test('an upstream error reaches the user with its own message', async () => {
    const { session } = await call('POST', '/api/sessions', {});
    const run = readRun(await sseEvents(await streamChat(session.id, 'Hello?', 'error-500')));
    expect(run.completed).toBe(false);
    expect(run.error).toContain('overloaded');
  });

  test('the fallback chat with X-Hermes-Session-Id goes on in one session', async () => {
    const key = randomUUID();
    /** openaiChat: the portable transport, streaming, with the session headers. */
    const openaiChat = async (messages: { role: string; content: string }[]) => {
      const response = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          ...bearer(),
          'Content-Type': 'application/json',
          'X-Hermes-Session-Id': key,
          'X-Claude-Session-Id': key,
        },
        body: JSON.stringify({ model: DOUBLE_MODELS[0], messages, stream: true }),
      });
      expect(response.status).toBe(200);
      return (await sseEvents(response)).map((e) => e.data.choices?.[0]?.delta?.content ?? '').join('');
    };
    const before = (await call('GET', '/api/sessions?limit=1&offset=0')).total;
    const first = await openaiChat([{ role: 'user', content: 'Remember the number 7' }]);
    expect(first).toBe(ANSWER.join(''));
    // The client sends its whole transcript again; only the new message is new to the session.
    const second = await openaiChat([
      { role: 'user', content: 'Remember the number 7' },
      { role: 'assistant', content: first },
      { role: 'user', content: 'Which number?' },
    ]);
    expect(second).toBe(ANSWER.join(''));
    const sessions = await call('GET', '/api/sessions?limit=50&offset=0');
    expect(sessions.total).toBe(before + 1);
    const [keyed] = sessions.items;
    const history = await call('GET', `/api/sessions/${keyed.id}/messages`);
    expect(history.items.map((m: Json) => m.content)).toEqual([
      'Remember the number 7',
      ANSWER.join(''),
      'Which number?',
      ANSWER.join(''),
    ]);
    // The upstream saw the stored history once, then the new message.
    expect(double.requests.at(-1)!.messages.map((m) => m.content)).toEqual([
      'Remember the number 7',
      ANSWER.join(''),
      'Which number?',
    ]);
    // The session's own id works as the key too.
    const byId = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(), 'Content-Type': 'application/json', 'X-Hermes-Session-Id': keyed.id },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Once more' }] }),
    });
    expect(byId.status).toBe(200);
    expect((await call('GET', `/api/sessions/${keyed.id}`)).session.message_count).toBe(6);
    // Another account's key names its own conversation, never this one.
    const other = (await t.register('Keyless')).credential!;
    const theirs = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(other), 'Content-Type': 'application/json', 'X-Hermes-Session-Id': keyed.id },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Not yours' }] }),
    });
    expect(theirs.status).toBe(200);
    expect((await call('GET', `/api/sessions/${keyed.id}`)).session.message_count).toBe(6);
  });
});

describe('models, memory, skills, settings, jobs, tasks', () => {
  test('models: /v1/models data ids', async () => {
    const { data } = await call('GET', '/v1/models');
    expect(data.map((m: Json) => m.id)).toEqual(expect.arrayContaining(['default', ...DOUBLE_MODELS]));
  });

  test('memory: the list', async () => {
    const agent = await createAgent(ada, 'Rememberer');
    await call('POST', '/api/memory', { agent_id: agent.id, content: 'Likes trains' });
    const memory = await call('GET', '/api/memory');
    expect(memory.memories.map((m: Json) => m.content)).toContain('Likes trains');
  });

  test('skills: the list and the categories', async () => {
    const { skills } = await call('GET', '/api/skills');
    expect(skills).toEqual([
      expect.objectContaining({ id: 'code-review', name: 'Code Review', installed: true, enabled: true }),
    ]);
    expect(await call('GET', '/api/skills/categories')).toEqual({
      categories: [{ name: 'coding', count: 1 }],
      total: 1,
    });
  });

  test('settings: read with secrets redacted, patched by an admin only', async () => {
    const read = await call('GET', '/api/config');
    expect(JSON.stringify(read)).not.toContain(process.env.LLM_API_KEY);
    expect(read.config.llm.api_key).toBe('***');
    await expect(call('PATCH', '/api/config', { model: { temperature: 0.3 } })).rejects.toThrow(/403/);
    const patched = await call('PATCH', '/api/config', { model: { temperature: 0.3 } }, adminToken);
    expect(patched.updated).toEqual(['model.temperature']);
    expect((await call('GET', '/api/config')).config.model.temperature).toBe(0.3);
    await call('PATCH', '/api/config', { 'model.temperature': null }, adminToken);
    expect((await call('GET', '/api/config')).config.model.temperature).toBe(0.7);
  });

  test('jobs: the cron schedules as jobs', async () => {
    await call('POST', '/runtime/api/cron/jobs', {
      name: 'digest',
      schedule: '0 9 * * 1-5',
      title: 'Morning digest',
    });
    const data = await call('GET', '/api/jobs?include_disabled=true');
    const jobs = Array.isArray(data) ? data : data.jobs;
    expect(jobs).toEqual([
      expect.objectContaining({
        name: 'digest',
        prompt: 'Morning digest',
        schedule: { kind: 'cron', expr: '0 9 * * 1-5' },
        enabled: true,
        state: 'scheduled',
        next_run_at: expect.any(String),
      }),
    ]);
    expect((await call('GET', `/api/jobs/${jobs[0].id}`)).id).toBe(jobs[0].id);
  });

  test('tasks: assignee and column, and the assignee list', async () => {
    const created = await call('POST', '/api/tasks', { title: 'Write docs', assigned_agent: 'builder' });
    await call('POST', '/api/tasks', { title: 'Unassigned' });
    const { tasks } = await call('GET', '/api/tasks');
    const board = Object.fromEntries(tasks.map((x: Json) => [x.title, [x.assignee, x.column]]));
    expect(board).toEqual({ 'Write docs': ['builder', 'todo'], Unassigned: [null, 'todo'] });
    await call('DELETE', `/api/tasks/${created.task_id}`);
    const after = await call('GET', '/api/tasks');
    expect(after.tasks.find((x: Json) => x.task_id === created.task_id).column).toBe('deleted');
    expect((await call('GET', '/api/tasks/assignees')).assignees).toEqual([
      { id: 'builder', label: 'builder', isHuman: false },
    ]);
  });
});
