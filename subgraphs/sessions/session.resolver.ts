import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  badInput,
  conflict,
  Connection,
  escapeLike,
  newIds,
  PageArgs,
  paginate,
  reference,
  notFound,
  RequiresScopes,
  updateReturning,
  type SubgraphContext,
} from '../../lib';
import { Feedback, Message, MessageRole, Turn, TurnStatus } from './chat.entities';
import { forgetSession } from './chat.memory';
import { cancelTurnAnywhere } from './chat.resolver';
import { Session, SessionStatus } from './session.entity';
import { StartSessionInput, validateStartSession, validateTitle } from './session.input';
import { validateMessage } from './chat.input';
import { approximateTokens } from './chat.pricing';

@ObjectType()
class SessionConnection extends Connection(Session) {}

@ObjectType()
class MessageConnection extends Connection(Message) {}

@ObjectType()
class TurnConnection extends Connection(Turn) {}

@ObjectType({ description: 'A closed session, and whether it was closed before this request.' })
class SessionClosure {
  @Field(() => Session)
  session!: Session;

  @Field()
  alreadyClosed!: boolean;
}

@ObjectType({ description: 'Where a search found its text: a message of a session, or its title.' })
class SessionSearchHit {
  @Field(() => Session)
  session!: Session;

  @Field(() => ID, { nullable: true, description: 'The message that matched; null when the title did.' })
  messageId!: string | null;

  @Field(() => MessageRole, { nullable: true })
  role!: MessageRole | null;

  @Field({ description: 'The matching text around the first match, at most about 160 characters.' })
  snippet!: string;

  @Field()
  at!: Date;
}

const MAX_SEARCH_HITS = 50;
const MAX_FORK_MESSAGES = 5000;
const SNIPPET_CHARS = 160;

/** The roles a message may be appended with: a system prompt is the platform's, never a client's. */
const APPENDABLE_ROLES: readonly MessageRole[] = [MessageRole.USER, MessageRole.ASSISTANT];

/** The part of `text` around the first match of `query` (case-insensitive), with ellipses. */
function snippetOf(text: string, query: string): string {
  const at = Math.max(0, text.toLowerCase().indexOf(query.toLowerCase()));
  const start = Math.max(0, at - SNIPPET_CHARS / 4);
  const part = text.slice(start, start + SNIPPET_CHARS);
  return `${start > 0 ? '…' : ''}${part}${start + SNIPPET_CHARS < text.length ? '…' : ''}`;
}

/** One of the caller's sessions; a deleted one is not found, like another account's. */
export async function ownedSession(ctx: SubgraphContext, id: string): Promise<Session> {
  const session = await ctx.getOwned(Session, id, (row) => row.ownerId);
  if (session.deletedAt) throw notFound('Session', id);
  return session;
}

/**
 * Closes a session with one conditional UPDATE, so of concurrent closes exactly one closes it and
 * stops the answer streaming in it, if any. Answers whether this call closed it; either way
 * `session` then shows it closed (or deleted, when a concurrent delete won).
 */
async function closeOwned(ctx: SubgraphContext, session: Session): Promise<boolean> {
  const [closed] = await updateReturning(
    ctx.em,
    Session,
    { id: session.id, status: SessionStatus.ACTIVE, deletedAt: null },
    { status: SessionStatus.CLOSED, endedAt: new Date() },
  );
  if (!closed) {
    await ctx.em.refresh(session);
    return false;
  }
  const running = await ctx.em.findOne(Turn, { sessionId: session.id, status: TurnStatus.RUNNING });
  if (running) await cancelTurnAnywhere(ctx, running.id);
  await forgetSession(ctx, session);
  return true;
}

@Resolver(() => Session)
export class SessionResolver {
  @RequiresScopes('orders')
  @Query(() => Session, { description: 'One of your chat sessions by id.' })
  session(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    return ownedSession(ctx, id);
  }

  @RequiresScopes('orders')
  @Query(() => SessionConnection, { description: 'Your chat sessions, newest first.' })
  sessions(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<SessionConnection> {
    return paginate(ctx.em, Session, { ...ctx.ownedWhere('ownerId'), deletedAt: null }, page);
  }

  @RequiresScopes('orders')
  @Query(() => TurnConnection, {
    name: 'turns',
    description: 'Your turns in every session, newest first: the model chosen for each and why.',
  })
  allTurns(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<TurnConnection> {
    return paginate(ctx.em, Turn, ctx.ownedWhere('ownerId'), page);
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, { description: 'Open a chat session.' })
  async startSession(@Arg('input') input: StartSessionInput, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const session = ctx.em.create(Session, {
      ...(await validateStartSession(ctx, input)),
      ownerId: ctx.me().accountId,
    });
    await ctx.em.flush();
    return session;
  }

  @RequiresScopes('orders')
  @Mutation(() => Message, {
    description:
      'Appends a USER or ASSISTANT message to an open session of yours without answering it (no turn ' +
      'starts): to record history written elsewhere. Content is trimmed, 1 to 32000 characters.',
  })
  async appendMessage(
    @Arg('sessionId', () => ID) sessionId: string,
    @Arg('role', () => MessageRole) role: MessageRole,
    @Arg('content') content: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Message> {
    if (!APPENDABLE_ROLES.includes(role))
      throw badInput(`role must be one of ${APPENDABLE_ROLES.join(', ')}`, { field: 'role' });
    const text = validateMessage(content, null).content;
    const session = await ownedSession(ctx, sessionId);
    if (session.status === SessionStatus.CLOSED)
      throw conflict(`session ${session.id} is closed`, { id: session.id });
    const message = ctx.em.create(Message, {
      sessionId: session.id,
      role,
      content: text,
      tokens: approximateTokens(text),
    });
    await ctx.em.flush();
    return message;
  }

  @RequiresScopes('orders')
  @Mutation(() => SessionClosure, {
    description: 'Ends a session: no more messages, a streaming answer is stopped. Idempotent.',
  })
  async closeSession(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<SessionClosure> {
    const session = await ownedSession(ctx, id);
    const alreadyClosed = !(await closeOwned(ctx, session));
    if (session.deletedAt) throw notFound('Session', id);
    return { session, alreadyClosed };
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, {
    description:
      'Deletes a session: it is closed and then reads as not found. Its metered usage is kept for billing.',
  })
  async deleteSession(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const session = await ownedSession(ctx, id);
    await closeOwned(ctx, session);
    // Of concurrent deletes one deletes it; the others find it gone, as any later delete does.
    const [deleted] = await updateReturning(
      ctx.em,
      Session,
      { id, deletedAt: null },
      { deletedAt: new Date() },
    );
    if (!deleted) throw notFound('Session', id);
    return deleted;
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, { description: 'Renames a session (open or closed).' })
  async renameSession(
    @Arg('id', () => ID) id: string,
    @Arg('title') title: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Session> {
    const text = validateTitle(title, '');
    const session = await ownedSession(ctx, id);
    const [renamed] = await updateReturning(
      ctx.em,
      Session,
      { id: session.id, deletedAt: null },
      { title: text },
    );
    if (!renamed) throw notFound('Session', id);
    return renamed;
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, {
    description:
      'A new open session holding a copy of the messages of one of yours (up to 5000), to go on from ' +
      'there without changing the original.',
  })
  async forkSession(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const source = await ownedSession(ctx, id);
    const messages = await ctx.em.find(
      Message,
      { sessionId: source.id },
      { orderBy: { id: 'asc' }, limit: MAX_FORK_MESSAGES + 1 },
    );
    if (messages.length > MAX_FORK_MESSAGES)
      throw badInput(`a session of more than ${MAX_FORK_MESSAGES} messages cannot be forked`, { id });
    // Ids made together keep the original order, which is the order messages are paged in.
    const ids = newIds('msg', messages.length);
    return ctx.em.transactional(async (tx) => {
      const fork = tx.create(Session, {
        ownerId: ctx.me().accountId,
        agentId: source.agentId,
        title: validateTitle(`${source.title.slice(0, 190)} (fork)`, 'Fork'),
        model: source.model,
        messageCount: messages.length,
      });
      await tx.flush();
      messages.forEach((m, i) =>
        tx.create(Message, {
          id: ids[i],
          sessionId: fork.id,
          role: m.role,
          content: m.content,
          tokens: m.tokens,
          complete: m.complete,
          createdAt: m.createdAt,
        }),
      );
      await tx.flush();
      return fork;
    });
  }

  @RequiresScopes('orders')
  @Query(() => [SessionSearchHit], {
    description:
      'Your sessions whose title or messages contain `query` (any case), newest match first; at most 50.',
  })
  async searchSessions(
    @Arg('query') query: string,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() ctx: SubgraphContext,
  ): Promise<SessionSearchHit[]> {
    const text = query.trim();
    if (!text || text.length > 200)
      throw badInput('query must be 1 to 200 characters', { argument: 'query' });
    if (!Number.isInteger(first) || first < 1 || first > MAX_SEARCH_HITS)
      throw badInput(`first must be from 1 to ${MAX_SEARCH_HITS}`, { argument: 'first' });
    const pattern = `%${escapeLike(text)}%`;
    const owner = ctx.ownedWhere('ownerId').ownerId;
    const ownerFilter = owner ? `and s."owner_id" = ?` : '';
    const ownerParams = owner ? [owner] : [];
    const rows = await ctx.em.execute<
      { session_id: string; message_id: string | null; role: MessageRole | null; content: string; at: Date }[]
    >(
      `(select m."session_id", m."id" as "message_id", m."role", m."content", m."created_at" as "at"
          from "sessions"."message" m join "sessions"."session" s on s."id" = m."session_id"
         where s."deleted_at" is null ${ownerFilter} and m."content" ilike ?
         order by m."id" desc limit ?)
       union all
       (select s."id", null, null, s."title", s."started_at"
          from "sessions"."session" s
         where s."deleted_at" is null ${ownerFilter} and s."title" ilike ?
         order by s."id" desc limit ?)
       order by "at" desc limit ?`,
      [...ownerParams, pattern, first, ...ownerParams, pattern, first, first],
    );
    const sessions = await Promise.all(rows.map((row) => ctx.get(Session, row.session_id)));
    return rows.map((row, i) => ({
      session: sessions[i],
      messageId: row.message_id,
      role: row.role,
      snippet: snippetOf(row.content, text),
      at: new Date(row.at),
    }));
  }

  @FieldResolver(() => MessageConnection, { description: 'The messages, newest first.' })
  messages(@Root() session: Session, @Args() page: PageArgs, @Ctx() ctx: SubgraphContext) {
    return paginate(ctx.em, Message, { sessionId: session.id }, page);
  }

  @FieldResolver(() => TurnConnection, { description: 'The turns (message and answer), newest first.' })
  turns(@Root() session: Session, @Args() page: PageArgs, @Ctx() ctx: SubgraphContext) {
    return paginate(ctx.em, Turn, { sessionId: session.id }, page);
  }

  @FieldResolver(() => [Feedback], { description: 'Every grade given in this session, oldest first.' })
  feedback(@Root() session: Session, @Ctx() ctx: SubgraphContext) {
    return ctx.em.find(Feedback, { sessionId: session.id }, { orderBy: { id: 'asc' } });
  }

  @FieldResolver(() => AccountReference)
  owner(@Root() session: Session) {
    return reference(session.ownerId);
  }

  @FieldResolver(() => AgentReference, { nullable: true, description: 'The marketplace agent, if any.' })
  agent(@Root() session: Session, @Ctx() ctx: SubgraphContext) {
    return ctx.references.linked('Agent', session.agentId);
  }
}
