import { createClient, type Client } from 'graphql-ws';

export interface Request {
  query: string;
  variables?: Record<string, unknown>;
}

/**
 * One panel's subscriptions. `requests` is asked again on every (re)connect, so each carries the
 * panel's latest resume cursor; `resume` runs first on a reconnect, for feeds without a cursor.
 */
export interface Feed {
  requests(): Request[];
  onData(data: unknown): void;
  onError(message: string): void;
  resume?(): Promise<void>;
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'refused';

/** Without a pong this long after a ping, the socket is taken for dead and replaced. */
const PONG_TIMEOUT_MS = 5_000;
const KEEP_ALIVE_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;

const isGraphQLErrors = (error: unknown): error is { message: string }[] =>
  Array.isArray(error) && error.every((e) => typeof e?.message === 'string');

/**
 * One graphql-ws connection to the router, replaced after any drop. graphql-ws' own retry would
 * re-send each subscription with its first variables; here each feed is asked for its cursor again.
 */
export class LiveConnection {
  private client?: Client;
  private socket?: WebSocket;
  private readonly feeds = new Set<Feed>();
  private attempts = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private stopped = false;
  private everConnected = false;

  constructor(
    private readonly url: string,
    /** Read on each (re)connect, so a renewed access token is the one presented. */
    private readonly credential: () => string,
    private readonly onState: (state: ConnectionState, detail?: string) => void,
  ) {
    addEventListener('offline', this.drop);
    addEventListener('online', this.reconnectNow);
  }

  add(feed: Feed): void {
    this.feeds.add(feed);
    if (this.client && this.socket?.readyState === WebSocket.OPEN) this.open(this.client, feed);
  }

  /** A one-off subscription on the current connection (a chat message); ends with the socket. */
  once(request: Request, onData: (data: unknown) => void, onEnd: (error?: string) => void): () => void {
    if (!this.client) {
      onEnd('not connected');
      return () => undefined;
    }
    return this.client.subscribe(request, {
      next: (result) => (result.errors?.length ? onEnd(result.errors[0].message) : onData(result.data)),
      error: (error) => onEnd(isGraphQLErrors(error) ? error[0].message : 'connection lost'),
      complete: () => onEnd(),
    });
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    removeEventListener('offline', this.drop);
    removeEventListener('online', this.reconnectNow);
    void this.client?.dispose();
  }

  private connect(): void {
    this.onState(this.everConnected ? 'reconnecting' : 'connecting');
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    const client = createClient({
      url: this.url,
      connectionParams: () => ({ authorization: `Bearer ${this.credential()}` }),
      lazy: false,
      retryAttempts: 0,
      keepAlive: KEEP_ALIVE_MS,
      // A failed attempt is reported through `closed`, which schedules the next one.
      onNonLazyError: () => undefined,
      on: {
        connected: (socket) => {
          this.socket = socket as WebSocket;
          void this.connected(client);
        },
        ping: (received) => {
          if (!received) pongTimer = setTimeout(() => this.abandon('Pong timeout'), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: (event) => {
          clearTimeout(pongTimer);
          if (client === this.client) this.closed((event as CloseEvent | undefined)?.code);
        },
      },
    });
    this.client = client;
  }

  private async connected(client: Client): Promise<void> {
    const resumed = this.everConnected;
    this.everConnected = true;
    this.attempts = 0;
    this.onState('live');
    for (const feed of this.feeds) {
      if (resumed) await feed.resume?.().catch((error: Error) => feed.onError(error.message));
      if (client === this.client) this.open(client, feed);
    }
  }

  private open(client: Client, feed: Feed): void {
    for (const request of feed.requests())
      client.subscribe(request, {
        next: (result) =>
          result.errors?.length ? feed.onError(result.errors[0].message) : feed.onData(result.data),
        // A dropped socket is the connection's business (closed); an operation's errors are the feed's.
        error: (error) => isGraphQLErrors(error) && feed.onError(error[0].message),
        complete: () => undefined,
      });
  }

  /**
   * The credential was renewed: a new connection presents it (the router admitted this one with
   * the old), and every feed resumes from its cursor as after any drop.
   */
  renew(): void {
    this.attempts = 0;
    this.abandon('Credential renewed', 0);
  }

  private closed(code?: number, delayMs?: number): void {
    this.socket = undefined;
    const old = this.client;
    this.client = undefined;
    void old?.dispose();
    if (this.stopped) return;
    if (code === 4401 || code === 4403) {
      this.onState('refused', 'the platform refused this credential');
      return;
    }
    const delay =
      delayMs ?? Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempts++) * (0.75 + Math.random() / 2);
    this.onState('reconnecting', `retrying in ${Math.round(delay / 100) / 10} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * A socket taken for dead is replaced at once: its closing handshake may never finish, and its
   * late close event belongs to a client that is no longer current.
   */
  private abandon(reason: string, delayMs?: number): void {
    if (!this.client) return;
    this.socket?.close(4499, reason);
    this.closed(undefined, delayMs);
  }

  /** The browser says it went offline: the socket is dead even if it has not noticed yet. */
  private readonly drop = () => this.abandon('Went offline');

  private readonly reconnectNow = () => {
    if (this.client || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.connect();
  };
}
