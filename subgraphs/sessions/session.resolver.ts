import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  Connection,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
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

@Resolver(() => Session)
export class SessionResolver {
  @RequiresScopes('orders')
  @Query(() => Session, { description: 'One of your chat sessions by id.' })
  session(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    return ctx.getOwned(Session, id, (session) => session.ownerId);
  }

  @RequiresScopes('orders')
  @Query(() => SessionConnection, { description: 'Your chat sessions, newest first.' })
  sessions(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<SessionConnection> {
    return paginate(ctx.em, Session, ctx.ownedWhere('ownerId'), page);
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, { description: 'Open a chat session.' })
  async startSession(@Arg('input') input: StartSessionInput, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const session = ctx.em.create(Session, { ...validateStartSession(input), ownerId: ctx.me().accountId });
    await ctx.em.flush();
    return session;
  }

  @RequiresScopes('orders')
  @Mutation(() => Session, {
    description: 'Ends a session: no more messages, a streaming answer is stopped. Idempotent.',
  })
  async closeSession(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const session = await ctx.getOwned(Session, id, (row) => row.ownerId);
    if (session.status === SessionStatus.CLOSED) return session;
    Object.assign(session, { status: SessionStatus.CLOSED, endedAt: new Date() });
    await ctx.em.flush();
    const running = await ctx.em.findOne(Turn, { sessionId: session.id, status: TurnStatus.RUNNING });
    if (running) await cancelTurnAnywhere(ctx, running.id);
    return session;
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
  agent(@Root() session: Session) {
    return session.agentId ? reference(session.agentId) : null;
  }
}
