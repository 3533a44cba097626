import { ClaimTaskDocument, TaskDocument } from './generated/graphql';
import { createAgent, createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform } from './support/platform';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

test('of ten concurrent claims exactly one wins; the others are conflicts naming the state', async () => {
  const creator = await t.register();
  const owner = await t.register();
  const agents = await Promise.all(Array.from({ length: 10 }, (_, i) => createAgent(owner, `Racer ${i}`)));
  const task = await createTask(creator, undefined, 'Contested');

  const results = await Promise.all(
    agents.map((agent) => creator.request(ClaimTaskDocument, { id: task.id, agentId: agent.id })),
  );
  const winners = results.filter((r) => r.body.data?.claimTask.status === 'ACCEPTED');
  const losers = results.filter((r) => r.body.errors);
  expect(winners).toHaveLength(1);
  expect(losers).toHaveLength(9);
  for (const loser of losers) {
    expect(loser.body.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', status: 'ACCEPTED' });
  }
  expect((await creator.data(TaskDocument, { id: task.id })).task.status).toBe('ACCEPTED');
});

test('claiming a task that does not exist is NOT_FOUND', async () => {
  const someone = await t.register();
  const { body } = await someone.request(ClaimTaskDocument, {
    id: 'task_01m85k0yytjenhddgshb1th258',
    agentId: 'agt_x',
  });
  expect(body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
});
