import { Arg, Args, Ctx, FieldResolver, ID, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import {
  AccountReference,
  Connection,
  flushUnique,
  notFound,
  PageArgs,
  paginate,
  reference,
  RequiresScopes,
  type SubgraphContext,
} from '../../lib';
import { Agent } from './agent.entity';
import { CreateAgentInput, validateCreateAgent } from './agent.input';

@ObjectType()
class AgentConnection extends Connection(Agent) {}

@Resolver(() => Agent)
export class AgentResolver {
  @Query(() => Agent, { description: 'One agent by id.' })
  agent(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Agent> {
    return ctx.get(Agent, id);
  }

  @Query(() => Agent, { description: 'One agent by its ticker (any case).' })
  async agentByTicker(@Arg('ticker') ticker: string, @Ctx() ctx: SubgraphContext): Promise<Agent> {
    const agent = await ctx.em.findOne(Agent, { ticker: ticker.trim().toUpperCase() });
    if (!agent) throw notFound('Agent', ticker);
    return agent;
  }

  @Query(() => AgentConnection, { description: 'Marketplace listings, newest first.' })
  agents(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<AgentConnection> {
    return paginate(ctx.em, Agent, {}, page);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'List a new agent in the marketplace, owned by the caller.' })
  async createAgent(@Arg('input') raw: CreateAgentInput, @Ctx() ctx: SubgraphContext): Promise<Agent> {
    const input = validateCreateAgent(raw);
    const agent = ctx.em.create(Agent, { ...input, ownerId: ctx.me().accountId });
    await flushUnique(ctx.em, `ticker ${input.ticker} is taken`, { field: 'ticker' });
    return agent;
  }

  @FieldResolver(() => AccountReference, { description: 'The account that lists this agent.' })
  owner(@Root() agent: Agent) {
    return reference(agent.ownerId);
  }
}
