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
import { Session } from './session.entity';
import { StartSessionInput, validateStartSession } from './session.input';

@ObjectType()
class SessionConnection extends Connection(Session) {}

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

  @FieldResolver(() => AccountReference)
  owner(@Root() session: Session) {
    return reference(session.ownerId);
  }

  @FieldResolver(() => AgentReference, { nullable: true, description: 'The marketplace agent, if any.' })
  agent(@Root() session: Session) {
    return session.agentId ? reference(session.agentId) : null;
  }
}
