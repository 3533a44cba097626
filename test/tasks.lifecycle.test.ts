import { expireOverdueTasks } from '../subgraphs/tasks';
import {
  AddTaskDependencyDocument,
  CancelTaskDocument,
  ClaimTaskDocument,
  ConfirmTaskDocument,
  CreateApiKeyDocument,
  CreateTaskDocument,
  CreateTaskInFullDocument,
  DeliverTaskDocument,
  DisputeTaskDocument,
  FailTaskDocument,
  FundTaskDocument,
  ReportTaskProgressDocument,
  ResolveTaskDocument,
  StartTaskDocument,
  TaskDetailsDocument,
  TasksWithPeopleDocument,
  TaskStatsDocument,
  TaskTransitionsDocument,
  type TaskTransitionsSubscription,
} from './generated/graphql';
import { createAgent } from './support/fixtures';
import { startTestPlatform, type Client, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe } from './support/subscriptions';
import { errorOf, holdTaskClock, registerAdmin, sql, taskIn } from './tasks.support';

holdTaskClock();

/** A real marketplace agent: claims name one that exists. */
let AGENT: string;

let t: TestPlatform;
let admin: Client;
beforeAll(async () => {
  t = await startTestPlatform();
  AGENT = (await createAgent(await t.register('Agent owner'))).id;
  admin = await registerAdmin(t);
});
afterAll(() => t.close());

const details = async (client: Client, id: string) => (await client.data(TaskDetailsDocument, { id })).task;

/** Runs the expiry job the way the job queue will: directly, with the tasks subgraph's database. */
function expire() {
  const tasks = t.platform.subgraphs.find((s) => s.name === 'tasks')!;
  return expireOverdueTasks({ em: tasks.orm.em.fork(), pubsub: t.platform.pubsub, log: t.log });
}

test('a task goes from funding to completed, each transition stamped and named in both vocabularies', async () => {
  const creator = await t.register();
  const { createTask } = await creator.data(CreateTaskInFullDocument, {
    input: {
      title: '  Summarise ten papers ',
      description: 'This week in AI',
      rewardMinor: '500',
      budgetMinor: '800',
      requiredCapabilities: ['research', ' research ', 'pdf'],
      deadlineIn: '2h',
      fundingRequired: true,
    },
  });
  const { id } = createTask;
  expect(createTask).toMatchObject({
    title: 'Summarise ten papers',
    status: 'FUNDING',
    hermesStatus: 'Open',
    x402Status: 'created',
    budgetMinor: '800',
    requiredCapabilities: ['research', 'pdf'],
    progress: 0,
    dependsOn: [],
  });
  expect(Date.parse(createTask.deadline!) - Date.now()).toBeGreaterThan(2 * 3600_000 - 60_000);
  expect(Date.parse(createTask.deadline!) - Date.now()).toBeLessThanOrEqual(2 * 3600_000);

  expect(errorOf(await creator.request(ClaimTaskDocument, { id, agentId: AGENT }))).toMatchObject({
    code: 'CONFLICT',
    status: 'FUNDING',
  });
  expect(errorOf(await creator.request(FundTaskDocument, { id })).code).toBe('FORBIDDEN');
  const walk = [
    [() => admin.data(FundTaskDocument, { id }), 'OPEN', 'Open', 'created'],
    [() => creator.data(ClaimTaskDocument, { id, agentId: AGENT }), 'ACCEPTED', 'InProgress', 'accepted'],
    [() => creator.data(StartTaskDocument, { id }), 'IN_PROGRESS', 'InProgress', 'working'],
    [
      () => creator.data(ReportTaskProgressDocument, { id, progress: 40 }),
      'IN_PROGRESS',
      'InProgress',
      'working',
    ],
    [
      () =>
        creator.data(DeliverTaskDocument, {
          id,
          input: { result: 'https://x.test/out.pdf', summary: '10 papers' },
        }),
      'PENDING_VALIDATION',
      'PendingValidation',
      'delivered',
    ],
    [
      () => creator.data(ConfirmTaskDocument, { id, input: { rating: 5, comment: 'Excellent work' } }),
      'COMPLETED',
      'Completed',
      'confirmed',
    ],
  ] as const;
  for (const [step, status, hermesStatus, x402Status] of walk) {
    await step();
    expect(await details(creator, id)).toMatchObject({ status, hermesStatus, x402Status });
  }

  const done = await details(creator, id);
  expect(done).toMatchObject({
    progress: 100,
    result: 'https://x.test/out.pdf',
    summary: '10 papers',
    rating: 5,
    ratingComment: 'Excellent work',
    agent: { id: AGENT },
    disputedAt: null,
    resolvedAt: null,
    cancelledAt: null,
    failedAt: null,
    expiredAt: null,
  });
  const stamps = [
    done.createdAt,
    done.fundedAt,
    done.acceptedAt,
    done.startedAt,
    done.deliveredAt,
    done.confirmedAt,
  ];
  expect(stamps.every(Boolean)).toBe(true);
  expect(stamps.map((stamp) => Date.parse(stamp!))).toEqual(
    [...stamps.map((stamp) => Date.parse(stamp!))].sort(),
  );
});

test('bad input is BAD_USER_INPUT and writes nothing', async () => {
  const creator = await t.register();
  const badTasks = [
    { title: ' ' },
    { title: 'x', deadline: new Date(Date.now() - 60_000).toISOString() },
    { title: 'x', deadlineIn: 'soon' },
    { title: 'x', deadlineIn: '0m' },
    { title: 'x', deadlineIn: '2h', deadline: new Date(Date.now() + 60_000).toISOString() },
    { title: 'x', rewardMinor: '500', budgetMinor: '499' },
    { title: 'x', requiredCapabilities: ['ok', ''] },
  ];
  for (const input of badTasks) {
    expect(errorOf(await creator.request(CreateTaskDocument, { input })).code).toBe('BAD_USER_INPUT');
  }
  expect((await creator.data(TasksWithPeopleDocument, { first: 1 })).tasks.totalCount).toBe(0);

  const working = await taskIn(creator, 'IN_PROGRESS');
  for (const progress of [101, -1]) {
    const response = await creator.request(ReportTaskProgressDocument, { id: working, progress });
    expect(errorOf(response).code).toBe('BAD_USER_INPUT');
  }
  const emptyResult = await creator.request(DeliverTaskDocument, { id: working, input: { result: '  ' } });
  expect(errorOf(emptyResult).code).toBe('BAD_USER_INPUT');
  expect(await details(creator, working)).toMatchObject({ status: 'IN_PROGRESS', progress: 0, result: null });

  const delivered = await taskIn(creator, 'PENDING_VALIDATION');
  const badRating = await creator.request(ConfirmTaskDocument, { id: delivered, input: { rating: 6 } });
  expect(errorOf(badRating).code).toBe('BAD_USER_INPUT');
  expect(errorOf(await creator.request(DisputeTaskDocument, { id: delivered, reason: '' })).code).toBe(
    'BAD_USER_INPUT',
  );
  expect(await details(creator, delivered)).toMatchObject({ status: 'PENDING_VALIDATION', rating: null });
});

test('a dispute within 24 h of delivery goes to an admin; after 24 h it is a conflict', async () => {
  const creator = await t.register();
  const late = await taskIn(creator, 'PENDING_VALIDATION');
  await sql(t, `update "tasks"."task" set "delivered_at" = now() - interval '25 hours' where "id" = $1`, [
    late,
  ]);
  const refused = errorOf(await creator.request(DisputeTaskDocument, { id: late, reason: 'too late?' }));
  expect(refused).toMatchObject({ code: 'CONFLICT', status: 'PENDING_VALIDATION', transition: 'DISPUTE' });
  expect(refused.message).toMatch(/is PENDING_VALIDATION: the 24 h dispute window closed at /);
  expect((await details(creator, late)).disputeReason).toBeNull();

  const inTime = await taskIn(creator, 'PENDING_VALIDATION');
  await sql(t, `update "tasks"."task" set "delivered_at" = now() - interval '23 hours' where "id" = $1`, [
    inTime,
  ]);
  const { disputeTask } = await creator.data(DisputeTaskDocument, { id: inTime, reason: 'off topic' });
  expect(disputeTask).toMatchObject({
    status: 'DISPUTED',
    hermesStatus: 'PendingValidation',
    x402Status: 'disputed',
    disputeReason: 'off topic',
  });

  const resolve = { id: inTime, outcome: 'REFUND_CREATOR' as const, note: 'the result was off topic' };
  expect(errorOf(await creator.request(ResolveTaskDocument, resolve)).code).toBe('FORBIDDEN');
  const { resolveTask } = await admin.data(ResolveTaskDocument, resolve);
  expect(resolveTask).toMatchObject({
    status: 'RESOLVED',
    hermesStatus: 'Failed',
    x402Status: 'resolved',
    resolution: 'REFUND_CREATOR',
    resolutionNote: 'the result was off topic',
  });
  expect(errorOf(await creator.request(DisputeTaskDocument, { id: inTime, reason: 'again' }))).toMatchObject({
    code: 'CONFLICT',
    status: 'RESOLVED',
  });
});

test('cancel works only before an agent accepts; an accepted task can fail instead', async () => {
  const creator = await t.register();
  const funding = (await creator.data(CreateTaskDocument, { input: { title: 'f', fundingRequired: true } }))
    .createTask.id;
  for (const id of [funding, await taskIn(creator, 'OPEN')]) {
    const { cancelTask } = await creator.data(CancelTaskDocument, { id });
    expect(cancelTask).toMatchObject({
      status: 'CANCELLED',
      hermesStatus: 'Cancelled',
      x402Status: 'cancelled',
    });
    expect(cancelTask.cancelledAt).toBeTruthy();
  }
  for (const status of ['ACCEPTED', 'IN_PROGRESS'] as const) {
    const id = await taskIn(creator, status);
    const refused = errorOf(await creator.request(CancelTaskDocument, { id }));
    expect(refused).toMatchObject({ code: 'CONFLICT', status, transition: 'CANCEL' });
    expect(refused.message).toBe(`task ${id} is ${status}: cancel needs FUNDING or OPEN`);
    const { failTask } = await creator.data(FailTaskDocument, { id, reason: 'the agent crashed' });
    expect(failTask).toMatchObject({
      status: 'FAILED',
      hermesStatus: 'Failed',
      x402Status: 'cancelled',
      failureReason: 'the agent crashed',
    });
  }
});

test('at its deadline a task is refused further work, and the expiry job expires it', async () => {
  const creator = await t.register();
  const open = await taskIn(creator, 'OPEN', { deadlineIn: '1h' });
  const accepted = await taskIn(creator, 'ACCEPTED', { deadlineIn: '1h' });
  const delivered = await taskIn(creator, 'PENDING_VALIDATION', { deadlineIn: '1h' });
  const timeless = await taskIn(creator, 'OPEN');
  const later = await taskIn(creator, 'OPEN', { deadlineIn: '1d' });
  await sql(t, `update "tasks"."task" set "deadline" = now() - interval '1 minute' where "id" = any($1)`, [
    [open, accepted, delivered],
  ]);

  const refused = errorOf(await creator.request(ClaimTaskDocument, { id: open, agentId: AGENT }));
  expect(refused).toMatchObject({ code: 'CONFLICT', status: 'OPEN' });
  expect(refused.message).toMatch(/is OPEN: its deadline passed at /);

  const expired = (await expire()).map((task) => task.id);
  expect(expired.sort()).toEqual([open, accepted].sort());
  for (const id of [open, accepted]) {
    const task = await details(creator, id);
    expect(task).toMatchObject({ status: 'EXPIRED', hermesStatus: 'Failed', x402Status: 'cancelled' });
    expect(task.expiredAt).toBeTruthy();
  }
  expect((await details(creator, delivered)).status).toBe('PENDING_VALIDATION');
  expect((await details(creator, timeless)).status).toBe('OPEN');
  expect((await details(creator, later)).status).toBe('OPEN');
  expect(await expire()).toEqual([]);
});

test("another account's task is NOT_FOUND to every transition; admin-only ones are FORBIDDEN", async () => {
  const [alice, bob] = [await t.register('Alice'), await t.register('Bob')];
  const id = await taskIn(alice, 'OPEN');
  const bobs = await taskIn(bob, 'OPEN');
  const before = await details(alice, id);
  const attempts = [
    bob.request(ClaimTaskDocument, { id, agentId: AGENT }),
    bob.request(StartTaskDocument, { id }),
    bob.request(ReportTaskProgressDocument, { id, progress: 10 }),
    bob.request(DeliverTaskDocument, { id, input: { result: 'r' } }),
    bob.request(ConfirmTaskDocument, { id }),
    bob.request(DisputeTaskDocument, { id, reason: 'r' }),
    bob.request(CancelTaskDocument, { id }),
    bob.request(FailTaskDocument, { id, reason: 'r' }),
    bob.request(AddTaskDependencyDocument, { taskId: id, dependsOn: bobs }),
    bob.request(AddTaskDependencyDocument, { taskId: bobs, dependsOn: id }),
    bob.request(CreateTaskDocument, { input: { title: 'x', dependsOn: [id] } }),
    bob.request(CreateTaskDocument, { input: { title: 'x', parentTaskId: id } }),
  ];
  for (const response of await Promise.all(attempts)) {
    expect(errorOf(response).code).toBe('NOT_FOUND');
  }
  for (const response of [
    await bob.request(FundTaskDocument, { id }),
    await bob.request(ResolveTaskDocument, { id, outcome: 'RELEASE_TO_AGENT' }),
  ]) {
    expect(errorOf(response).code).toBe('FORBIDDEN');
  }
  expect(await details(alice, id)).toEqual(before);
  expect((await bob.data(TasksWithPeopleDocument, { first: 10 })).tasks.totalCount).toBe(1);
});

test('an API key without the tasks scope reaches no transition and no statistics', async () => {
  const user = await t.register();
  const id = await taskIn(user, 'ACCEPTED');
  const { createApiKey } = await user.data(CreateApiKeyDocument, {
    input: { name: 'agents', scopes: ['agents'] },
  });
  const key = t.client(createApiKey.key);
  expect(errorOf(await key.request(StartTaskDocument, { id })).code).toBe('FORBIDDEN');
  expect(errorOf(await key.request(TaskStatsDocument)).code).toBe('FORBIDDEN');
  expect((await details(user, id)).status).toBe('ACCEPTED');
});

test('the subscription carries each transition with the status before it and the task after it', async () => {
  const creator: User = await t.register('Watcher');
  const working = await taskIn(creator, 'IN_PROGRESS', {}, AGENT);
  const overdue = await taskIn(creator, 'OPEN', { deadlineIn: '1h' });
  const events = subscribe('graphql-ws', t.graphqlUrl, TaskTransitionsDocument, {}, creator.credential);
  try {
    const first = await firstEventAfter(events, () =>
      creator.data(ReportTaskProgressDocument, { id: working, progress: 10 }),
    );
    expect(first.taskEvents).toMatchObject({
      kind: 'UPDATED',
      transition: 'REPORT_PROGRESS',
      previousStatus: 'IN_PROGRESS',
      task: { id: working, progress: 10 },
    });
    const nextBesides = async (transition: string) => {
      for (;;) {
        const { taskEvents } = await events.next();
        if (taskEvents.transition === transition) return taskEvents;
      }
    };

    await creator.data(DeliverTaskDocument, { id: working, input: { result: 'r', summary: 's' } });
    const delivered: TaskTransitionsSubscription['taskEvents'] = await nextBesides('DELIVER');
    expect(delivered).toMatchObject({
      kind: 'UPDATED',
      previousStatus: 'IN_PROGRESS',
      task: {
        id: working,
        status: 'PENDING_VALIDATION',
        hermesStatus: 'PendingValidation',
        x402Status: 'delivered',
        progress: 100,
        result: 'r',
        summary: 's',
        agent: { id: AGENT },
      },
    });
    expect(delivered.task).toEqual(await details(creator, working));

    await sql(t, `update "tasks"."task" set "deadline" = now() - interval '1 second' where "id" = $1`, [
      overdue,
    ]);
    await expire();
    expect(await nextBesides('EXPIRE')).toMatchObject({
      previousStatus: 'OPEN',
      task: { id: overdue, status: 'EXPIRED', x402Status: 'cancelled' },
    });
  } finally {
    await events.close();
  }
});
