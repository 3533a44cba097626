import { TasksWithPeopleDocument } from './generated/graphql';
import { createAgent, createTask } from './support/fixtures';
import { holdTaskClock } from './tasks.support';
import { leastSqlStatements, startTestPlatform, type TestPlatform, type User } from './support/platform';

holdTaskClock(); // its expiry job would add statements of its own

let t: TestPlatform;
let creator: User;
beforeAll(async () => {
  t = await startTestPlatform();
  creator = await t.register('Grace');
});
afterAll(() => t.close());

/** Adds `count` tasks of the creator, each with an agent of its own owner. */
async function seed(count: number) {
  for (let i = 0; i < count; i++) {
    const owner = await t.register(`Owner ${i}`);
    const agent = await createAgent(owner, `Agent ${i}`);
    await createTask(creator, agent.id, `Task ${i}`);
  }
}

/** The statements one list query runs. */
async function statementsFor(first: number) {
  const { statements, result: data } = await leastSqlStatements(
    t,
    () => creator.data(TasksWithPeopleDocument, { first }),
    ['tasks', 'agents', 'accounts'],
  );
  return { statements, data };
}

test('one query walks tasks → agents → accounts through the router', async () => {
  const owner = await t.register('Linus');
  const agent = await createAgent(owner, 'Indexer');
  const task = await createTask(creator, agent.id, 'Index the web');

  const { tasks } = await creator.data(TasksWithPeopleDocument, { first: 1 });
  expect(tasks.nodes).toEqual([
    {
      id: task.id,
      title: 'Index the web',
      rewardMinor: '5000000',
      creator: { id: creator.id, email: creator.email },
      agent: {
        id: agent.id,
        name: 'Indexer',
        ticker: agent.ticker,
        owner: { id: owner.id, displayName: 'Linus' },
      },
    },
  ]);
});

test('the SQL statement count of a list does not grow with the list (no N+1)', async () => {
  await seed(9); // 10 tasks with the one above
  const ten = await statementsFor(50);
  expect(ten.data.tasks.nodes).toHaveLength(10);

  await seed(40);
  const fifty = await statementsFor(50);
  expect(fifty.data.tasks.nodes).toHaveLength(50);
  const owners = new Set(fifty.data.tasks.nodes.map((task) => task.agent?.owner.id));
  expect(owners.size).toBe(50);

  // tasks: page + count; agents: one batched _entities; accounts: creators and owners.
  expect(fifty.statements).toBe(ten.statements);
  expect(fifty.statements).toBeLessThanOrEqual(6);
}, 180_000); // seeding 50 agents and owners takes long on a loaded 2-core machine

test('pages follow each other without gaps or repeats', async () => {
  const seen: string[] = [];
  let after: string | null | undefined;
  for (;;) {
    const { tasks } = await creator.data(TasksWithPeopleDocument, { first: 15, after });
    seen.push(...tasks.nodes.map((task) => task.id));
    if (!tasks.pageInfo.hasNextPage) break;
    after = tasks.pageInfo.endCursor;
  }
  const { tasks } = await creator.data(TasksWithPeopleDocument, { first: 1 });
  expect(seen).toHaveLength(tasks.totalCount);
  expect(new Set(seen).size).toBe(seen.length);
  expect([...seen].sort().reverse()).toEqual(seen);
});
