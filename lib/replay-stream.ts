const CATCH_UP = Symbol('catch-up');

/** One extra read of the store this long after opening finds events published before listening began. */
const CATCH_UP_AFTER_MS = 1000;

/**
 * The driver of a subscription that replays stored events and then continues live: subclasses
 * decide what a live event means (deliver it, drop a repeat, fetch a gap) and how to read the store
 * again; this class interleaves live events with that one catch-up read and ends cleanly.
 */
export abstract class ReplayThenLive<T> implements AsyncIterableIterator<T> {
  /** Events ready for the client, in order. */
  protected readonly ready: T[] = [];
  private pending: Promise<IteratorResult<unknown>> | undefined;
  private catchUp: Promise<typeof CATCH_UP>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  protected constructor(private readonly live: AsyncIterableIterator<unknown>) {
    this.catchUp = new Promise(
      (resolve) => (this.timer = setTimeout(() => resolve(CATCH_UP), CATCH_UP_AFTER_MS)),
    );
  }

  /** A live event arrived from the pub/sub. */
  protected abstract accept(event: T): Promise<void>;

  /** Reads the store again for anything published between opening and listening. */
  protected abstract catchUpRead(): Promise<void>;

  async next(): Promise<IteratorResult<T>> {
    while (!this.closed) {
      const event = this.ready.shift();
      if (event) return { value: event, done: false };
      this.pending ??= this.live.next();
      const arrived = await Promise.race([this.pending, this.catchUp]);
      if (arrived === CATCH_UP) {
        this.catchUp = new Promise(() => undefined);
        await this.catchUpRead();
        continue;
      }
      this.pending = undefined;
      if (arrived.done) break;
      await this.accept(arrived.value as T);
    }
    return this.return();
  }

  async return(): Promise<IteratorResult<T>> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.live.return?.();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
