import type { EntityManager } from '@mikro-orm/postgresql';
import { runDueSchedules } from '../subgraphs/tasks';
import {
  CreateScheduleDocument,
  DeleteScheduleDocument,
  ScheduleDocument,
  ScheduleRunsDocument,
  SchedulesDocument,
  TaskDocument,
  TasksWithPeopleDocument,
} from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { sql } from './tasks.support';

// The tasks subgraph's clock reads its period from the environment at start.
process.env.TASK_CLOCK_MS = '200';

let t: TestPlatform;
let owner: User;
beforeAll(async () => {
  t = await startTestPlatform();
  owner = await t.register('Scheduler');
});
afterAll(() => t.close());

const tasksSubgraph = () => t.platform.subgraphs.find((s) => s.name === 'tasks')!;
const fire = (now: Date) =>
  runDueSchedules(
    { em: tasksSubgraph().orm.em.fork() as unknown as EntityManager, pubsub: t.platform.pubsub, log: t.log },
    now,
  );
const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  body.errors?.[0]?.extensions?.code;

async function pausedSchedule(cron = '0 9 * * 1-5', title = 'Morning digest') {
  const { createSchedule } = await owner.data(CreateScheduleDocument, {
    input: { name: title, cron, taskTitle: title },
  });
  // Far in the future, so the clock leaves it alone until a test moves it.
  await sql(t, `update "tasks"."schedule" set "next_run_at" = '2999-01-01' where "id" = $1`, [
    createSchedule.id,
  ]);
  return createSchedule;
}

test('a schedule computes its next run in UTC; a malformed cron is bad input', async () => {
  const before = Date.now();
  const { createSchedule } = await owner.data(CreateScheduleDocument, {
    input: { name: 'hourly', cron: '0 * * * *', taskTitle: 'Hourly check' },
  });
  const next = Date.parse(createSchedule.nextRunAt);
  expect(next).toBeGreaterThan(before);
  expect(next - before).toBeLessThanOrEqual(3_600_000);
  expect(new Date(next).getUTCMinutes()).toBe(0);

  for (const cron of ['not a cron', '* * *', '61 * * * *']) {
    const bad = await owner.request(CreateScheduleDocument, { input: { name: 'x', cron, taskTitle: 'x' } });
    expect(codeOf(bad.body)).toBe('BAD_USER_INPUT');
  }
  await owner.data(DeleteScheduleDocument, { id: createSchedule.id });
});

test('a due schedule posts its task once, logs the run and moves to its next time', async () => {
  const schedule = await pausedSchedule('*/15 * * * *', 'Quarter-hourly');
  // Tomorrow, so the background clock (which uses the real time) leaves it to this test.
  const due = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 9 * 3_600_000);
  await sql(t, `update "tasks"."schedule" set "next_run_at" = $2 where "id" = $1`, [schedule.id, due]);

  const now = new Date(due.getTime() + 5 * 60_000);
  const [first, second] = await Promise.all([fire(now), fire(now)]);
  const created = [...first, ...second];
  expect(created).toHaveLength(1); // two replicas polling at once: one run

  const { task } = await owner.data(TaskDocument, { id: created[0].id });
  expect(task).toMatchObject({ title: 'Quarter-hourly', status: 'OPEN' });
  const { scheduleRuns } = await owner.data(ScheduleRunsDocument, { scheduleId: schedule.id });
  expect(scheduleRuns.nodes).toEqual([
    expect.objectContaining({
      scheduleId: schedule.id,
      dueAt: due.toISOString(),
      status: 'SUCCEEDED',
      taskId: task.id,
    }),
  ]);
  const after = await owner.data(ScheduleDocument, { id: schedule.id });
  expect(after.schedule.nextRunAt).toBe(new Date(due.getTime() + 15 * 60_000).toISOString());
  expect(after.schedule.lastRunAt).toBe(now.toISOString());

  expect(await fire(now)).toHaveLength(0); // not due again until 09:15
  await owner.data(DeleteScheduleDocument, { id: schedule.id });
});

test('the clock fires due schedules and expires overdue tasks by itself', async () => {
  const schedule = await pausedSchedule('* * * * *', 'Every minute');
  const tasksBefore = (await owner.data(TasksWithPeopleDocument, { first: 1 })).tasks.totalCount;
  await sql(t, `update "tasks"."schedule" set "next_run_at" = now() - interval '1 second' where "id" = $1`, [
    schedule.id,
  ]);

  let runs = 0;
  for (let i = 0; i < 50 && runs === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    runs = (await owner.data(ScheduleRunsDocument, { scheduleId: schedule.id })).scheduleRuns.totalCount;
  }
  expect(runs).toBe(1);
  const { tasks } = await owner.data(TasksWithPeopleDocument, { first: 1 });
  expect(tasks.totalCount).toBe(tasksBefore + 1);

  const overdue = tasks.nodes[0].id;
  await sql(t, `update "tasks"."task" set "deadline" = now() - interval '1 second' where "id" = $1`, [
    overdue,
  ]);
  let status = '';
  for (let i = 0; i < 50 && status !== 'EXPIRED'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await owner.data(TaskDocument, { id: overdue })).task.status;
  }
  expect(status).toBe('EXPIRED');
  await owner.data(DeleteScheduleDocument, { id: schedule.id });
});

test('a schedule that cannot fire is recorded as failed and stopped; the others still fire', async () => {
  const broken = await pausedSchedule('0 9 * * *', 'Broken cron');
  const healthy = await pausedSchedule('0 9 * * *', 'Healthy cron');
  // A cron written before the rules tightened, say: it no longer parses.
  await sql(t, `update "tasks"."schedule" set "cron" = 'not a cron' where "id" = $1`, [broken.id]);
  await sql(t, `update "tasks"."schedule" set "next_run_at" = '2030-01-01' where "id" = any($1)`, [
    [broken.id, healthy.id],
  ]);
  const created = await fire(new Date('2030-01-02T00:00:00Z'));
  expect(created.map((task) => task.title)).toContain('Healthy cron');
  expect(created.map((task) => task.title)).not.toContain('Broken cron');
  const [stopped] = await sql<{ enabled: boolean }>(
    t,
    `select "enabled" from "tasks"."schedule" where "id" = $1`,
    [broken.id],
  );
  expect(stopped.enabled).toBe(false);
  const { scheduleRuns } = await owner.data(ScheduleRunsDocument, { scheduleId: broken.id });
  expect(scheduleRuns.nodes).toEqual([expect.objectContaining({ status: 'FAILED', taskId: null })]);
  // Fired again, neither fires twice.
  expect((await fire(new Date('2030-01-02T00:00:00Z'))).map((task) => task.title)).not.toContain(
    'Healthy cron',
  );
  for (const id of [broken.id, healthy.id]) await owner.data(DeleteScheduleDocument, { id });
});

test("another account's schedule is NOT_FOUND and stays", async () => {
  const schedule = await pausedSchedule();
  const stranger = await t.register('Stranger');
  for (const response of [
    await stranger.request(ScheduleDocument, { id: schedule.id }),
    await stranger.request(DeleteScheduleDocument, { id: schedule.id }),
  ]) {
    expect(codeOf(response.body)).toBe('NOT_FOUND');
  }
  expect((await stranger.data(SchedulesDocument)).schedules.totalCount).toBe(0);
  expect((await owner.data(ScheduleDocument, { id: schedule.id })).schedule.id).toBe(schedule.id);
});
