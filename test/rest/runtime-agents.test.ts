/**
 * 002's agent runtime views over the hermes dialect: start/stop of a listed agent (its pause),
 * sub-agent list, detail and toggle, the roster and a model change, each in the runtime's shape;
 * another account's agent or sub-agent is 404, bad input 400, all in 002's `{"error"}` body.
 */
import {
  CreateAgentDocument,
  CreateSubAgentDocument,
  MarketplaceAgentDocument,
  SendMessageDocument,
  StartSessionDocument,
} from '../generated/graphql';
import { startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { rest, type Rest } from './support';

let t: TestPlatform;
let ada: User;
let bob: User;
let adaApi: Rest;
let bobApi: Rest;
let agentId: string;

let double: LlmDouble;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double);
  t = await startTestPlatform();
  [ada, bob] = [await t.register('Ada'), await t.register('Bob')];
  [adaApi, bobApi] = [rest(t, ada.credential), rest(t, bob.credential)];
  const { createAgent } = await ada.data(CreateAgentDocument, {
    input: { name: 'Research Desk', ticker: 'RSRCH', description: 'Finds sources' },
  });
  agentId = createAgent.id;
  await ada.data(CreateSubAgentDocument, {
    input: {
      name: 'researcher',
      displayName: 'Researcher',
      description: 'Reads papers',
      model: 'openai/gpt-4o-mini',
      fallbackModels: ['anthropic/claude-3-haiku'],
      skills: ['code-review'],
      agentId,
    },
  });
  await ada.data(CreateSubAgentDocument, { input: { name: 'writer', model: 'openai/gpt-4o' } });
});
afterAll(async () => {
  await t.close();
  await double.close();
});

const acceptsWork = async () => (await t.data(MarketplaceAgentDocument, { id: agentId })).agent.acceptsWork;

describe('start and stop', () => {
  test('stop pauses the agent (no new work), start lets it take work again', async () => {
    const stop = await adaApi('POST', `/runtime/api/agents/${agentId}/stop`);
    expect(stop).toMatchObject({ status: 200, body: { id: agentId, action: 'stopped' } });
    expect(await acceptsWork()).toBe(false);
    const start = await adaApi('POST', `/runtime/api/agents/${agentId}/start`);
    expect(start).toMatchObject({ status: 200, body: { id: agentId, action: 'started' } });
    expect(await acceptsWork()).toBe(true);
  });

  test("another account's agent and an unknown id are 404 in the {error} body", async () => {
    for (const path of [`/runtime/api/agents/${agentId}/stop`, '/runtime/api/agents/agt_nope/start']) {
      const { status, body } = await bobApi('POST', path);
      expect(status).toBe(404);
      expect(body).toEqual({ error: expect.any(String) });
    }
    expect(await acceptsWork()).toBe(true);
  });
});

const researcher = () => ({
  id: expect.stringMatching(/^sub_/),
  name: 'researcher',
  display_name: 'Researcher',
  model: 'openai/gpt-4o-mini',
  role: 'subagent',
  description: 'Reads papers',
  skills: ['code-review'],
  fallback_models: ['anthropic/claude-3-haiku'],
  enabled: true,
  session_count: 0,
  runtime_state: 'running',
  taskable: true,
  agent_id: agentId,
});

describe('sub-agents', () => {
  test("GET /api/subagents lists the caller's definitions by name with a runtime summary", async () => {
    const { status, body } = await adaApi('GET', '/runtime/api/subagents');
    expect(status).toBe(200);
    expect(body.count).toBe(2);
    expect(body.agents.map((a: { name: string }) => a.name)).toEqual(['researcher', 'writer']);
    expect(body.agents[0]).toEqual(researcher());
    expect(body.agents[1]).toMatchObject({ display_name: 'writer', agent_id: null, fallback_models: [] });
    expect(body.runtime_summary).toEqual({ booting: 0, running: 2, error: 0 });
    expect(await bobApi('GET', '/runtime/api/subagents')).toMatchObject({
      status: 200,
      body: { agents: [], count: 0, runtime_summary: { running: 0 } },
    });
  });

  test('GET /api/subagents/:name answers the list item; unknown or foreign is 404', async () => {
    expect(await adaApi('GET', '/runtime/api/subagents/researcher')).toEqual(
      expect.objectContaining({ status: 200, body: researcher() }),
    );
    for (const call of [
      adaApi('GET', '/runtime/api/subagents/nobody'),
      bobApi('GET', '/runtime/api/subagents/researcher'),
    ]) {
      const { status, body } = await call;
      expect(status).toBe(404);
      expect(body).toEqual({ error: expect.stringMatching(/^sub-agent '(nobody|researcher)' not found$/) });
    }
    expect((await adaApi('GET', '/runtime/api/subagents/nobody')).body).toEqual({
      error: "sub-agent 'nobody' not found",
    });
  });

  test('PUT /api/subagents/:name/toggle flips, or sets the state asked; the list follows', async () => {
    let r = await adaApi('PUT', '/runtime/api/subagents/writer/toggle');
    expect(r).toMatchObject({ status: 200, body: { name: 'writer', enabled: false } });
    const listed = await adaApi('GET', '/runtime/api/subagents/writer');
    expect(listed.body).toMatchObject({ enabled: false, runtime_state: 'stopped', taskable: false });
    expect((await adaApi('GET', '/runtime/api/subagents')).body.runtime_summary.running).toBe(1);
    r = await adaApi('PUT', '/runtime/api/subagents/writer/toggle', { body: { enabled: false } });
    expect(r.body).toEqual({ name: 'writer', enabled: false });
    r = await adaApi('PUT', '/runtime/api/subagents/writer/toggle');
    expect(r.body).toEqual({ name: 'writer', enabled: true });
  });

  test('two flips at once are two flips (one statement each): the state ends where it began', async () => {
    const both = await Promise.all([
      adaApi('PUT', '/runtime/api/subagents/writer/toggle'),
      adaApi('PUT', '/runtime/api/subagents/writer/toggle'),
    ]);
    expect(both.map((r) => r.body.enabled).sort()).toEqual([false, true]);
    expect((await adaApi('GET', '/runtime/api/subagents/writer')).body.enabled).toBe(true);
  });

  test("toggle: another account's sub-agent is 404 and unchanged; a non-boolean is 400", async () => {
    const foreign = await bobApi('PUT', '/runtime/api/subagents/writer/toggle');
    expect(foreign).toMatchObject({ status: 404, body: { error: "sub-agent 'writer' not found" } });
    const bad = await adaApi('PUT', '/runtime/api/subagents/writer/toggle', { body: { enabled: 'yes' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: expect.stringContaining('true or false') });
    expect((await adaApi('GET', '/runtime/api/subagents/writer')).body.enabled).toBe(true);
  });
});

describe('roster', () => {
  test('GET /api/roster: sub-agents with their models, then listed agents', async () => {
    const { status, body } = await adaApi('GET', '/runtime/api/roster');
    expect(status).toBe(200);
    expect(body.count).toBe(3);
    expect(body.roster[0]).toEqual({
      id: expect.stringMatching(/^sub_/),
      name: 'researcher',
      display_name: 'Researcher',
      role: 'subagent',
      model: 'openai/gpt-4o-mini',
      fallback_models: ['anthropic/claude-3-haiku'],
      enabled: true,
      description: 'Reads papers',
      skills: ['code-review'],
    });
    expect(body.roster[2]).toMatchObject({ id: agentId, role: 'agent', name: 'rsrch', model: null });
    expect((await bobApi('GET', '/runtime/api/roster')).body).toEqual({ roster: [], count: 0 });
  });

  test('PUT /api/roster/:name/model changes it; the roster and detail follow', async () => {
    const r = await adaApi('PUT', '/runtime/api/roster/researcher/model', {
      body: { model: 'openai/gpt-4.1' },
    });
    expect(r).toMatchObject({
      status: 200,
      body: {
        updated: true,
        agent: 'researcher',
        old_model: 'openai/gpt-4o-mini',
        new_model: 'openai/gpt-4.1',
        fallback_models: ['anthropic/claude-3-haiku'],
      },
    });
    expect((await adaApi('GET', '/runtime/api/roster')).body.roster[0].model).toBe('openai/gpt-4.1');
    expect((await adaApi('GET', '/runtime/api/subagents/researcher')).body.model).toBe('openai/gpt-4.1');
  });

  test('an empty or missing model is 400, an unknown or foreign name 404, nothing changes', async () => {
    for (const body of [{ model: '' }, { model: '   ' }, {}]) {
      const r = await adaApi('PUT', '/runtime/api/roster/researcher/model', { body });
      expect(r).toMatchObject({ status: 400, body: { error: 'model cannot be empty' } });
    }
    const unknown = await adaApi('PUT', '/runtime/api/roster/nobody/model', { body: { model: 'x' } });
    expect(unknown).toMatchObject({ status: 404, body: { error: "sub-agent 'nobody' not found" } });
    const foreign = await bobApi('PUT', '/runtime/api/roster/researcher/model', { body: { model: 'x' } });
    expect(foreign).toMatchObject({ status: 404, body: { error: "sub-agent 'researcher' not found" } });
    expect((await adaApi('GET', '/runtime/api/subagents/researcher')).body.model).toBe('openai/gpt-4.1');
  });
});

describe('createSubAgent (GraphQL)', () => {
  const create = (who: User, variables: object) => who.request(CreateSubAgentDocument, variables as never);
  const codeOf = async (who: User, input: object) => {
    const { body } = await create(who, { input });
    return { code: body.errors?.[0]?.extensions?.code, message: body.errors?.[0]?.message };
  };

  test('a name taken among yours is a conflict; the same name is free for another account', async () => {
    expect(await codeOf(ada, { name: 'writer', model: 'm' })).toEqual({
      code: 'CONFLICT',
      message: "sub-agent 'writer' already exists",
    });
    const { body } = await create(bob, { input: { name: 'writer', model: 'm' } });
    expect(body.data?.createSubAgent).toMatchObject({ name: 'writer', model: 'm', enabled: true });
    expect((await adaApi('GET', '/runtime/api/subagents/writer')).body.model).toBe('openai/gpt-4o');
  });

  test('bad names, empty models and another account’s agent are refused, nothing is written', async () => {
    expect((await codeOf(ada, { name: 'Has Space', model: 'm' })).code).toBe('BAD_USER_INPUT');
    expect(await codeOf(ada, { name: 'empty', model: ' ' })).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'model cannot be empty',
    });
    expect((await codeOf(ada, { name: 'many', model: 'm', fallbackModels: Array(11).fill('x') })).code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await codeOf(bob, { name: 'borrower', model: 'm', agentId })).code).toBe('NOT_FOUND');
    expect(
      (await bobApi('GET', '/runtime/api/subagents')).body.agents.map((a: { name: string }) => a.name),
    ).toEqual(['writer']);
    expect((await adaApi('GET', '/runtime/api/subagents')).body.count).toBe(2);
  });
});

describe('chat uses the roster model', () => {
  test("a session bound to the agent answers with its sub-agent's model, below the asked and the session's", async () => {
    await adaApi('PUT', '/runtime/api/roster/researcher/model', { body: { model: 'double-2' } });
    // A new bound session per turn: a session takes one streaming answer at a time.
    const send = async (model?: string) => {
      const { startSession } = await ada.data(StartSessionDocument, { input: { title: 'Bound', agentId } });
      return (await ada.data(SendMessageDocument, { sessionId: startSession.id, content: 'Hi', model }))
        .sendMessage;
    };
    expect(await send()).toMatchObject({ model: 'double-2', modelReason: "agent's roster model" });
    expect(await send('double-1')).toMatchObject({
      model: 'double-1',
      modelReason: 'requested with the message',
    });
    await adaApi('PUT', '/runtime/api/subagents/researcher/toggle', { body: { enabled: false } });
    expect(await send()).toMatchObject({ modelReason: 'platform default' });
    const { startSession: own } = await ada.data(StartSessionDocument, {
      input: { title: 'Own', model: 'double-1' },
    });
    const turn = await ada.data(SendMessageDocument, { sessionId: own.id, content: 'Hi' });
    expect(turn.sendMessage).toMatchObject({ model: 'double-1', modelReason: 'session default' });
  });
});
