import {
  Arg,
  Args,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  Connection,
  PageArgs,
  paginate,
  reference,
  notFound,
  RequiresScopes,
  updateReturning,
  type SubgraphContext,
} from '../../lib';
import { Feedback, Message, Turn, TurnStatus } from './chat.entities';
import { cancelTurnAnywhere } from './chat.resolver';
import { Session, SessionStatus } from './session.entity';
import { StartSessionInput, validateStartSession } from './session.input';

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
