import { ClaimTaskDocument, TaskEventsDocument, type TaskEventsSubscription } from './generated/graphql';
import { createAccount, createAgent, createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform } from './support/platform';
import { firstEventAfter, subscribe, type Transport } from './support/subscriptions';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(() => t.close());

describe.each<Transport>(['graphql-ws', 'sse'])('taskEvents through the router over %s', (transport) => {
  test('delivers created and updated events with the agent resolved by the agents subgraph', async () => {
    const creator = await createAccount(t);
    const owner = await createAccount(t);
    const agent = await createAgent(t, owner.id, `Watcher over ${transport}`);
    const events = subscribe(transport, t.graphqlUrl, TaskEventsDocument, { agentId: agent.id });
    try {
      // Warm-up: tasks for this agent until the subscription is live upstream.
      await firstEventAfter(events, () => createTask(t, creator.id, agent.id, 'warm-up'));
      const received: TaskEventsSubscription['taskEvents'][] = [];
      const drainWarmUps = async () => {
        for (;;) {
          const { taskEvents } = await events.next();
          if (taskEvents.task.title !== 'warm-up') return taskEvents;
        }
      };

      const task = await createTask(t, creator.id, agent.id, 'Watch me');
      received.push(await drainWarmUps());
      await t.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });
      received.push((await events.next()).taskEvents);

      expect(received.map((e) => [e.kind, e.task.id, e.task.status])).toEqual([
        ['CREATED', task.id, 'OPEN'],
        ['UPDATED', task.id, 'IN_PROGRESS'],
      ]);
      for (const event of received) {
        expect(event.task.agent).toEqual({ name: `Watcher over ${transport}`, ticker: agent.ticker });
        expect(Date.parse(event.at)).not.toBeNaN();
      }
    } finally {
      await events.close();
    }
  });
});

test('filters leave out other tasks', async () => {
  const creator = await createAccount(t);
  const owner = await createAccount(t);
  const watched = await createAgent(t, owner.id, 'Watched');
  const other = await createAgent(t, owner.id, 'Other');
  const events = subscribe('graphql-ws', t.graphqlUrl, TaskEventsDocument, {
    agentId: watched.id,
    status: 'IN_PROGRESS',
  });
  try {
    const open = await createTask(t, creator.id, watched.id, 'claimed later');
    const first = await firstEventAfter(events, async () => {
      const probe = await createTask(t, creator.id, watched.id, 'probe');
      await t.data(ClaimTaskDocument, { id: probe.id, agentId: watched.id });
    });
    expect(first.taskEvents.task.status).toBe('IN_PROGRESS');

    const elsewhere = await createTask(t, creator.id, other.id, 'not watched');
    await t.data(ClaimTaskDocument, { id: elsewhere.id, agentId: other.id });
    await t.data(ClaimTaskDocument, { id: open.id, agentId: watched.id });
    for (;;) {
      const { taskEvents } = await events.next();
      expect(taskEvents.task.agent?.name).toBe('Watched');
      expect(taskEvents.task.status).toBe('IN_PROGRESS');
      if (taskEvents.task.id === open.id) break;
    }
  } finally {
    await events.close();
  }
});
