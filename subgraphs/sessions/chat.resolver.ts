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
import { AppError, conflict, flushUnique, notFound, RequiresScopes, type SubgraphContext } from '../../lib';
import { Feedback, Message, MessageRole, Turn, TurnStatus, UsageRecord } from './chat.entities';
import { ChatEvent, ChatEventStream, chatTopic, fromPayload, type ChatEventPayload } from './chat.events';
import {
  ChatEventsArgs,
  chooseModel,
  FeedbackInput,
  validateChatEventsArgs,
  validateFeedback,
  validateMessage,
} from './chat.input';
import { chatSettings, providerFor } from './chat.providers';
import { abortLocalTurn, CANCEL_TOPIC, startTurn } from './chat.turns';
import { Session, SessionStatus } from './session.entity';

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
    const message = validateMessage(content, model);
    const session = await ctx.getOwned(Session, sessionId, ownerOf);
    if (session.status === SessionStatus.CLOSED)
      throw conflict(`session ${session.id} is closed`, { id: session.id });
    const settings = chatSettings();
    const choice = chooseModel(message.requestedModel, session.model, settings.defaultModel);
    const provider = providerFor(choice.model);
    if (!provider) throw upstreamUnavailable('no upstream LLM is configured (LLM_BASE_URL)');
    if (!provider.breaker.allowsCalls)
      throw upstreamUnavailable(`provider ${provider.name} is unavailable (circuit open)`, {
        retryAt: provider.breaker.retryAt?.toISOString(),
      });

    const history = await ctx.em.find(
      Message,
      { sessionId: session.id },
      { orderBy: { id: 'desc' }, limit: CONTEXT_MESSAGES },
    );
    const context = [...history.reverse(), { role: MessageRole.USER, content: message.content }].map(
      ({ role, content }) => ({ role, content }),
    );
    let turn: Turn;
    try {
      turn = await ctx.em.transactional(async (tx) => {
        const userMessage = tx.create(Message, {
          sessionId: session.id,
          role: MessageRole.USER,
          content: message.content,
          tokens: Math.ceil(message.content.length / 4),
        });
        // No relations are mapped, so the unit of work cannot order the inserts by foreign key.
        await tx.flush();
        const created = tx.create(Turn, {
          sessionId: session.id,
          ownerId: session.ownerId,
          userMessageId: userMessage.id,
          provider: provider.name,
          ...choice,
          context,
        });
        await tx.flush();
        await tx.execute(
          `update "sessions"."session" set "message_count" = "message_count" + 1 where "id" = ?`,
          [session.id],
        );
        return created;
      });
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException)
        throw conflict('an answer is still streaming in this session; wait for it or cancel it', {
          id: session.id,
        });
      throw error;
    }
    startTurn({ em: ctx.em, pubsub: ctx.pubsub, log: ctx.log }, turn, provider, settings.prices);
    return turn;
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
      const owner = sessionId
        ? (await context.getOwned(Session, sessionId, ownerOf)).ownerId
        : context.me().accountId;
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

  @FieldResolver(() => Feedback, { nullable: true })
  feedback(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<Feedback | null> {
    return ctx.em.findOne(Feedback, { turnId: turn.id });
  }
}
