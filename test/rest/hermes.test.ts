/** Contract of the hermes dialect (references 000, 001): every served route over HTTP. */
import { OpenLedgerAccountDocument } from '../generated/graphql';
import { createAgent } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let user: User;
let api: Rest;
beforeAll(async () => {
  t = await startTestPlatform();
  user = await t.register('Hermes');
  api = rest(t, user.credential);
});
afterAll(() => t.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

test('GET /api/gateway-status answers the mode and feature flags, ungated', async () => {
  const { status, body } = await rest(t)('GET', '/api/gateway-status');
  expect(status).toBe(200);
  // No LLM_BASE_URL here: chat is off and everything else on.
  expect(body).toEqual({
    status: 'disconnected',
    mode: 'disconnected',
    model: 'default',
    version: expect.any(String),
    features: expect.objectContaining({
      sessions: true,
      memory: true,
      tasks: true,
      wallet: true,
      streaming: false,
      chat_stream: false,
    }),
  });
  expect(Object.values(body.features).every((flag) => typeof flag === 'boolean')).toBe(true);
});

describe('sessions', () => {
  test('POST /api/sessions (002) creates a session: 201 and the session', async () => {
    const agent = await createAgent(user, 'Session agent');
    const { status, body } = await api('POST', '/api/sessions', {
      body: { title: 'Research', model: 'gpt-x', agent_id: agent.id },
    });
    expect(status).toBe(201);
    expect(body.session).toEqual({
      id: expect.stringMatching(/^ses_/),
      title: 'Research',
      model: 'gpt-x',
      status: 'active',
      agent_id: agent.id,
      started_at: expect.any(Number),
      ended_at: null,
      message_count: 0,
      input_tokens: 0,
      output_tokens: 0,
    });
    expect(Math.abs(body.session.started_at - nowSeconds())).toBeLessThan(60);
  });

  test('GET /api/sessions pages with limit and offset, newest first, as {sessions, items, total, limit, offset}', async () => {
    const created: string[] = [];
    for (const title of ['one', 'two', 'three']) {
      created.push((await api('POST', '/api/sessions', { body: { title } })).body.session.id);
    }
    const all = await api('GET', '/api/sessions?limit=100');
    expect(all.status).toBe(200);
    const ids: string[] = all.body.sessions.map((s: { id: string }) => s.id);
    expect(ids.slice(0, 3)).toEqual([...created].reverse());

    const page = await api('GET', '/api/sessions?limit=1&offset=1');
    expect(page.body).toEqual({
      sessions: [expect.objectContaining({ id: ids[1] })],
      items: page.body.sessions,
      total: all.body.total,
      limit: 1,
      offset: 1,
    });
    const beyond = await api('GET', `/api/sessions?offset=${all.body.total}`);
    expect(beyond.body.sessions).toEqual([]);
    expect(beyond.body.total).toBe(all.body.total);
  });

  test('GET /api/sessions/:id answers {session} with epoch seconds', async () => {
    const { id } = (await api('POST', '/api/sessions', { body: { title: 'Detail' } })).body.session;
    const { status, body } = await api('GET', `/api/sessions/${id}`);
    expect(status).toBe(200);
    expect(body.session).toMatchObject({ id, title: 'Detail', status: 'active', ended_at: null });
    expect(Number.isInteger(body.session.started_at)).toBe(true);
  });
});

describe('memory', () => {
  test('POST /api/memory stores with the documented defaults (a semantic fact, metadata kept); GET /api/memory lists one agent', async () => {
    const agent = await createAgent(user, 'Rememberer');
    const stored = await api('POST', '/api/memory', {
      body: { agent_id: agent.id, content: 'Prefers metric units', metadata: { source: 'chat' } },
    });
    expect(stored.status).toBe(200);
    expect(stored.body).toEqual({
      id: expect.stringMatching(/^mem_/),
      content: 'Prefers metric units',
      category: 'general',
      importance: 0.5,
      tier: 'semantic',
      agent_id: agent.id,
      session_id: null,
      metadata: { source: 'chat' },
      source: 'api',
      created_at: ISO,
      last_recalled_at: null,
      recall_count: 0,
    });
    await api('POST', '/api/memory', {
      body: {
        agent_id: agent.id,
        content: 'Lives in Lyon',
        category: 'facts',
        importance: 0.9,
        tier: 'semantic',
      },
    });
    const other = await createAgent(user, 'Other');
    await api('POST', '/api/memory', { body: { agent_id: other.id, content: 'Not this one' } });

    const listed = await api('GET', `/api/memory?agent_id=${agent.id}&limit=10`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      memories: [
        expect.objectContaining({
          content: 'Lives in Lyon',
          category: 'facts',
          importance: 0.9,
          tier: 'semantic',
        }),
        expect.objectContaining({ content: 'Prefers metric units' }),
      ],
      total: 2,
      limit: 10,
      offset: 0,
    });
  });
});

describe('tasks', () => {
  test('POST /api/tasks answers {task_id, status, title, priority, gaze_required}; GET reads it back', async () => {
    const created = await api('POST', '/api/tasks', {
      body: { title: 'Summarise', description: 'a paper', reward: '5.25', priority: 5 },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      task_id: expect.stringMatching(/^task_/),
      status: 'Open',
      title: 'Summarise',
      priority: 5,
      gaze_required: false,
    });
    const read = await api('GET', `/api/tasks/${created.body.task_id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      task_id: created.body.task_id,
      title: 'Summarise',
      description: 'a paper',
      status: 'Open',
      reward: 5.25,
      asset: 'USD',
      assigned_agent: null,
      assignee: null,
      column: 'todo',
      created_by: user.id,
      created_at: ISO,
      updated_at: ISO,
      priority: 5,
      gaze_required: false,
      capabilities: [],
      depends_on: [],
    });
  });

  test('POST /api/tasks/:id/claim moves Open → InProgress once; a second claim is 409', async () => {
    const agent = await createAgent(user, 'Claimer');
    const { task_id } = (await api('POST', '/api/tasks', { body: { title: 'Claim me', reward: 1 } })).body;
    const claimed = await api('POST', `/api/tasks/${task_id}/claim`, { body: { agent_name: agent.id } });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({
      task_id,
      status: 'InProgress',
      assigned_agent: agent.id,
      reward: 1,
    });

    const again = await api('POST', `/api/tasks/${task_id}/claim`, { body: { agent_name: agent.id } });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ detail: expect.stringMatching(/OPEN/) });
  });

  test('GET /api/tasks filters by Hermes status and answers {tasks, total}', async () => {
    const open = await api('GET', '/api/tasks?status=Open&limit=100');
    expect(open.status).toBe(200);
    expect(open.body.total).toBe(open.body.tasks.length);
    expect(open.body.tasks.every((task: { status: string }) => task.status === 'Open')).toBe(true);
    const claimed = await api('GET', '/api/tasks?status=InProgress');
    expect(claimed.body.tasks.map((task: { title: string }) => task.title)).toEqual(['Claim me']);
    expect(Object.keys(open.body).sort()).toEqual(['tasks', 'total']);
  });

  test('GET /api/tasks/stats counts by status and is not shadowed by /api/tasks/:id', async () => {
    const all = await api('GET', '/api/tasks?limit=100');
    const { status, body } = await api('GET', '/api/tasks/stats');
    expect(status).toBe(200);
    const count = (word: string) =>
      all.body.tasks.filter((task: { status: string }) => task.status === word).length;
    expect(body).toEqual({
      total: all.body.total,
      by_status: {
        Open: count('Open'),
        InProgress: count('InProgress'),
        PendingValidation: 0,
        Completed: 0,
        Failed: 0,
        Cancelled: 0,
      },
      resolved_disputes: 0,
      queue_depth: count('Open'),
      median_completion_seconds: null,
      p95_completion_seconds: null,
    });
    expect(body.by_status.InProgress).toBe(1);
  });
});

test('GET /api/agents (002) lists agents as {agents, total}', async () => {
  const { status, body } = await api('GET', '/runtime/api/agents?limit=2');
  expect(status).toBe(200);
  expect(body.agents).toHaveLength(2);
  expect(body.agents[0]).toEqual({
    id: expect.stringMatching(/^agt_/),
    name: expect.any(String),
    ticker: expect.any(String),
    description: expect.any(String),
    status: 'active',
    created_at: ISO,
  });
  expect(body.total).toBeGreaterThanOrEqual(4);
});

test('GET /api/wallet and /api/wallet/balance read the caller’s ledger accounts', async () => {
  const empty = await api('GET', '/runtime/api/wallet/balance');
  expect(empty.status).toBe(200);
  expect(empty.body).toEqual({ balance: '0.00', currency: 'USDC', address: null, usdc: 0, credits: 0 });

  await user.data(OpenLedgerAccountDocument, { asset: 'USD' });
  await user.data(OpenLedgerAccountDocument, { asset: 'USDC' });
  const wallet = await api('GET', '/api/wallet');
  expect(wallet.status).toBe(200);
  expect(wallet.body.total).toBe(2);
  expect(wallet.body.balances).toEqual(
    expect.arrayContaining([
      {
        account_id: expect.stringMatching(/^[a-z]+_\w+$/),
        asset: 'USD',
        balance: 0,
        balance_minor: '0',
        pending: 0,
        decimals: 6,
      },
      {
        account_id: expect.any(String),
        asset: 'USDC',
        balance: 0,
        balance_minor: '0',
        pending: 0,
        decimals: 6,
      },
    ]),
  );
  // Another account sees only its own.
  const stranger = await t.register('Stranger');
  expect((await rest(t, stranger.credential)('GET', '/api/wallet')).body).toEqual({
    balances: [],
    total: 0,
    deposit_address: null,
  });
});

test('a REST call runs through the router: its request id reaches the subgraphs', async () => {
  const requestId = `rest-${Date.now()}`;
  const { headers } = await api('GET', '/api/tasks', { headers: { 'x-request-id': requestId } });
  expect(headers.get('x-request-id')).toBe(requestId);
  expect(headers.get('x-ratelimit-limit')).toBeTruthy();
  const subgraphs = t.logs.filter((line) => line.requestId === requestId).map((line) => line.subgraph);
  expect(subgraphs).toContain('tasks');
});
