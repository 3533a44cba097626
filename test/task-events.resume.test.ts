/** Resuming taskEvents from a cursor: the missed events exactly once, in order, then live ones. */
import {
  ReportTaskProgressDocument,
  TaskEventsAfterDocument,
  type TaskEventsAfterSubscription,
} from './generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe, type Transport } from './support/subscriptions';
import { taskIn } from './tasks.support';

type Event = TaskEventsAfterSubscription['taskEvents'];

let t: TestPlatform;
let creator: User;
beforeAll(async () => {
  t = await startTestPlatform();
  creator = await t.register('Resumer');
});
afterAll(() => t.close());

const progress = (id: string, value: number) =>
  creator.data(ReportTaskProgressDocument, { id, progress: value });

describe.each<Transport>(['graphql-ws', 'sse'])('taskEvents(after) over %s', (transport) => {
  test('replays exactly the missed events, then continues live', async () => {
    const id = await taskIn(creator, 'IN_PROGRESS', { title: `resume over ${transport}` });
    let lastSeen: Event;
    const first = subscribe(
      transport,
      t.graphqlUrl,
      TaskEventsAfterDocument,
      { taskId: id },
      creator.credential,
    );
    try {
      let warmUp = 0;
      await firstEventAfter(first, () => progress(id, ++warmUp));
      // A marker after the warm-ups: once it arrives, no earlier event is still on its way.
      await progress(id, 40);
      do lastSeen = (await first.next()).taskEvents;
      while (lastSeen.task.progress !== 40);
    } finally {
      await first.close();
    }

    for (const value of [50, 60, 70]) await progress(id, value);

    const resumed = subscribe(
      transport,
      t.graphqlUrl,
      TaskEventsAfterDocument,
      { taskId: id, after: lastSeen.seq },
      creator.credential,
    );
    try {
      const missed: Event[] = [];
      for (let i = 0; i < 3; i++) missed.push((await resumed.next()).taskEvents);
      expect(missed.map((e) => [e.transition, e.task.progress])).toEqual([
        ['REPORT_PROGRESS', 50],
        ['REPORT_PROGRESS', 60],
        ['REPORT_PROGRESS', 70],
      ]);
      const seqs = [lastSeen.seq, ...missed.map((e) => e.seq)].map(Number);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);

      // Live from here on, with nothing replayed twice: the next two are exactly the new ones.
      const live = await firstEventAfter(resumed, () => progress(id, 80));
      expect(live.taskEvents.task.progress).toBe(80);
      await progress(id, 90);
      const next = (await resumed.next()).taskEvents;
      expect(next.task.progress).toBe(90);
      expect(Number(next.seq)).toBeGreaterThan(Number(live.taskEvents.seq));
    } finally {
      await resumed.close();
    }
  });
});

test('a replay shows only your own tasks', async () => {
  const stranger = await t.register('Stranger');
  const id = await taskIn(creator, 'IN_PROGRESS', { title: 'not for strangers' });
  await progress(id, 10);
  const events = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    TaskEventsAfterDocument,
    { after: '0' },
    stranger.credential,
  );
  try {
    await expect(events.next(1500)).rejects.toThrow(/no graphql-ws event/);
  } finally {
    await events.close();
  }
});

test.each(['abc', '-1', '1.5'])('after = %p is BAD_USER_INPUT', async (after) => {
  const events = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    TaskEventsAfterDocument,
    { after },
    creator.credential,
  );
  try {
    await expect(events.next()).rejects.toThrow(/BAD_USER_INPUT/);
  } finally {
    await events.close();
  }
});
