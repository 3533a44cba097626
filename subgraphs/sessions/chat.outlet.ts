import type { EntityManager, Logger, PubSub } from '../../lib';
import type { Turn } from './chat.entities';
import { ChatEventKind, ChatEventStore, chatTopic, type ChatEventPayload } from './chat.events';

export const chatEvent = (
  turn: Turn,
  seq: number,
  kind: ChatEventKind,
  fields: Partial<ChatEventPayload> = {},
): ChatEventPayload => ({
  sessionId: turn.sessionId,
  turnId: turn.id,
  seq,
  kind,
  delta: null,
  usage: null,
  error: null,
  at: new Date().toISOString(),
  ...fields,
});

/** One batching event store per database (one per process, but tests run several platforms). */
const eventStores = new WeakMap<object, ChatEventStore>();
const eventStoreOf = (em: EntityManager): ChatEventStore => {
  const driver = em.getDriver();
  let store = eventStores.get(driver);
  if (!store) eventStores.set(driver, (store = new ChatEventStore(em.fork())));
  return store;
};

/**
 * Where a running turn's events leave: numbered on from the session's last stored one, published at
 * once and stored meanwhile (many turns' events per insert), so a token never waits for a disk
 * flush. Replay still reads the stored log, and a subscriber drops a seq it saw and waits for the
 * store to fill a gap (ChatEventStream). Tokens that arrive while the previous publish is in flight
 * leave together as one TOKEN event: an idle server sends each token at once, a busy one sends
 * fewer, larger events instead of falling behind. One publish at a time keeps seq order.
 */
export class TurnOutlet {
  private seq: number;
  private pending = '';
  private sending: Promise<void> | undefined;
  /** The last publish: the pub/sub sends in publish order, so this waits for all of them. */
  private published = Promise.resolve();
  private stored: Promise<unknown> = Promise.resolve();
  /** Why an event could not be stored; the turn stops at its next token. */
  storeFailure: unknown;

  constructor(
    private readonly deps: { em: EntityManager; pubsub: PubSub; log: Logger },
    private readonly turn: Turn,
    lastSeq: number,
  ) {
    this.seq = lastSeq;
  }

  /** The seq of the last event numbered here (published, maybe not stored). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Numbers an event, stores it in the background and resolves once it is published. */
  emit(kind: ChatEventKind, fields?: Partial<ChatEventPayload>): Promise<void> {
    const event = chatEvent(this.turn, ++this.seq, kind, fields);
    const storing = eventStoreOf(this.deps.em)
      .store(event)
      .catch((error: unknown) => {
        this.storeFailure ??= error;
      });
    this.stored = Promise.all([this.stored, storing]);
    return this.publish(event);
  }

  private publish(event: ChatEventPayload): Promise<void> {
    this.published = this.deps.pubsub.publish(chatTopic(this.turn.ownerId), event).catch((error: unknown) => {
      this.deps.log.error({ err: error, turnId: this.turn.id, seq: event.seq }, 'chat event not published');
    });
    return this.published;
  }

  /** Queues a token; it leaves with the next TOKEN event. */
  token(delta: string): void {
    this.pending += delta;
    this.sending ??= this.sendPending();
  }

  private async sendPending(): Promise<void> {
    while (this.pending) {
      const delta = this.pending;
      this.pending = '';
      await this.emit(ChatEventKind.TOKEN, { delta });
    }
    this.sending = undefined;
  }

  /** Resolves once every queued token is published and every event numbered here is stored. */
  async settled(): Promise<void> {
    await this.sending;
    await this.stored;
  }

  /** Resolves once every event is published. */
  async sent(): Promise<void> {
    await this.published;
  }
}
