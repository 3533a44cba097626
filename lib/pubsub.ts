import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from './logger';

/**
 * Events that cross processes: a subgraph replica publishes after commit and every replica's
 * subscribers receive it. Payloads are JSON; one process's messages go out in publish order.
 */
export interface PubSub {
  publish(topic: string, payload: unknown): Promise<void>;
  subscribe(topic: string): AsyncIterableIterator<unknown>;
  close(): Promise<void>;
}

/** How many undelivered events one subscriber may hold before it is cut off as too slow. */
const SUBSCRIBER_BUFFER = 10_000;

/** One subscriber's queue: pushed by the transport, pulled by the GraphQL subscription. */
class Subscriber implements AsyncIterableIterator<unknown> {
  private readonly buffer: unknown[] = [];
  private waiting: ((result: IteratorResult<unknown>) => void) | undefined;
  private failure: Error | undefined;
  private done = false;

  constructor(private readonly onEnd: (subscriber: Subscriber) => void) {}

  push(value: unknown): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
    } else if (this.buffer.length < SUBSCRIBER_BUFFER) {
      this.buffer.push(value);
    } else {
      this.failure = new Error('subscriber too slow: event buffer full');
      this.end();
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift(), done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<unknown>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.done) return;
    this.done = true;
    this.onEnd(this);
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Fans one transport-level listener per topic out to any number of local subscribers. */
abstract class FanOutPubSub implements PubSub {
  private readonly topics = new Map<string, Set<Subscriber>>();

  constructor(protected readonly log: Logger) {}

  protected abstract send(topic: string, message: string): Promise<void>;
  protected abstract listen(topic: string): Promise<void>;
  protected abstract unlisten(topic: string): Promise<void>;
  protected abstract disconnect(): Promise<void>;

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.send(topic, JSON.stringify(payload));
  }

  subscribe(topic: string): AsyncIterableIterator<unknown> {
    let subscribers = this.topics.get(topic);
    if (!subscribers) {
      subscribers = new Set();
      this.topics.set(topic, subscribers);
      this.listen(topic).catch((error: unknown) => this.log.error({ err: error, topic }, 'listen failed'));
    }
    const subscriber = new Subscriber((ended) => this.remove(topic, ended));
    subscribers.add(subscriber);
    return subscriber;
  }

  /** Called by the transport for every message that arrives on a topic. */
  protected deliver(topic: string, message: string): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers) return;
    const payload: unknown = JSON.parse(message);
    for (const subscriber of subscribers) subscriber.push(payload);
  }

  private remove(topic: string, subscriber: Subscriber): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers?.delete(subscriber) || subscribers.size > 0) return;
    this.topics.delete(topic);
    this.unlisten(topic).catch((error: unknown) => this.log.warn({ err: error, topic }, 'unlisten failed'));
  }

  async close(): Promise<void> {
    for (const subscribers of this.topics.values()) for (const subscriber of subscribers) subscriber.end();
    this.topics.clear();
    await this.disconnect();
  }
}

/** NOTIFY carries at most 8000 bytes; larger payloads are refused rather than truncated. */
const MAX_NOTIFY_BYTES = 7900;

/** Most messages one NOTIFY round trip carries. */
const MAX_NOTIFY_BATCH = 500;

interface Outgoing {
  topic: string;
  message: string;
  sent: () => void;
  failed: (error: unknown) => void;
}

/** The default transport: PostgreSQL LISTEN/NOTIFY on the database the subgraphs already use. */
export class PostgresPubSub extends FanOutPubSub {
  private readonly pool: pg.Pool;
  private listener: Promise<pg.Client> | undefined;
  /** LISTEN/UNLISTEN one after another: a pg client runs one query at a time. */
  private listening: Promise<unknown> = Promise.resolve();
  /** Messages published while the previous round trip is in flight, in publish order. */
  private outgoing: Outgoing[] = [];
  private sending = false;
  private closed = false;

  constructor(
    private readonly url: string,
    log: Logger,
  ) {
    super(log);
    this.pool = new pg.Pool({ connectionString: url, max: 2 });
  }

  protected send(topic: string, message: string): Promise<void> {
    if (Buffer.byteLength(message) > MAX_NOTIFY_BYTES) {
      return Promise.reject(new Error(`event on ${topic} is larger than ${MAX_NOTIFY_BYTES} bytes`));
    }
    return new Promise((sent, failed) => {
      this.outgoing.push({ topic, message, sent, failed });
      if (!this.sending) void this.drain();
    });
  }

  /**
   * One statement notifies everything published since the last one, so a busy process pays one
   * round trip per batch rather than per event; one batch at a time keeps the order. (Within one
   * statement PostgreSQL folds identical topic-and-payload pairs into one; every event we publish
   * carries its own id or seq, and the rest are wake-ups.)
   */
  private async drain(): Promise<void> {
    this.sending = true;
    while (this.outgoing.length) {
      const batch = this.outgoing.splice(0, MAX_NOTIFY_BATCH);
      try {
        await this.pool.query(
          'SELECT pg_notify(n.topic, n.message) FROM unnest($1::text[], $2::text[]) AS n(topic, message)',
          [batch.map((item) => item.topic), batch.map((item) => item.message)],
        );
        for (const item of batch) item.sent();
      } catch (error) {
        for (const item of batch) item.failed(error);
      }
    }
    this.sending = false;
  }

  private connectListener(): Promise<pg.Client> {
    this.listener ??= (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', (note) => this.deliver(note.channel, note.payload ?? 'null'));
      client.on('error', (error) => this.log.error({ err: error }, 'pub/sub listener connection failed'));
      await client.connect();
      return client;
    })();
    return this.listener;
  }

  private onListener(command: string): Promise<void> {
    const run = this.listening.then(async () => {
      // Closed: nothing listens any more, and an UNLISTEN queued by a subscriber that close() ended
      // must not open a connection of its own (it stayed open and kept the process alive).
      if (this.closed) return;
      const client = await this.connectListener();
      await client.query(command);
    });
    this.listening = run.catch(() => undefined);
    return run;
  }

  protected listen(topic: string): Promise<void> {
    return this.onListener(`LISTEN ${pg.escapeIdentifier(topic)}`);
  }

  protected unlisten(topic: string): Promise<void> {
    return this.onListener(`UNLISTEN ${pg.escapeIdentifier(topic)}`);
  }

  protected async disconnect(): Promise<void> {
    this.closed = true;
    await this.listening;
    const listener = this.listener;
    this.listener = undefined;
    await Promise.all([listener?.then((client) => client.end()), this.pool.end()]);
  }
}

/** Redis pub/sub, used when `REDIS_URL` is set so events cross replicas without touching Postgres. */
export class RedisPubSub extends FanOutPubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;

  constructor(url: string, log: Logger) {
    super(log);
    this.publisher = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  protected async send(topic: string, message: string): Promise<void> {
    await this.publisher.publish(topic, message);
  }

  protected async listen(topic: string): Promise<void> {
    await this.subscriber.subscribe(topic);
  }

  protected async unlisten(topic: string): Promise<void> {
    await this.subscriber.unsubscribe(topic);
  }

  protected async disconnect(): Promise<void> {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

export function createPubSub(options: { databaseUrl: string; redisUrl?: string; log: Logger }): PubSub {
  return options.redisUrl
    ? new RedisPubSub(options.redisUrl, options.log)
    : new PostgresPubSub(options.databaseUrl, options.log);
}
