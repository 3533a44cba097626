import {
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateTaskDocument,
  DeliverTaskDocument,
  SwarmTaskDocument,
  TaskEventsDocument,
  type SwarmStrategy,
} from './generated/graphql';
import { rest } from './rest/support';
import { startLlmDouble, type LlmDouble } from './support/llm-double';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe } from './support/subscriptions';
import { errorOf, sql } from './tasks.support';

/** A real marketplace agent: claims name one that exists. */
let AGENT: string;

let double: LlmDouble;
let t: TestPlatform;
let user: User;

beforeAll(async () => {
  double = await startLlmDouble();
  // The planner reads LLM_* through loadConfig() at each call, so a test may switch the model.
  Object.assign(process.env, { LLM_BASE_URL: double.url, LLM_DEFAULT_MODEL: 'plan-valid' });
  t = await startTestPlatform();
  AGENT = (await createAgent(await t.register('Agent owner'))).id;
  user = await t.register('Swarm');
});
afterAll(async () => {
  await t.close();
  await double.close();
});
beforeEach(() => {
  process.env.LLM_DEFAULT_MODEL = 'plan-valid';
});

const swarm = (client: Client, strategy: SwarmStrategy, agentCount = 5) =>
  client.request(SwarmTaskDocument, { input: { goal: 'Ship the release', strategy, agentCount } });

const taskCount = async (creatorId: string) =>
  Number(
    (
      await sql<{ n: string }>(t, `select count(*) as n from "tasks"."task" where "creator_id" = $1`, [
        creatorId,
      ])
    )[0].n,
  );

async function complete(client: Client, id: string) {
  await client.data(ClaimTaskDocument, { id, agentId: AGENT });
  await client.data(DeliverTaskDocument, { id, input: { result: 'done' } });
  await client.data(ConfirmTaskDocument, { id });
}

const claimable = async (client: Client, id: string) =>
  !(await client.request(ClaimTaskDocument, { id, agentId: AGENT })).body.errors;

test('DAG: the subtasks wait as the model planned, under one parent, and are claimable once their dependencies are done', async () => {
  const response = await swarm(user, 'DAG');
  expect(response.body.errors).toBeUndefined();
  const { parent, subtasks, goal, strategy } = response.body.data!.swarmTask;
  expect({ goal, strategy }).toEqual({ goal: 'Ship the release', strategy: 'DAG' });
  expect(parent).toMatchObject({
    title: 'Ship the release',
    status: 'OPEN',
    parentTaskId: null,
    dependsOn: [],
  });
  const [a, b, c, d] = subtasks;
  expect(subtasks.map((s) => s.title)).toEqual(['step a', 'step b', 'step c', 'step d']);
  expect(subtasks.every((s) => s.parentTaskId === parent.id)).toBe(true);
  expect(subtasks.map((s) => s.dependsOn)).toEqual([[], [a.id], [a.id], [b.id, c.id]]);

  const request = double.requests.at(-1)!;
  expect(request.model).toBe('plan-valid');
  expect(request.messages[0]).toMatchObject({
    role: 'system',
    content: expect.stringContaining('"subtasks"'),
  });
  expect(request.messages[1]).toEqual({ role: 'user', content: 'Ship the release' });

  expect(await claimable(user, b.id)).toBe(false);
  expect(await claimable(user, d.id)).toBe(false);
  await complete(user, a.id);
  await complete(user, b.id);
  expect(await claimable(user, d.id)).toBe(false);
  await complete(user, c.id);
  expect(await claimable(user, d.id)).toBe(true);
});

test('SEQUENTIAL chains the subtasks in order; PARALLEL leaves them all claimable', async () => {
  const sequential = (
    await user.data(SwarmTaskDocument, { input: { goal: 'In order', strategy: 'SEQUENTIAL' } })
  ).swarmTask.subtasks;
  expect(sequential.map((s) => s.dependsOn)).toEqual([
    [],
    [sequential[0].id],
    [sequential[1].id],
    [sequential[2].id],
  ]);
  expect(await claimable(user, sequential[1].id)).toBe(false);
  await complete(user, sequential[0].id);
  expect(await claimable(user, sequential[1].id)).toBe(true);
  expect(await claimable(user, sequential[2].id)).toBe(false);

  const parallel = (await user.data(SwarmTaskDocument, { input: { goal: 'At once', strategy: 'PARALLEL' } }))
    .swarmTask.subtasks;
  expect(parallel.map((s) => s.dependsOn)).toEqual([[], [], [], []]);
  for (const s of parallel) expect(await claimable(user, s.id)).toBe(true);
});

test.each([
  ['plan-invalid', 'not JSON'],
  ['plan-wrong-shape', 'subtasks'],
  ['plan-cyclic', 'cycle'],
])('%s is UPSTREAM_INVALID_PLAN and writes no task', async (model, words) => {
  const creator = await t.register();
  process.env.LLM_DEFAULT_MODEL = model;
  const refused = errorOf(await swarm(creator, 'DAG'));
  expect(refused.code).toBe('UPSTREAM_INVALID_PLAN');
  expect(refused.message).toContain(words);
  expect(await taskCount(creator.id)).toBe(0);
});

test.each([
  ['plan-nul', 'step\ufffda', 'nul\ufffdhere'],
  ['plan-surrogate', 'step\ufffda', 'lone\ufffd'],
])(
  '%s: the hostile text is stored as U+FFFD and every task is announced',
  async (model, title, description) => {
    const creator = await t.register();
    process.env.LLM_DEFAULT_MODEL = model;
    const events = subscribe('graphql-ws', t.graphqlUrl, TaskEventsDocument, {}, creator.credential);
    try {
      await firstEventAfter(events, () => creator.data(CreateTaskDocument, { input: { title: 'warm-up' } }));
      const response = await swarm(creator, 'DAG');
      expect(response.body.errors).toBeUndefined();
      const { parent, subtasks } = response.body.data!.swarmTask;
      const [a, b] = subtasks;
      expect(a).toMatchObject({ title, description });
      expect(b.dependsOn).toEqual([a.id]);
      const created: string[] = [];
      while (created.length < 3) {
        const { taskEvents } = await events.next();
        if (taskEvents.task.title !== 'warm-up') created.push(taskEvents.task.id);
      }
      expect(created.sort()).toEqual([parent.id, a.id, b.id].sort());
    } finally {
      await events.close();
    }
  },
);

test('more subtasks than agents is an invalid plan; a cycle does not matter when the strategy ignores dependencies', async () => {
  const creator = await t.register();
  expect(errorOf(await swarm(creator, 'DAG', 3))).toMatchObject({ code: 'UPSTREAM_INVALID_PLAN' });
  expect(await taskCount(creator.id)).toBe(0);
  process.env.LLM_DEFAULT_MODEL = 'plan-cyclic';
  expect((await swarm(creator, 'SEQUENTIAL')).body.data?.swarmTask.subtasks).toHaveLength(3);
});

test('bad input is BAD_USER_INPUT before the upstream is asked', async () => {
  const before = double.requests.length;
  for (const [input, field] of [
    [{ goal: '  ', strategy: 'DAG' as const }, 'goal'],
    [{ goal: 'x', strategy: 'DAG' as const, agentCount: 1 }, 'agentCount'],
    [{ goal: 'x', strategy: 'DAG' as const, agentCount: 21 }, 'agentCount'],
    [{ goal: 'x'.repeat(2001), strategy: 'DAG' as const }, 'goal'],
  ] as const)
    expect(errorOf(await user.request(SwarmTaskDocument, { input }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field,
    });
  expect(double.requests.length).toBe(before);
});

test('without an upstream the answer is UPSTREAM_UNAVAILABLE', async () => {
  const creator = await t.register();
  delete process.env.LLM_BASE_URL;
  try {
    expect(errorOf(await swarm(creator, 'DAG'))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const { status, body } = await rest(t, creator.credential)('POST', '/api/tasks/swarm', {
      body: { goal: 'g' },
    });
    expect(status).toBe(503);
    expect(body).toEqual({ detail: expect.stringContaining('no upstream LLM') });
  } finally {
    process.env.LLM_BASE_URL = double.url;
  }
  expect(await taskCount(creator.id)).toBe(0);
});

test('POST /api/tasks/swarm answers 201 with the swarm; a bad strategy is 422 in {detail}; a bad plan 502', async () => {
  const api = rest(t, user.credential);
  const { status, body } = await api('POST', '/api/tasks/swarm', {
    body: { goal: 'Launch', strategy: 'sequential', agent_count: 4 },
  });
  expect(status).toBe(201);
  expect(body).toEqual({
    swarm_id: expect.stringMatching(/^task_/),
    goal: 'Launch',
    strategy: 'sequential',
    tasks: ['a', 'b', 'c', 'd'].map((key) => ({
      task_id: expect.any(String),
      title: `step ${key}`,
      depends_on: expect.any(Array),
    })),
  });
  const ids = body.tasks.map((task: { task_id: string }) => task.task_id);
  expect(body.tasks.map((task: { depends_on: string[] }) => task.depends_on)).toEqual([
    [],
    [ids[0]],
    [ids[1]],
    [ids[2]],
  ]);
  expect((await api('GET', `/api/tasks/${body.swarm_id}`)).body).toMatchObject({
    title: 'Launch',
    status: 'Open',
  });

  const wrong = await api('POST', '/api/tasks/swarm', { body: { goal: 'Launch', strategy: 'circular' } });
  expect(wrong.status).toBe(422);
  expect(wrong.body).toEqual({ detail: expect.stringContaining('strategy') });

  process.env.LLM_DEFAULT_MODEL = 'plan-cyclic';
  const cyclic = await api('POST', '/api/tasks/swarm', { body: { goal: 'Loop', strategy: 'dag' } });
  expect(cyclic.status).toBe(502);
  expect(cyclic.body).toEqual({ detail: expect.stringContaining('cycle') });
});

test('the parent and every subtask are announced as CREATED after the commit', async () => {
  const creator = await t.register();
  const events = subscribe('graphql-ws', t.graphqlUrl, TaskEventsDocument, {}, creator.credential);
  try {
    await firstEventAfter(events, () => creator.data(CreateTaskDocument, { input: { title: 'warm-up' } }));
    const { parent, subtasks } = (await creator.data(SwarmTaskDocument, { input: { goal: 'Announce' } }))
      .swarmTask;
    const created: string[] = [];
    while (created.length < 5) {
      const { taskEvents } = await events.next();
      if (taskEvents.task.title === 'warm-up') continue;
      expect(taskEvents).toMatchObject({ kind: 'CREATED', task: { status: 'OPEN' } });
      created.push(taskEvents.task.id);
    }
    expect(created.sort()).toEqual([parent.id, ...subtasks.map((s) => s.id)].sort());
  } finally {
    await events.close();
  }
});
