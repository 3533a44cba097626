import { TasksWithPeopleDocument } from './generated/graphql';
import { createAccount, createAgent, createTask } from './support/fixtures';
import { sqlStatements, startTestPlatform, type TestPlatform } from './support/platform';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

/** Adds `count` tasks, each with its own creator, agent and agent owner. */
async function seed(count: number) {
  for (let i = 0; i < count; i++) {
    const creator = await createAccount(t, `Creator ${i}`);
    const owner = await createAccount(t, `Owner ${i}`);
    const agent = await createAgent(t, owner.id, `Agent ${i}`);
    await createTask(t, creator.id, agent.id, `Task ${i}`);
  }
}

async function statementsFor(first: number) {
  const before = await sqlStatements(t.platform);
  const data = await t.data(TasksWithPeopleDocument, { first });
  return { statements: (await sqlStatements(t.platform)) - before, data };
}

test('one query walks tasks → agents → accounts through the router', async () => {
  const creator = await createAccount(t, 'Grace');
  const owner = await createAccount(t, 'Linus');
  const agent = await createAgent(t, owner.id, 'Indexer');
  const task = await createTask(t, creator.id, agent.id, 'Index the web');

  const { tasks } = await t.data(TasksWithPeopleDocument, { first: 1 });
  expect(tasks.nodes).toEqual([
    {
      id: task.id,
      title: 'Index the web',
      rewardMinor: '500',
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
});

test('pages follow each other without gaps or repeats', async () => {
  const seen: string[] = [];
  let after: string | null | undefined;
  for (;;) {
    const { tasks } = await t.data(TasksWithPeopleDocument, { first: 15, after });
    seen.push(...tasks.nodes.map((task) => task.id));
    if (!tasks.pageInfo.hasNextPage) break;
    after = tasks.pageInfo.endCursor;
  }
  const { tasks } = await t.data(TasksWithPeopleDocument, { first: 1 });
  expect(seen).toHaveLength(tasks.totalCount);
  expect(new Set(seen).size).toBe(seen.length);
  expect([...seen].sort().reverse()).toEqual(seen);
});
