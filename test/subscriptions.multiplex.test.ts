import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { IDENTITY_HEADER, ROUTER_PRINCIPAL, randomSecret, signIdentity, type Identity } from '../lib';
import { TaskEventsDocument, type TaskEventsSubscription } from './generated/graphql';
import { createTask } from './support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';
import { subscribe, type Subscription, type Transport } from './support/subscriptions';

/**
 * The router carries every caller's subscriptions to a subgraph over one graphql-ws connection
 * (router/upstream-ws.ts), and each subscription still runs as its own caller (lib/subgraph-ws.ts).
 */
let t: TestPlatform;
let alice: User;
let bob: User;
beforeAll(async () => {
  t = await startTestPlatform();
  [alice, bob] = [await t.register('Alice'), await t.register('Bob')];
});
afterAll(() => t.close());

const PER_ACCOUNT = 10;

/** The tasks subgraph's count of graphql-ws connections: open now, and accepted since it started. */
async function tasksSockets(): Promise<{ open: number; opened: number }> {
  const tasks = t.platform.subgraphs.find((subgraph) => subgraph.name === 'tasks')!;
  const headers = { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, t.secrets.internal) };
  const text = await (await fetch(new URL('/metrics', tasks.url), { headers })).text();
  const read = (name: string) => {
    const match = new RegExp(`^${name}\\{subgraph="tasks"\\} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  return {
    open: read('agentry_subgraph_websockets_open'),
    opened: read('agentry_subgraph_websockets_opened_total'),
  };
}

type TaskEvent = TaskEventsSubscription['taskEvents'];

interface Watcher {
  owner: User;
  events: TaskEvent[];
  subscription: Subscription<TaskEventsSubscription>;
}

/** Subscribes as `owner` and keeps every event the subscription brings, in order. */
function watch(owner: User, transport: Transport): Watcher {
  const subscription = subscribe(transport, t.graphqlUrl, TaskEventsDocument, {}, owner.credential);
  const watcher: Watcher = { owner, events: [], subscription };
  void (async () => {
    for (;;) watcher.events.push((await subscription.next(120_000)).taskEvents);
  })().catch(() => undefined);
  return watcher;
}

async function until(condition: () => boolean, what: string, attempt?: () => Promise<unknown>) {
  for (let round = 0; round < 100; round++) {
    if (condition()) return;
    await attempt?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('many subscribers of two accounts share one upstream connection and each sees only its own tasks', async () => {
  const before = await tasksSockets();
  const watchers = [alice, bob].flatMap((owner) =>
    Array.from({ length: PER_ACCOUNT }, (_, i) => watch(owner, i % 2 ? 'sse' : 'graphql-ws')),
  );
  const created = new Map<User, Set<string>>([
    [alice, new Set()],
    [bob, new Set()],
  ]);
  const create = async (owner: User, title: string) => {
    const task = await createTask(owner, undefined, title);
    created.get(owner)!.add(task.id);
    return task;
  };
  try {
    // The router attaches each subscription upstream asynchronously: tasks until all are live.
    await until(
      () => watchers.every((w) => w.events.length > 0),
      'every subscription to go live',
      () => Promise.all([create(alice, 'warm-up'), create(bob, 'warm-up')]),
    );

    const sockets = await tasksSockets();
    expect(sockets.open - before.open).toBe(1);
    expect(sockets.opened - before.opened).toBe(1);

    await create(bob, 'bob 1');
    await create(alice, 'alice 1');
    await create(bob, 'bob 2');
    const last = (w: Watcher) => w.events.at(-1)?.task.title;
    await until(
      () => watchers.every((w) => last(w) === (w.owner === alice ? 'alice 1' : 'bob 2')),
      'the marker tasks to reach every subscriber',
    );

    for (const w of watchers) {
      // Nothing of the other account, ever; and the markers in their order.
      for (const event of w.events) expect(created.get(w.owner)!.has(event.task.id)).toBe(true);
      const markers = w.events.map((e) => e.task.title).filter((title) => title !== 'warm-up');
      expect(markers).toEqual(w.owner === alice ? ['alice 1'] : ['bob 1', 'bob 2']);
    }
  } finally {
    await Promise.all(watchers.map((w) => w.subscription.close()));
  }
});

describe('an operation on the router’s own connection to a subgraph', () => {
  const tasksWsUrl = () =>
    t.platform.subgraphs.find((subgraph) => subgraph.name === 'tasks')!.url.replace(/^http/, 'ws');
  const identityOf = (user: User): Identity => ({
    accountId: user.id,
    role: 'USER',
    scopes: ['*'],
    via: 'jwt',
  });

  // The tasks subgraph alone: its own fields, no Agent fields of the agents subgraph.
  const SUBGRAPH_TASK_EVENTS = 'subscription { taskEvents { kind at task { id title status } } }';

  /** The first result (or error) of one subscription with these extensions. */
  function first(client: ReturnType<typeof createClient>, extensions?: Record<string, unknown>) {
    return new Promise<{ data?: unknown; errors?: readonly { message: string; extensions?: unknown }[] }>(
      (resolve) => {
        const unsubscribe = client.subscribe(
          { query: SUBGRAPH_TASK_EVENTS, variables: {}, extensions },
          {
            next: (result) => {
              unsubscribe();
              resolve(result as { data?: unknown });
            },
            error: (error) => resolve({ errors: error as { message: string }[] }),
            complete: () => undefined,
          },
        );
      },
    );
  }

  test('runs as the caller signed in its extensions; without a valid one it is refused and the connection stays', async () => {
    const client = createClient({
      url: tasksWsUrl(),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      // Open from the start until disposed, so a close can only be the subgraph's doing.
      lazy: false,
      connectionParams: { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, t.secrets.internal) },
    });
    let closed = false;
    client.on('closed', () => (closed = true));
    try {
      const refusals = await Promise.all([
        first(client),
        first(client, { [IDENTITY_HEADER]: signIdentity(identityOf(alice), randomSecret()) }),
        first(client, { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, t.secrets.internal) }),
      ]);
      for (const refusal of refusals) {
        expect(refusal.data).toBeUndefined();
        expect(refusal.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
      }

      const hers: TaskEvent[] = [];
      const stop = client.subscribe(
        {
          query: SUBGRAPH_TASK_EVENTS,
          variables: {},
          extensions: { [IDENTITY_HEADER]: signIdentity(identityOf(alice), t.secrets.internal) },
        },
        {
          next: (result) => hers.push((result.data as TaskEventsSubscription).taskEvents),
          error: () => undefined,
          complete: () => undefined,
        },
      );
      // Bob's task first each time: the subscription, running as Alice, must skip it.
      await until(
        () => hers.length > 0,
        'an event for the subscription run as Alice',
        async () => {
          await createTask(bob, undefined, 'not hers');
          await createTask(alice, undefined, 'hers');
        },
      );
      stop();
      expect(hers.map((event) => event.task.title)).toEqual(hers.map(() => 'hers'));
      expect(closed).toBe(false);
    } finally {
      await client.dispose();
    }
  });
});
