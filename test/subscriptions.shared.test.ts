import { IDENTITY_HEADER, ROUTER_PRINCIPAL, signIdentity } from '../lib';
import {
  CreateApiKeyDocument,
  ReportTaskProgressDocument,
  TaskEventsAfterDocument,
  TaskEventsDocument,
  type TaskEventsSubscription,
} from './generated/graphql';
import { createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { firstEventAfter, subscribe, type Subscription } from './support/subscriptions';
import { taskIn } from './tasks.support';

/**
 * graphql-ws subscribers with the same caller and operation share one upstream subscription and
 * one execution per event (router/shared-subscriptions.ts); callers never share.
 */
let t: TestPlatform;
let alice: User;
let bob: User;
beforeAll(async () => {
  t = await startTestPlatform();
  [alice, bob] = [await t.register('Alice'), await t.register('Bob')];
});
afterAll(() => t.close());

/** Subscriptions running at the tasks subgraph, as it counts them. */
async function upstreamSubscriptions(): Promise<number> {
  const tasks = t.platform.subgraphs.find((subgraph) => subgraph.name === 'tasks')!;
  const headers = { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, t.secrets.internal) };
  const text = await (await fetch(new URL('/metrics', tasks.url), { headers })).text();
  return Number(/^agentry_subgraph_subscriptions_open\{subgraph="tasks"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

type TaskEvent = TaskEventsSubscription['taskEvents'];

interface Watcher {
  owner: User;
  titles: string[];
  subscription: Subscription<TaskEventsSubscription>;
}

/** Subscribes as `owner` (with `credential`) over graphql-ws and keeps the title of every task event. */
function watch(owner: User, credential = owner.credential): Watcher {
  const subscription = subscribe('graphql-ws', t.graphqlUrl, TaskEventsDocument, {}, credential);
  const watcher: Watcher = { owner, titles: [], subscription };
  void (async () => {
    for (;;) watcher.titles.push(((await subscription.next(120_000)).taskEvents as TaskEvent).task.title);
  })().catch(() => undefined);
  return watcher;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, attempt?: () => unknown) {
  for (let round = 0; round < 100; round++) {
    if (await condition()) return;
    await attempt?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Warm-up tasks of each owner until every watcher has seen one: all are live upstream. */
const allLive = (watchers: Watcher[]) =>
  until(
    () => watchers.every((w) => w.titles.length > 0),
    'every subscription to go live',
    () =>
      Promise.all([...new Set(watchers.map((w) => w.owner))].map((o) => createTask(o, undefined, 'warm-up'))),
  );

const markers = (w: Watcher) => w.titles.filter((title) => title !== 'warm-up');

test('subscribers of one caller share one upstream subscription and each gets every event; two callers never share', async () => {
  const before = await upstreamSubscriptions();
  const watchers = [
    ...Array.from({ length: 5 }, () => watch(alice)),
    ...Array.from({ length: 3 }, () => watch(bob)),
  ];
  try {
    await allLive(watchers);
    // One operation per caller, however many sockets watch it.
    expect((await upstreamSubscriptions()) - before).toBe(2);

    await createTask(alice, undefined, 'alice 1');
    await createTask(bob, undefined, 'bob 1');
    await createTask(alice, undefined, 'alice 2');
    const expected = (w: Watcher) => (w.owner === alice ? ['alice 1', 'alice 2'] : ['bob 1']);
    await until(
      () => watchers.every((w) => markers(w).length >= expected(w).length),
      'the markers to reach every subscriber',
    );
    for (const w of watchers) expect(markers(w)).toEqual(expected(w));
  } finally {
    await Promise.all(watchers.map((w) => w.subscription.close()));
  }
  await until(async () => (await upstreamSubscriptions()) === before, 'the upstream subscriptions to end');
});

test('a subscriber that leaves keeps the others’ stream; the last one out ends the upstream subscription', async () => {
  const before = await upstreamSubscriptions();
  const [leaving, staying] = [watch(alice), watch(alice)];
  try {
    await allLive([leaving, staying]);
    expect((await upstreamSubscriptions()) - before).toBe(1);

    await leaving.subscription.close();
    await createTask(alice, undefined, 'after one left');
    await until(() => markers(staying).includes('after one left'), 'the event after one left');
    expect(markers(leaving)).toEqual([]);
    expect((await upstreamSubscriptions()) - before).toBe(1);
  } finally {
    await staying.subscription.close();
  }
  await until(async () => (await upstreamSubscriptions()) === before, 'the upstream subscription to end');
});

test('one account through two credentials with other scopes runs two upstream subscriptions', async () => {
  const { createApiKey } = await alice.data(CreateApiKeyDocument, {
    input: { name: 'watcher', scopes: ['tasks'] },
  });
  const before = await upstreamSubscriptions();
  const watchers = [watch(alice), watch(alice, createApiKey.key)];
  try {
    await allLive(watchers);
    expect((await upstreamSubscriptions()) - before).toBe(2);
    await createTask(alice, undefined, 'seen by both');
    await until(() => watchers.every((w) => markers(w).includes('seen by both')), 'the event on both');
  } finally {
    await Promise.all(watchers.map((w) => w.subscription.close()));
  }
});

test('a replay is never shared: a later subscriber with the same cursor gets the whole replay', async () => {
  const id = await taskIn(alice, 'IN_PROGRESS', { title: 'replayed twice' });
  const progress = (value: number) => alice.data(ReportTaskProgressDocument, { id, progress: value });
  const live = subscribe(
    'graphql-ws',
    t.graphqlUrl,
    TaskEventsAfterDocument,
    { taskId: id },
    alice.credential,
  );
  let cursor: string;
  try {
    let warmUp = 0;
    await firstEventAfter(live, () => progress(++warmUp));
    await progress(40);
    let event;
    do event = (await live.next()).taskEvents;
    while (event.task.progress !== 40);
    cursor = event.seq;
  } finally {
    await live.close();
  }
  await progress(50);
  await progress(60);

  const replay = () =>
    subscribe(
      'graphql-ws',
      t.graphqlUrl,
      TaskEventsAfterDocument,
      { taskId: id, after: cursor },
      alice.credential,
    );
  const first = replay();
  let second: ReturnType<typeof replay> | undefined;
  try {
    expect((await first.next()).taskEvents.task.progress).toBe(50);
    expect((await first.next()).taskEvents.task.progress).toBe(60);
    // Subscribed while the first is open, with the very same variables: its own replay.
    second = replay();
    expect((await second.next()).taskEvents.task.progress).toBe(50);
    expect((await second.next()).taskEvents.task.progress).toBe(60);
  } finally {
    await Promise.all([first.close(), second?.close()]);
  }
});
