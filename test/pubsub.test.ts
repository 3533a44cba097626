import { createLogger, PostgresPubSub, RedisPubSub, type PubSub } from '../lib';
import { createTestDatabase, withAdmin } from './support/database';

const log = createLogger('pubsub-test', 'silent');

/** Reads with a time limit; a read that timed out stays pending for the next call, so no event is lost. */
function reader(iterator: AsyncIterator<unknown>) {
  let pending: Promise<IteratorResult<unknown>> | undefined;
  return async (ms: number): Promise<unknown> => {
    pending ??= iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    const result = await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return result;
    pending = undefined;
    return result.value;
  };
}

/** Publishes until the subscriber's LISTEN/SUBSCRIBE is in place, then checks delivery across instances. */
async function checkCrossInstance(make: () => PubSub) {
  const [a, b] = [make(), make()];
  try {
    const topic = `test.${Date.now()}`;
    const events = a.subscribe(topic);
    const nextWithin = reader(events);
    let first: unknown = 'timeout';
    for (let i = 0; i < 50 && first === 'timeout'; i++) {
      await b.publish(topic, { warmUp: i });
      first = await nextWithin(100);
    }
    expect(first).toMatchObject({ warmUp: expect.any(Number) });
    while ((await nextWithin(100)) !== 'timeout'); // drain the rest of the warm-up

    await b.publish(topic, { n: 1, text: 'héllo' });
    await b.publish(`${topic}.other`, { n: 99 });
    await b.publish(topic, { n: 2 });
    expect(await nextWithin(2000)).toEqual({ n: 1, text: 'héllo' });
    expect(await nextWithin(2000)).toEqual({ n: 2 });

    await events.return?.();
    expect(await nextWithin(1000)).toBeUndefined(); // ended, not timed out
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

test('PostgreSQL LISTEN/NOTIFY carries events between two instances, in order, per topic', async () => {
  await checkCrossInstance(() => new PostgresPubSub(process.env.TEST_DATABASE_URL!, log));
});

test('PostgreSQL refuses an event larger than NOTIFY can carry instead of truncating it', async () => {
  const pubsub = new PostgresPubSub(process.env.TEST_DATABASE_URL!, log);
  try {
    await expect(pubsub.publish('big', { text: 'x'.repeat(8000) })).rejects.toThrow(/larger than/);
  } finally {
    await pubsub.close();
  }
});

test('PostgreSQL: closing while a subscription is being set up leaves no connection open', async () => {
  const database = await createTestDatabase();
  const datname = new URL(database.url).pathname.slice(1);
  const connections = () =>
    withAdmin(async (client) => {
      const { rows } = await client.query<{ query: string }>(
        'select query from pg_stat_activity where datname = $1',
        [datname],
      );
      return rows.map((row) => row.query);
    });
  try {
    const pubsub = new PostgresPubSub(database.url, log);
    pubsub.subscribe('closing'); // its LISTEN is on the way when close() ends it
    await pubsub.close();
    // Time for anything still queued to run: a connection opened now would stay open for good.
    await new Promise((resolve) => setTimeout(resolve, 300));
    let open = await connections();
    // The server may list a closed connection's backend for a moment while it exits.
    for (let look = 0; look < 50 && open.length; look++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      open = await connections();
    }
    expect(open).toEqual([]);
  } finally {
    await database.drop();
  }
});

const redisTest = process.env.REDIS_URL ? test : test.skip;
redisTest('Redis carries events between two instances when REDIS_URL is set', async () => {
  await checkCrossInstance(() => new RedisPubSub(process.env.REDIS_URL!, log));
});
