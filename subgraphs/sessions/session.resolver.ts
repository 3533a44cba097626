import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AccountReference,
  AgentReference,
  Connection,
  PageArgs,
  paginate,
  reference,
  type SubgraphContext,
} from '../../lib';
import { Session } from './session.entity';
import { StartSessionInput, validateStartSession } from './session.input';

@ObjectType()
class SessionConnection extends Connection(Session) {}

@Resolver(() => Session)
export class SessionResolver {
  @Query(() => Session, { description: 'One chat session by id.' })
  session(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Session> {
    return ctx.get(Session, id);
  }

  @Query(() => SessionConnection, { description: 'Chat sessions, newest first.' })
  sessions(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<SessionConnection> {
    return paginate(ctx.em, Session, {}, page);
  }

  @Mutation(() => Session, { description: 'Open a chat session.' })
  async startSession(@Arg('input') input: StartSessionInput, @Ctx() ctx: SubgraphContext): Promise<Session> {
    const session = ctx.em.create(Session, validateStartSession(input));
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
