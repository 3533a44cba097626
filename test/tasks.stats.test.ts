import {
  CancelTaskDocument,
  CreateTaskDocument,
  TaskStatsDocument,
  TasksInStatusesDocument,
} from './generated/graphql';
import { leastSqlStatements, startTestPlatform, type TestPlatform } from './support/platform';
import { registerAdmin, sql, taskIn } from './tasks.support';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

test('statistics count your tasks by status, the queue, and completion time percentiles', async () => {
  const creator = await t.register();
  await taskIn(creator, 'OPEN');
  await taskIn(creator, 'OPEN');
  await taskIn(creator, 'ACCEPTED');
  await creator.data(CreateTaskDocument, { input: { title: 'unfunded', fundingRequired: true } });
  await creator.data(CancelTaskDocument, { id: await taskIn(creator, 'OPEN') });
  const completed = [await taskIn(creator, 'COMPLETED'), await taskIn(creator, 'COMPLETED')];
  completed.push(await taskIn(creator, 'COMPLETED'));
  // Completion times of 10 s, 20 s and 100 s: median 20, p95 interpolated 20 + 0.9 × 80 = 92.
  for (const [id, seconds] of completed.map((id, i) => [id, [10, 20, 100][i]] as const)) {
    await sql(
      t,
      `update "tasks"."task" set "created_at" = "confirmed_at" - make_interval(secs => $2) where "id" = $1`,
      [id, seconds],
    );
  }
  await taskIn(await t.register('Someone else'), 'OPEN');

  const {
    statements,
    result: { taskStats },
  } = await leastSqlStatements(t, () => creator.data(TaskStatsDocument));
  expect(statements).toBeLessThanOrEqual(2);

  const counts = Object.fromEntries(taskStats.byStatus.map(({ status, count }) => [status, count]));
  expect(counts).toEqual({
    FUNDING: 1,
    OPEN: 2,
    ACCEPTED: 1,
    IN_PROGRESS: 0,
    PENDING_VALIDATION: 0,
    COMPLETED: 3,
    DISPUTED: 0,
    RESOLVED: 0,
    CANCELLED: 1,
    FAILED: 0,
    EXPIRED: 0,
  });
  expect(taskStats).toMatchObject({ total: 8, queueDepth: 2 });
  expect(taskStats.medianCompletionSeconds).toBeCloseTo(20, 3);
  expect(taskStats.p95CompletionSeconds).toBeCloseTo(92, 3);

  // One status of another API can be several of ours: Hermes' Open is FUNDING or OPEN.
  const open = await creator.data(TasksInStatusesDocument, { statuses: ['FUNDING', 'OPEN'] });
  expect(open.tasks.totalCount).toBe(3);
  const both = await creator.data(TasksInStatusesDocument, { status: 'OPEN', statuses: ['FUNDING', 'OPEN'] });
  expect(both.tasks.nodes.map((task) => task.status)).toEqual(['OPEN', 'OPEN']);
});

test('a newcomer has empty statistics; an admin sees every account', async () => {
  const newcomer = await t.register();
  expect((await newcomer.data(TaskStatsDocument)).taskStats).toMatchObject({
    total: 0,
    queueDepth: 0,
    medianCompletionSeconds: null,
    p95CompletionSeconds: null,
  });

  const admin = await registerAdmin(t);
  const [all] = await sql<{ total: number; open: number }>(
    t,
    `select count(*)::int as "total", (count(*) filter (where "status" = 'OPEN'))::int as "open"
     from "tasks"."task"`,
  );
  expect(all.total).toBeGreaterThan(0);
  expect((await admin.data(TaskStatsDocument)).taskStats).toMatchObject({
    total: all.total,
    queueDepth: all.open,
  });
});
