import { UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  AppError,
  badInput,
  conflict,
  flushUnique,
  newId,
  notFound,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { Feedback, Message, Turn, TurnStatus, UsageRecord } from './chat.entities';
import {
  ChatEvent,
  ChatEventKind,
  ChatEventStream,
  chatTopic,
  fromPayload,
  type ChatEventPayload,
} from './chat.events';
import {
  ChatEventsArgs,
  ChatInput,
  chooseModel,
  FeedbackInput,
  validateChat,
  validateChatEventsArgs,
  validateFeedback,
  type ChatRequest,
} from './chat.input';
import { billingSettings, holdBound, holdCredits, voidCredits, type TurnHold } from './chat.billing';
import { approximateTokens } from './chat.pricing';
import { tipsFor, TurnTip } from './chat.tips';
import { chatSettings, providerFor } from './chat.providers';
import { abortLocalTurn, CANCEL_TOPIC, recordedHere, startTurn } from './chat.turns';
import { Session, SessionStatus } from './session.entity';
import { DEFAULT_MODEL, validateStartSession } from './session.input';
import { ownedSession } from './session.resolver';

/** How many earlier messages go upstream with a new one. */
const CONTEXT_MESSAGES = 50;

/** The upstream LLM is not configured, or its breaker is open. */
const upstreamUnavailable = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('UPSTREAM_UNAVAILABLE', message, details);

const ownerOf = (row: { ownerId: string }) => row.ownerId;

/** Asks whichever replica runs the turn to abort its upstream call. */
export async function cancelTurnAnywhere(ctx: SubgraphContext, turnId: string): Promise<void> {
  if (!abortLocalTurn(turnId)) await ctx.pubsub.publish(CANCEL_TOPIC, { turnId });
}

const isFinal = (kind: ChatEventKind) => kind === ChatEventKind.COMPLETED || kind === ChatEventKind.ERROR;

/** A turn stored and ready to answer; `start` runs it and resolves once it is recorded. */
interface PreparedTurn {
  turn: Turn;
  start(): Promise<void>;
  /** For a turn sent before (same idempotency key): replay its events after this seq. */
  replayAfter?: number;
}

/**
 * The turn an idempotency key was first sent with, instead of a new one; the same key with another
 * message is refused, as the Idempotency-Key draft has it.
 */
async function earlierTurn(ctx: SubgraphContext, request: ChatRequest): Promise<PreparedTurn | undefined> {
  if (!request.idempotencyKey) return undefined;
  const turn = await ctx.em.findOne(Turn, {
    ownerId: ctx.me().accountId,
    idempotencyKey: request.idempotencyKey,
  });
  if (!turn) return undefined;
  const sent = await ctx.em.findOneOrFail(Message, turn.userMessageId);
  if (sent.content !== request.messages.at(-1)!.content)
    throw badInput('this idempotencyKey was used for another message', { field: 'idempotencyKey' });
  const [first] = await ctx.em.execute<{ seq: number | null }[]>(
    `select min("seq") as "seq" from "sessions"."chat_event" where "turn_id" = ?`,
    [turn.id],
  );
  return {
    turn,
    start: () => recordedHere(turn.id),
    replayAfter: first?.seq ? first.seq - 1 : undefined,
  };
}

const ROSTER_MODEL = `query ($agentId: ID!) { agentRosterModel(agentId: $agentId) }`;

/** The bound agent's roster model; when the agents service cannot say, the turn goes on without it. */
async function rosterModelOf(ctx: SubgraphContext, agentId: string): Promise<string | null> {
  try {
    const data = await ctx.peers.request<{ agentRosterModel: string | null }>('agents', ROSTER_MODEL, {
      agentId,
    });
    return data.agentRosterModel;
  } catch (error) {
    ctx.log?.warn({ err: error, agentId }, 'roster model not read');
    return null;
  }
}

/**
 * Checks and stores a message (opening its session if needed) and prepares its answer, so a
 * subscriber can listen before the first token. Every refusal happens here, before anything streams.
 */
export async function prepareTurn(ctx: SubgraphContext, request: ChatRequest): Promise<PreparedTurn> {
  const earlier = await earlierTurn(ctx, request);
  if (earlier) return earlier;
  const existing = await continuedSession(ctx, request);
  // A keyed session holds its history: of a conversation sent whole again, only the last is new.
  const messages = existing && request.sessionKey ? request.messages.slice(-1) : request.messages;
  if (existing?.status === SessionStatus.CLOSED)
    throw conflict(`session ${existing.id} is closed`, { id: existing.id });
  const opened = existing
    ? null
    : await validateStartSession(ctx, {
        title: request.title ?? request.messages.at(-1)!.content.slice(0, 80),
        model: request.requestedModel ?? undefined,
        agentId: request.agentId ?? undefined,
      });
  const settings = chatSettings();
  const sessionModel = existing?.model ?? DEFAULT_MODEL;
  const agentId = existing?.agentId ?? opened?.agentId ?? null;
  const rosterModel =
    !request.requestedModel && sessionModel === DEFAULT_MODEL && agentId
      ? await rosterModelOf(ctx, agentId)
      : null;
  const choice = chooseModel(request.requestedModel, sessionModel, settings.defaultModel, rosterModel);
  const provider = providerFor(choice.model);
  if (!provider) throw upstreamUnavailable('no upstream LLM is configured (LLM_BASE_URL)');
  if (!provider.breaker.allowsCalls)
    throw upstreamUnavailable(`provider ${provider.name} is unavailable (circuit open)`, {
      retryAt: provider.breaker.retryAt?.toISOString(),
    });

  const history =
    existing && !request.oneShot
      ? await ctx.em.find(
          Message,
          { sessionId: existing.id },
          { orderBy: { id: 'desc' }, limit: CONTEXT_MESSAGES },
        )
      : [];
  const context = [...history.reverse(), ...messages].map(({ role, content }) => ({ role, content }));
  // Everything that can fail is done before the turn is stored, so a refusal leaves no turn RUNNING.
  const prices = settings.pricesOf(choice.model);
  const turnId = newId('turn');
  const billing = billingSettings();
  // What the request leaves out, the settings store's defaults fill in (model.temperature, …).
  const parameters = {
    temperature: request.parameters.temperature ?? settings.defaultTemperature,
    maxTokens: request.parameters.maxTokens ?? settings.defaultMaxTokens,
  };
  const { maxTokens } = parameters;
  // Billed, the credits are held before anything is stored: too few leaves nothing behind.
  const hold = billing.enabled
    ? await holdCredits(ctx.peers, {
        turnId,
        ownerId: ctx.me().accountId,
        amount: holdBound(prices, context, maxTokens),
        timeoutSeconds: billing.holdTimeoutSeconds,
      })
    : undefined;
  let turn: Turn;
  try {
    turn = await ctx.em.transactional(async (tx) => {
      const session =
        existing ??
        tx.create(Session, { ...opened!, ownerId: ctx.me().accountId, clientKey: request.sessionKey });
      // No relations are mapped, so the unit of work cannot order the inserts by foreign key.
      await tx.flush();
      const stored = messages.map(({ role, content }) =>
        tx.create(Message, { sessionId: session.id, role, content, tokens: approximateTokens(content) }),
      );
      await tx.flush();
      const created = tx.create(Turn, {
        id: turnId,
        ...hold,
        sessionId: session.id,
        ownerId: session.ownerId,
        userMessageId: stored.at(-1)!.id,
        provider: provider.name,
        ...choice,
        context,
        parameters,
        idempotencyKey: request.idempotencyKey,
      });
      await tx.flush();
      await tx.execute(
        `update "sessions"."session" set "message_count" = "message_count" + ? where "id" = ?`,
        [stored.length, session.id],
      );
      return created;
    });
  } catch (error) {
    if (hold) await releaseUnusedHold(ctx, hold, turnId);
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    // The same key sent twice at once: the first one won.
    const first = await earlierTurn(ctx, request);
    if (first) return first;
    if (request.sessionKey && !existing)
      throw conflict('a session with this sessionKey is being opened at the same time; send again');
    throw conflict('an answer is still streaming in this session; wait for it or cancel it', {
      id: existing?.id,
    });
  }
  const deps = { em: ctx.em, pubsub: ctx.pubsub, log: ctx.log, peers: ctx.peers };
  const plan = {
    turn,
    provider,
    prices,
    closeSession: request.oneShot,
    // The upstream is held to the completion bound the hold was priced with.
    upstreamParameters: hold ? { ...turn.parameters, maxTokens } : undefined,
  };
  return { turn, start: () => startTurn(deps, plan) };
}

/** The session a request goes on in: by id, or by the client's key (its id or the key it opened with). */
async function continuedSession(ctx: SubgraphContext, { sessionId, sessionKey }: ChatRequest) {
  if (sessionId) return ownedSession(ctx, sessionId);
  if (!sessionKey) return null;
  return ctx.em.findOne(Session, {
    ownerId: ctx.me().accountId,
    deletedAt: null,
    $or: [{ id: sessionKey }, { clientKey: sessionKey }],
  });
}

/** A hold whose turn was never stored goes back; should that fail, the wallet expires it. */
async function releaseUnusedHold(ctx: SubgraphContext, hold: TurnHold, turnId: string): Promise<void> {
  await voidCredits(ctx.peers, turnId).catch((error: unknown) =>
    ctx.log.error({ err: error, turnId, holdId: hold.holdId }, 'unused turn hold not voided; it will expire'),
  );
}

/** The events of one turn, ending with its last; a subscriber who leaves early cancels the answer. */
async function* eventsOfTurn(
  stream: AsyncIterableIterator<ChatEventPayload>,
  turnId: string,
  abandon: () => Promise<void>,
): AsyncGenerator<ChatEventPayload> {
  let ended = false;
  try {
    for await (const event of stream) {
      if (event.turnId !== turnId) continue;
      ended = isFinal(event.kind);
      yield event;
      if (ended) return;
    }
  } finally {
    await stream.return?.();
    if (!ended) await abandon();
  }
}

@Resolver(() => Turn)
export class ChatResolver {
  @RequiresScopes('orders')
  @Mutation(() => Turn, {
    description:
      'Sends a message and starts the answer; returns at once. Follow the answer with chatEvents(sessionId).',
  })
  async sendMessage(
    @Arg('sessionId', () => ID) sessionId: string,
    @Arg('content') content: string,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Turn> {
    const { turn, start } = await prepareTurn(ctx, validateChat({ sessionId, content, model }));
    void start();
    return turn;
  }

  @RequiresScopes('orders')
  @Mutation(() => Turn, {
    description:
      'Sends a message (in a new session when sessionId is left out) and waits for the whole answer. ' +
      'A failed answer is a turn with an errorCode, not an error.',
  })
  async chat(@Arg('input') input: ChatInput, @Ctx() ctx: SubgraphContext): Promise<Turn> {
    const { turn, start } = await prepareTurn(ctx, validateChat(input));
    await start();
    return ctx.em.fork().findOneOrFail(Turn, turn.id);
  }

  @RequiresScopes('orders')
  @Subscription(() => ChatEvent, {
    description:
      'Sends a message (in a new session when sessionId is left out) and streams its answer: STARTED, ' +
      'TOKENs, then COMPLETED or ERROR, where the stream ends. Unsubscribing early cancels the answer.',
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<unknown, { input: ChatInput }, SubgraphContext>) => {
      const request = validateChat(args.input);
      const live = context.pubsub.subscribe(chatTopic(context.me().accountId));
      try {
        const { turn, start, replayAfter } = await prepareTurn(context, request);
        const stream = await ChatEventStream.open({
          live,
          em: context.em,
          sessionId: turn.sessionId,
          afterSeq: replayAfter,
        });
        void start();
        return eventsOfTurn(stream, turn.id, () => cancelTurnAnywhere(context, turn.id));
      } catch (error) {
        await live.return?.();
        throw error;
      }
    },
  })
  chatStream(@Root() payload: ChatEventPayload, @Arg('input') _input: ChatInput): ChatEvent {
    return fromPayload(payload);
  }

  @RequiresScopes('orders')
  @Mutation(() => Turn, {
    description: 'Stops an answer that is still streaming; what came so far is kept. Idempotent.',
  })
  async cancelTurn(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Turn> {
    const turn = await ctx.getOwned(Turn, id, ownerOf);
    if (turn.status === TurnStatus.RUNNING) await cancelTurnAnywhere(ctx, turn.id);
    return turn;
  }

  @RequiresScopes('orders')
  @Query(() => Turn, { description: 'One of your turns by id.' })
  turn(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Turn> {
    return ctx.getOwned(Turn, id, ownerOf);
  }

  @RequiresScopes('orders')
  @Subscription(() => ChatEvent, {
    description:
      'The answers streaming in one session (or all you own): STARTED, TOKENs, then COMPLETED or ERROR. ' +
      'Reconnect with afterSeq = the last seq you saw to miss nothing.',
    subscribe: async ({ args, context }: SubscribeResolverData<unknown, ChatEventsArgs, SubgraphContext>) => {
      const { sessionId, afterSeq } = validateChatEventsArgs(args);
      const owner = sessionId ? (await ownedSession(context, sessionId)).ownerId : context.me().accountId;
      return ChatEventStream.open({
        live: context.pubsub.subscribe(chatTopic(owner)),
        em: context.em,
        sessionId,
        afterSeq,
      });
    },
  })
  chatEvents(@Root() payload: ChatEventPayload, @Args() _args: ChatEventsArgs): ChatEvent {
    return fromPayload(payload);
  }

  @RequiresScopes('orders')
  @Mutation(() => Feedback, { description: 'Grades an answer; a turn has one feedback (then update it).' })
  async createFeedback(
    @Arg('turnId', () => ID) turnId: string,
    @Arg('input') input: FeedbackInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Feedback> {
    const values = validateFeedback(input);
    const turn = await ctx.getOwned(Turn, turnId, ownerOf);
    const feedback = ctx.em.create(Feedback, {
      ...values,
      turnId: turn.id,
      sessionId: turn.sessionId,
      ownerId: turn.ownerId,
    });
    await flushUnique(ctx.em, `turn ${turn.id} already has feedback; update it`, { id: turn.id });
    return feedback;
  }

  @RequiresScopes('orders')
  @Mutation(() => Feedback, {
    description: "Grades an answer, replacing its earlier grade if it has one (the agent runtime's POST).",
  })
  async gradeTurn(
    @Arg('turnId', () => ID) turnId: string,
    @Arg('input') input: FeedbackInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Feedback> {
    const values = validateFeedback(input);
    const turn = await ctx.getOwned(Turn, turnId, ownerOf);
    // One statement, so two grades at once leave one feedback, never a conflict.
    const [{ id }] = await ctx.em.execute<{ id: string }[]>(
      `insert into "sessions"."feedback" ("id", "turn_id", "session_id", "owner_id", "grade", "comment")
       values (?, ?, ?, ?, ?, ?)
       on conflict ("turn_id") do update set "grade" = excluded."grade", "comment" = excluded."comment",
         "updated_at" = now()
       returning "id"`,
      [newId('fb'), turn.id, turn.sessionId, turn.ownerId, values.grade, values.comment],
    );
    return ctx.em.fork().findOneOrFail(Feedback, id);
  }

  @RequiresScopes('orders')
  @Mutation(() => Feedback, { description: 'Changes the grade or comment of an answer.' })
  async updateFeedback(
    @Arg('turnId', () => ID) turnId: string,
    @Arg('input') input: FeedbackInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Feedback> {
    const values = validateFeedback(input);
    const turn = await ctx.getOwned(Turn, turnId, ownerOf);
    const feedback = await ctx.em.findOne(Feedback, { turnId: turn.id });
    if (!feedback) throw notFound('Feedback', turn.id);
    Object.assign(feedback, values);
    await ctx.em.flush();
    return feedback;
  }

  @FieldResolver(() => Session)
  session(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<Session> {
    return ctx.get(Session, turn.sessionId);
  }

  @FieldResolver(() => Message)
  userMessage(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<Message> {
    return ctx.get(Message, turn.userMessageId);
  }

  @FieldResolver(() => Message, { nullable: true, description: 'Stored when the answer ends.' })
  assistantMessage(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<Message | null> {
    return turn.assistantMessageId ? ctx.load(Message, turn.assistantMessageId) : Promise.resolve(null);
  }

  @FieldResolver(() => UsageRecord, { nullable: true, description: 'Metered once the answer ends.' })
  usage(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<UsageRecord | null> {
    return ctx.em.findOne(UsageRecord, { turnId: turn.id });
  }

  @FieldResolver(() => [TurnTip], {
    description: 'Heuristic remarks on the turn (latency, context size, …).',
  })
  async tips(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<TurnTip[]> {
    const usage = await ctx.em.findOne(UsageRecord, { turnId: turn.id });
    return tipsFor(turn, usage?.estimated ?? false);
  }

  @FieldResolver(() => Feedback, { nullable: true })
  feedback(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<Feedback | null> {
    return ctx.em.findOne(Feedback, { turnId: turn.id });
  }
}
