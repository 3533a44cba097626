import { ClaimTaskDocument, TaskEventsDocument, type TaskEventsSubscription } from './generated/graphql';
import { createAgent, createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe, type Transport } from './support/subscriptions';

let t: TestPlatform;
let creator: User;
let owner: User;
beforeAll(async () => {
  t = await startTestPlatform();
  [creator, owner] = [await t.register('Creator'), await t.register('Owner')];
});
afterAll(() => t.close());

describe.each<Transport>(['graphql-ws', 'sse'])('taskEvents through the router over %s', (transport) => {
  test('delivers created and updated events with the agent resolved by the agents subgraph', async () => {
    const agent = await createAgent(owner, `Watcher over ${transport}`);
    const events = subscribe(
      transport,
      t.graphqlUrl,
      TaskEventsDocument,
      { agentId: agent.id },
      creator.credential,
    );
    try {
      // Warm-up: tasks for this agent until the subscription is live upstream.
      await firstEventAfter(events, () => createTask(creator, agent.id, 'warm-up'));
      const received: TaskEventsSubscription['taskEvents'][] = [];
      const drainWarmUps = async () => {
        for (;;) {
          const { taskEvents } = await events.next();
          if (taskEvents.task.title !== 'warm-up') return taskEvents;
        }
      };

      const task = await createTask(creator, agent.id, 'Watch me');
      received.push(await drainWarmUps());
      await creator.data(ClaimTaskDocument, { id: task.id, agentId: agent.id });
      received.push((await events.next()).taskEvents);

      expect(received.map((e) => [e.kind, e.task.id, e.task.status])).toEqual([
        ['CREATED', task.id, 'OPEN'],
        ['UPDATED', task.id, 'ACCEPTED'],
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

test('filters leave out other tasks, and nobody sees tasks of another account', async () => {
  const stranger = await t.register('Stranger');
  const watched = await createAgent(owner, 'Watched');
  const other = await createAgent(owner, 'Other');
  const events = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    TaskEventsDocument,
    { status: 'ACCEPTED' },
    creator.credential,
  );
  try {
    const open = await createTask(creator, watched.id, 'claimed later');
    const first = await firstEventAfter(events, async () => {
      const probe = await createTask(creator, watched.id, 'probe');
      await creator.data(ClaimTaskDocument, { id: probe.id, agentId: watched.id });
    });
    expect(first.taskEvents.task.status).toBe('ACCEPTED');

    const strangers = await createTask(stranger, other.id, "a stranger's task");
    await stranger.data(ClaimTaskDocument, { id: strangers.id, agentId: other.id });
    await createTask(creator, other.id, 'still open');
    await creator.data(ClaimTaskDocument, { id: open.id, agentId: watched.id });
    for (;;) {
      const { taskEvents } = await events.next();
      expect(taskEvents.task.title).not.toBe("a stranger's task");
      expect(taskEvents.task.status).toBe('ACCEPTED');
      if (taskEvents.task.id === open.id) break;
    }
  } finally {
    await events.close();
  }
});

test.each<Transport>(['graphql-ws', 'sse'])('an anonymous %s subscription is refused', async (transport) => {
  const events = subscribe(transport, t.graphqlUrl, TaskEventsDocument, {});
  try {
    await expect(events.next(5000)).rejects.toThrow(/UNAUTHENTICATED|Unauthorized|authenticated/i);
  } finally {
    await events.close();
  }
});
