import { setTimeout as delay } from 'node:timers/promises';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BigIntScalar, ReplayThenLive, type EntityManager } from '../../lib';

export enum ChatEventKind {
  STARTED = 'STARTED',
  TOKEN = 'TOKEN',
  COMPLETED = 'COMPLETED',
  ERROR = 'ERROR',
}
registerEnumType(ChatEventKind, { name: 'ChatEventKind' });

@ObjectType({ description: 'Tokens and price of one answer.' })
export class ChatUsage {
  @Field(() => Int)
  promptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => Int)
  totalTokens!: number;

  @Field({ description: 'True when counted approximately because the upstream reported no usage.' })
  estimated!: boolean;

  @Field(() => BigIntScalar, { description: 'Price in micro-USD (1 USD = 1,000,000).' })
  costMicroUsd!: bigint;

  @Field(() => BigIntScalar, {
    nullable: true,
    description: 'Micro-USD charged from your credits for it; null when billing is off.',
  })
  chargedMicroUsd?: bigint | null;
}

@ObjectType({ description: 'Why an answer stopped.' })
export class ChatError {
  @Field({
    description:
      'UPSTREAM_UNAVAILABLE, UPSTREAM_ERROR, UPSTREAM_REJECTED, UPSTREAM_TIMEOUT, UPSTREAM_INTERRUPTED or CANCELLED.',
  })
  code!: string;

  @Field()
  message!: string;
}

@ObjectType({ description: 'One step of a streamed answer. `seq` counts up by one per session.' })
export class ChatEvent {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => ID)
  turnId!: string;

  @Field(() => Int, {
    description: 'Resume after a reconnect by subscribing with afterSeq: the last seq seen.',
  })
  seq!: number;

  @Field(() => ChatEventKind)
  kind!: ChatEventKind;

  @Field(() => String, { nullable: true, description: 'The text a TOKEN event adds.' })
  delta!: string | null;

  @Field(() => ChatUsage, { nullable: true, description: 'On COMPLETED (and ERROR once tokens came).' })
  usage!: ChatUsage | null;

  @Field(() => ChatError, { nullable: true })
  error!: ChatError | null;

  @Field()
  at!: Date;
}

type UsageWire = Omit<ChatUsage, 'costMicroUsd' | 'chargedMicroUsd'> & {
  costMicroUsd: string;
  chargedMicroUsd?: string | null;
};

/** The JSON form stored for replay and sent over the pub/sub. */
export interface ChatEventPayload {
  sessionId: string;
  turnId: string;
  seq: number;
  kind: ChatEventKind;
  delta: string | null;
  usage: UsageWire | null;
  error: ChatError | null;
  at: string;
}

export const toUsageWire = (usage: ChatUsage): UsageWire => ({
  ...usage,
  costMicroUsd: usage.costMicroUsd.toString(),
  chargedMicroUsd: usage.chargedMicroUsd?.toString() ?? null,
});

export function fromPayload(payload: ChatEventPayload): ChatEvent {
  return {
    ...payload,
    usage: payload.usage && {
      ...payload.usage,
      costMicroUsd: BigInt(payload.usage.costMicroUsd),
      chargedMicroUsd: payload.usage.chargedMicroUsd ? BigInt(payload.usage.chargedMicroUsd) : null,
    },
    at: new Date(payload.at),
  };
}

/** One topic per account: a session's subscribers and the account's dashboards listen on it. */
export const chatTopic = (ownerId: string) => `sessions.chat.${ownerId}`;

const EVENT_COLUMNS = `"session_id", "seq", "turn_id", "kind", "delta", "usage", "error", "at"`;

const asRow = (event: ChatEventPayload) => ({
  session_id: event.sessionId,
  seq: event.seq,
  turn_id: event.turnId,
  kind: event.kind,
  delta: event.delta,
  usage: event.usage,
  error: event.error,
  at: event.at,
});

/** Inserts events given as one JSON array: one statement, whatever their number. */
function insertEvents(em: EntityManager, events: ChatEventPayload[]): Promise<unknown> {
  return em.execute(
    `insert into "sessions"."chat_event" (${EVENT_COLUMNS})
     select ${EVENT_COLUMNS} from json_to_recordset(?::json) as e("session_id" text, "seq" integer,
       "turn_id" text, "kind" text, "delta" text, "usage" jsonb, "error" jsonb, "at" timestamptz)`,
    [JSON.stringify(events.map(asRow))],
  );
}

/** Stores one event (a turn's last, with the turn). */
export async function storeEvent(em: EntityManager, event: ChatEventPayload): Promise<void> {
  await insertEvents(em, [event]);
}

/** Most events one insert carries. */
const MAX_STORE_BATCH = 500;

/**
 * Stores the events of every turn this process runs, many per statement: the events that arrive
 * while one insert is in flight go in the next. A busy server then pays one round trip per batch
 * instead of one per token. Each turn has at most one event waiting, so its order holds.
 */
export class ChatEventStore {
  private waiting: { event: ChatEventPayload; stored: () => void; failed: (error: unknown) => void }[] = [];
  private storing = false;

  constructor(private readonly em: EntityManager) {}

  store(event: ChatEventPayload): Promise<void> {
    return new Promise((stored, failed) => {
      this.waiting.push({ event, stored, failed });
      if (!this.storing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.storing = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, MAX_STORE_BATCH);
      try {
        await insertEvents(
          this.em.fork(),
          batch.map((item) => item.event),
        );
        for (const item of batch) item.stored();
      } catch (error) {
        // One bad event (a seq another replica took) must not fail the others: retry them alone.
        if (batch.length === 1) batch[0].failed(error);
        else
          for (const item of batch)
            await insertEvents(this.em.fork(), [item.event]).then(item.stored, item.failed);
      }
    }
    this.storing = false;
  }
}

interface EventRow {
  session_id: string;
  seq: number;
  turn_id: string;
  kind: ChatEventKind;
  delta: string | null;
  usage: UsageWire | null;
  error: ChatError | null;
  at: Date;
}

export async function eventsAfter(
  em: EntityManager,
  sessionId: string,
  afterSeq: number,
): Promise<ChatEventPayload[]> {
  const rows: EventRow[] = await em.execute(
    `select * from "sessions"."chat_event" where "session_id" = ? and "seq" > ? order by "seq"`,
    [sessionId, afterSeq],
  );
  return rows.map((row) => ({
    sessionId: row.session_id,
    turnId: row.turn_id,
    seq: row.seq,
    kind: row.kind,
    delta: row.delta,
    usage: row.usage,
    error: row.error,
    at: new Date(row.at).toISOString(),
  }));
}

export async function lastSeq(em: EntityManager, sessionId: string): Promise<number> {
  const [row] = await em.execute<{ seq: number | null }[]>(
    `select max("seq") as "seq" from "sessions"."chat_event" where "session_id" = ?`,
    [sessionId],
  );
  return row?.seq ?? 0;
}

/** How often, and at most how long, a stream reads the table for events it missed live. */
const GAP_POLL_MS = 10;
const GAP_WAIT_MS = 30_000;

/**
 * Live events of one account, in seq order per session with neither gap nor duplicate: stored
 * events after `afterSeq` first, then live ones; a repeated seq is dropped, and a live event that
 * skips seqs waits until the table holds the skipped ones (events are published while they are
 * being stored, so they may not be there yet). A process stores a session's events in seq order, so
 * once a later one is in the table the gap is as full as it will get (an insert that failed stopped
 * its turn); a database that stays away ends the wait after GAP_WAIT_MS.
 */
export class ChatEventStream extends ReplayThenLive<ChatEventPayload> {
  private readonly lastSeen = new Map<string, number>();

  private constructor(
    live: AsyncIterableIterator<unknown>,
    private readonly em: EntityManager,
    private readonly sessionId: string | undefined,
  ) {
    super(live);
  }

  /** Listens first, then reads the table, so nothing falls between the two. */
  static async open(options: {
    live: AsyncIterableIterator<unknown>;
    em: EntityManager;
    sessionId?: string;
    afterSeq?: number;
  }): Promise<ChatEventStream> {
    const stream = new ChatEventStream(options.live, options.em, options.sessionId);
    try {
      if (options.sessionId) {
        if (options.afterSeq === undefined)
          stream.lastSeen.set(options.sessionId, await lastSeq(options.em, options.sessionId));
        else await stream.fill(options.sessionId, options.afterSeq);
      }
    } catch (error) {
      await stream.return();
      throw error;
    }
    return stream;
  }

  private async fill(sessionId: string, afterSeq: number): Promise<void> {
    const missed = await eventsAfter(this.em, sessionId, afterSeq);
    this.ready.push(...missed);
    this.lastSeen.set(sessionId, missed.at(-1)?.seq ?? afterSeq);
  }

  protected override async catchUpRead(): Promise<void> {
    for (const [sessionId, seq] of this.lastSeen) await this.fill(sessionId, seq);
  }

  protected override async accept(event: ChatEventPayload): Promise<void> {
    if (this.sessionId && event.sessionId !== this.sessionId) return;
    const last = this.lastSeen.get(event.sessionId);
    if (last !== undefined && event.seq <= last) return;
    if (last !== undefined && event.seq > last + 1) await this.fillGap(event.sessionId, last, event.seq);
    this.ready.push(event);
    this.lastSeen.set(event.sessionId, event.seq);
  }

  private async fillGap(sessionId: string, last: number, next: number): Promise<void> {
    const deadline = performance.now() + GAP_WAIT_MS;
    for (;;) {
      const stored = await eventsAfter(this.em, sessionId, last);
      const missed = stored.filter((event) => event.seq < next);
      const settled = missed.length === next - last - 1 || missed.length < stored.length;
      if (settled || performance.now() >= deadline) {
        this.ready.push(...missed);
        return;
      }
      await delay(GAP_POLL_MS);
    }
  }
}
