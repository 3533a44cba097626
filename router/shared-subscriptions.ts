import { isAsyncIterable } from '@graphql-tools/utils';
import {
  getOperationAST,
  Kind,
  parse,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import { callerFrom, IDENTITY_HEADER, identityKey, metrics } from '../lib';

type OperationResult = AsyncIterable<ExecutionResult> | ExecutionResult;
export type Subscribe = (args: ExecutionArgs) => OperationResult | Promise<OperationResult>;

/**
 * Subscription root fields that only watch: subscribing twice starts nothing twice (unlike
 * `chatStream`, which sends a message), so two subscribers may share one stream. The value names
 * the argument that replays history first; a subscription that sets it gets a stream of its own,
 * since one that joined later would miss the replay.
 */
const LIVE_FEEDS = new Map<string, string | undefined>([
  ['taskEvents', 'after'],
  ['chatEvents', 'afterSeq'],
  ['memoryEvents', undefined],
  ['walletEvents', undefined],
  ['scheduleRunEvents', undefined],
]);

/** Where one graphql-ws operation's messages go: its client's socket and the id the client gave it. */
interface Delivery {
  socket: { send(data: string): void };
  id: string;
}

/**
 * What the gateway's graphql-ws options (getGraphQLWSOptions) put in each operation's context,
 * and the delivery our onSubscribe adds.
 */
interface WsContext {
  params?: { query?: string; variables?: Record<string, unknown> | null; operationName?: string | null };
  request?: { headers: { get(name: string): string | null } };
  delivery?: Delivery;
}

type ConnectionParams = Record<string, unknown> | undefined;
type OnSubscribe<P extends ConnectionParams, E extends Extra> = NonNullable<
  ServerOptions<P, E>['onSubscribe']
>;

/**
 * One upstream subscription and one federated execution per (verified caller, document, variables,
 * operation name), shared by every graphql-ws subscriber with that key (issue 18): an event is
 * planned, fetched, executed and serialized once, however many sockets watch it. The key holds the
 * caller's verified claims (account, role, scopes, API key), never the signed token alone, so
 * callers never share and a caller whose scopes changed gets a stream of their own. A subscriber
 * that leaves ends only its own iterator; the last one ends the upstream operation.
 *
 * Wraps the graphql-ws server's `onSubscribe` (to learn each operation's socket and id) and
 * `subscribe`.
 */
export function shareSubscriptions<P extends ConnectionParams, E extends Extra>(
  options: { onSubscribe: OnSubscribe<P, E>; subscribe: Subscribe },
  internalSecret: string,
): { onSubscribe: OnSubscribe<P, E>; subscribe: Subscribe } {
  const streams = new Map<string, SharedStream>();
  const onSubscribe: OnSubscribe<P, E> = async (ctx, id, payload) => {
    const args = await options.onSubscribe(ctx, id, payload);
    if (args && !Array.isArray(args) && 'contextValue' in args)
      (args.contextValue as WsContext).delivery = { socket: ctx.extra.socket, id };
    return args;
  };
  const subscribe: Subscribe = (args) => {
    const context = args.contextValue as WsContext;
    const key = sharingKey(context, internalSecret);
    if (key === undefined || !context.delivery) return options.subscribe(args);
    let stream = streams.get(key);
    if (!stream) {
      const created: SharedStream = new SharedStream(options.subscribe(args), () => {
        // A stream that ended may have a successor under the same key by now: leave that one be.
        if (streams.get(key) === created) streams.delete(key);
      });
      streams.set(key, (stream = created));
    }
    return stream.join(context.delivery);
  };
  return { onSubscribe, subscribe };
}

/** The key a subscription is shared under, or undefined when it must run on its own. */
function sharingKey(context: WsContext, internalSecret: string): string | undefined {
  const { query, variables, operationName } = context.params ?? {};
  if (!query) return undefined;
  let caller;
  try {
    caller = callerFrom(context.request?.headers.get(IDENTITY_HEADER) ?? undefined, internalSecret);
  } catch {
    return undefined; // refused by the gateway itself, each on its own
  }
  if (caller.kind !== 'account') return undefined;
  if (!onlyLiveFeeds(query, variables ?? {}, operationName ?? undefined)) return undefined;
  return JSON.stringify([identityKey(caller.identity), query, variables, operationName]);
}

/** Every root field of the operation is a live feed and none asks for a replay. */
function onlyLiveFeeds(query: string, variables: Record<string, unknown>, operationName?: string): boolean {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return false; // the gateway answers the syntax error
  }
  const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, operationName);
  if (operation?.operation !== 'subscription') return false;
  const given = (name: string) => {
    const definition = operation.variableDefinitions?.find((v) => v.variable.name.value === name);
    return variables[name] != null || definition?.defaultValue !== undefined;
  };
  return operation.selectionSet.selections.every((selection) => {
    if (selection.kind !== Kind.FIELD || !LIVE_FEEDS.has(selection.name.value)) return false;
    const cursor = LIVE_FEEDS.get(selection.name.value);
    const replay = selection.arguments?.find((argument) => argument.name.value === cursor);
    if (!replay || replay.value.kind === Kind.NULL) return true;
    return replay.value.kind === Kind.VARIABLE && !given(replay.value.name.value);
  });
}

/**
 * One source stream fanned out to subscribers. A single loop pulls the source as fast as it yields
 * and serializes each result once; each subscriber's socket gets that text behind its own
 * operation id, written straight away (a slow socket buffers its own frames, delaying nobody).
 */
class SharedStream {
  private readonly subscribers = new Set<Subscriber>();
  private readonly source: Promise<OperationResult>;
  private iterator?: AsyncIterator<ExecutionResult>;

  constructor(
    source: OperationResult | Promise<OperationResult>,
    private readonly forget: () => void,
  ) {
    this.source = Promise.resolve(source);
    this.source.then(
      (result) => {
        if (!isAsyncIterable(result)) return this.forget();
        this.iterator = result[Symbol.asyncIterator]();
        // Everyone left while it started.
        if (this.subscribers.size === 0) return void this.iterator.return?.();
        void this.pump(this.iterator);
      },
      () => this.forget(),
    );
  }

  /** A new subscriber's view: the same results as the others', from now on. */
  async join(delivery: Delivery): Promise<OperationResult> {
    const subscriber = new Subscriber(delivery, () => this.leave(subscriber));
    this.add(subscriber);
    let source: OperationResult;
    try {
      source = await this.source;
    } catch (error) {
      this.leave(subscriber);
      throw error;
    }
    if (isAsyncIterable(source)) return subscriber;
    // A refusal (a single result) is each subscriber's own answer; there is no stream to share.
    this.leave(subscriber);
    return source;
  }

  /**
   * The gateway counts each stream it runs once in the open-subscriptions gauge (router/metrics.ts);
   * the stream's other subscribers are counted here, so the gauge still counts subscribers.
   */
  private add(subscriber: Subscriber) {
    if (this.subscribers.size > 0) metrics.subscriptions.inc();
    this.subscribers.add(subscriber);
  }

  private leave(subscriber: Subscriber) {
    if (!this.subscribers.delete(subscriber)) return;
    if (this.subscribers.size > 0) return void metrics.subscriptions.dec();
    // The last one out ends the upstream operation; a later subscriber starts a new one.
    this.forget();
    void this.iterator?.return?.();
  }

  private async pump(iterator: AsyncIterator<ExecutionResult>) {
    try {
      for (;;) {
        const { value, done } = await iterator.next();
        if (done) break;
        const payload = JSON.stringify(value);
        for (const subscriber of this.subscribers) subscriber.deliver(payload);
      }
      this.forget();
      for (const subscriber of this.subscribers) subscriber.end();
    } catch (error) {
      this.forget();
      for (const subscriber of this.subscribers) subscriber.fail(error);
    }
  }
}

/**
 * One subscriber of a shared stream. Its `next` messages go to its socket directly, in the
 * graphql-transport-ws format graphql-ws itself writes; to graphql-ws it is an iterator that
 * yields nothing and ends (graphql-ws then sends `complete`) or fails (`error`) with the stream.
 */
class Subscriber implements AsyncIterableIterator<ExecutionResult> {
  private readonly prefix: string;
  private waiting?: { resolve(result: IteratorResult<ExecutionResult>): void; reject(error: unknown): void };
  private done = false;
  private failure?: { error: unknown };

  constructor(
    private readonly delivery: Delivery,
    private readonly onLeave: () => void,
  ) {
    this.prefix = `{"id":${JSON.stringify(delivery.id)},"type":"next","payload":`;
  }

  deliver(payload: string) {
    if (!this.done) this.delivery.socket.send(`${this.prefix}${payload}}`);
  }

  end() {
    this.done = true;
    if (this.waiting) this.settle().resolve({ value: undefined, done: true });
  }

  fail(error: unknown) {
    this.done = true;
    if (this.waiting) this.settle().reject(error);
    else this.failure = { error };
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    this.onLeave();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private settle() {
    const waiting = this.waiting!;
    this.waiting = undefined;
    return waiting;
  }
}
