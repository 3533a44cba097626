import { ClaimTaskDocument, TaskDocument } from './generated/graphql';
import { createAccount, createAgent, createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform } from './support/platform';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

test('of ten concurrent claims exactly one wins; the others are conflicts naming the state', async () => {
  const creator = await createAccount(t);
  const owner = await createAccount(t);
  const agents = await Promise.all(
    Array.from({ length: 10 }, (_, i) => createAgent(t, owner.id, `Racer ${i}`)),
  );
  const task = await createTask(t, creator.id, undefined, 'Contested');

  const results = await Promise.all(
    agents.map((agent) => t.request(ClaimTaskDocument, { id: task.id, agentId: agent.id })),
  );
  const winners = results.filter((r) => r.body.data?.claimTask.status === 'IN_PROGRESS');
  const losers = results.filter((r) => r.body.errors);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(9);
  for (const loser of losers) {
    expect(loser.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'IN_PROGRESS' });
  }
  expect((await t.data(TaskDocument, { id: task.id })).task.status).toBe('IN_PROGRESS');
});

test('claiming a task that does not exist is NOT_FOUND', async () => {
  const { body } = await t.request(ClaimTaskDocument, {
    id: 'task_01m85k0yytjenhddgshb1th258',
    agentId: 'agt_x',
  });
  expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
});
