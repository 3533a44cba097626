import { badInput, ReplayThenLive, type EntityManager, type Identity } from '../../lib';
import type { TaskEventPayload } from './task.events';

/** The most events a resumed subscription replays; further behind, a client lists its tasks again. */
export const MAX_REPLAY = 1000;
/** How long stored events are kept for replay. */
export const TASK_EVENT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Writes the event and returns it with its seq (the cursor). */
export async function storeTaskEvent(
  em: EntityManager,
  event: Omit<TaskEventPayload, 'seq'>,
): Promise<TaskEventPayload> {
  const [row] = await em.execute<{ seq: string }[]>(
    `insert into "tasks"."task_event" ("task_id", "creator_id", "payload", "at") values (?, ?, ?, ?) returning "seq"`,
    [event.task.id, event.task.creatorId, JSON.stringify(event), event.at],
  );
  return { ...event, seq: String(row.seq) };
}

/** Forgets events older than the retention; the task clock calls it. */
export async function pruneTaskEvents(em: EntityManager, now = new Date()): Promise<void> {
  await em.execute(`delete from "tasks"."task_event" where "at" < ?`, [
    new Date(now.getTime() - TASK_EVENT_RETENTION_MS),
  ]);
}

/** A cursor is the decimal seq of an event. */
export function parseCursor(after: string): number {
  if (!/^\d{1,15}$/.test(after))
    throw badInput('after must be a cursor from a task event (seq)', { field: 'after' });
  return Number(after);
}

/** Stored events after `after` that the subscriber may see (their own, unless an admin), oldest first. */
async function storedAfter(em: EntityManager, subscriber: Identity, after: number, limit: number) {
  const own = subscriber.role === 'ADMIN' ? '' : 'and "creator_id" = ?';
  const rows = await em.execute<{ seq: string; payload: Omit<TaskEventPayload, 'seq'> }[]>(
    `select "seq", "payload" from "tasks"."task_event" where "seq" > ? ${own} order by "seq" limit ?`,
    subscriber.role === 'ADMIN' ? [after, limit] : [after, subscriber.accountId, limit],
  );
  return rows.map((row): TaskEventPayload => ({ ...row.payload, seq: String(row.seq) }));
}

/** How many delivered seqs a stream remembers to drop a repeat. */
const REMEMBERED = 5000;

/**
 * Task events from a cursor on: stored events after it first, then live ones, without gap or
 * duplicate. Every event is stored before it is published, so a live event whose seq skips ahead
 * of the highest seen makes the stream read the table for the ones in between; seqs already
 * delivered are dropped. Events of concurrent transactions may commit out of seq order; each is
 * still delivered once, when it is first seen.
 */
export class TaskEventStream extends ReplayThenLive<TaskEventPayload> {
  private readonly delivered = new Set<number>();
  private highest: number;

  private constructor(
    live: AsyncIterableIterator<unknown>,
    private readonly em: EntityManager,
    private readonly subscriber: Identity,
    private readonly matches: (payload: TaskEventPayload) => boolean,
    after: number,
  ) {
    super(live);
    this.highest = after;
  }

  /** Listens first, then reads the table, so nothing falls between the two. */
  static async open(options: {
    live: AsyncIterableIterator<unknown>;
    em: EntityManager;
    subscriber: Identity;
    matches: (payload: TaskEventPayload) => boolean;
    after: number;
  }): Promise<TaskEventStream> {
    const { live, em, subscriber, matches, after } = options;
    const stream = new TaskEventStream(live, em, subscriber, matches, after);
    try {
      const missed = await storedAfter(em, subscriber, after, MAX_REPLAY + 1);
      if (missed.length > MAX_REPLAY)
        throw badInput(
          `more than ${MAX_REPLAY} events happened after ${after}: list your tasks again, then subscribe without after`,
          { field: 'after' },
        );
      stream.take(missed);
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  private take(events: TaskEventPayload[]): void {
    for (const event of events) {
      const seq = Number(event.seq);
      this.highest = Math.max(this.highest, seq);
      if (this.delivered.has(seq)) continue;
      this.delivered.add(seq);
      if (this.delivered.size > REMEMBERED) this.delivered.delete(this.delivered.values().next().value!);
      if (this.matches(event)) this.ready.push(event);
    }
  }

  protected override catchUpRead(): Promise<void> {
    return this.fill();
  }

  private async fill(): Promise<void> {
    this.take(await storedAfter(this.em, this.subscriber, this.highest, MAX_REPLAY));
  }

  protected override async accept(event: TaskEventPayload): Promise<void> {
    const seq = Number(event.seq);
    if (seq > this.highest + 1) await this.fill();
    this.take([event]);
  }
}

/** Live events only, those that `matches`: what a subscription without a cursor receives. */
export function liveOnly(
  live: AsyncIterableIterator<unknown>,
  matches: (payload: TaskEventPayload) => boolean,
): AsyncIterableIterator<TaskEventPayload> {
  const iterator: AsyncIterableIterator<TaskEventPayload> = {
    async next() {
      for (;;) {
        const arrived = await live.next();
        if (arrived.done) return { value: undefined, done: true };
        if (matches(arrived.value as TaskEventPayload))
          return { value: arrived.value as TaskEventPayload, done: false };
      }
    },
    async return() {
      await live.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
