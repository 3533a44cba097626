import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  AccountReference,
  badInput,
  Connection,
  flushUnique,
  notFound,
  PageArgs,
  reference,
  RequiresScopes,
  requireVerifiedEmail,
  type SubgraphContext,
  updateReturning,
} from '../../lib';
import { Agent, AgentStatus } from './agent.entity';
import { CreateAgentInput, UpdateAgentInput, validateAgentChanges, validateCreateAgent } from './agent.input';
import { AgentListArgs, AgentSort, listAgents } from './agent.list';

@ObjectType()
class AgentConnection extends Connection(Agent) {}

const ownerOf = (agent: Agent) => agent.ownerId;

/**
 * The agent a credential speaks for (hermesx402's `/agents/me`): the newest one listed with the
 * calling API key, else the account's newest.
 */
async function myAgent(ctx: SubgraphContext, asset?: string | null): Promise<Agent> {
  const { accountId, apiKeyId } = ctx.me();
  const newest = { orderBy: { id: 'desc' } } as const;
  const mine = { ownerId: accountId, status: { $ne: AgentStatus.DELETED }, ...(asset != null && { asset }) };
  const agent =
    (apiKeyId && (await ctx.em.findOne(Agent, { ...mine, createdWithKeyId: apiKeyId }, newest))) ||
    (await ctx.em.findOne(Agent, mine, newest));
  if (!agent) throw notFound('Agent', 'of this credential');
  return agent;
}

/**
 * A listed agent: a deleted one, or one priced in another asset than `asset` (each REST dialect
 * speaks one), is NOT_FOUND, before anything is read or changed.
 */
function listed(agent: Agent, asset?: string | null): Agent {
  if (agent.status === AgentStatus.DELETED || (asset != null && agent.asset !== asset))
    throw notFound('Agent', agent.id);
  return agent;
}

/** Your agent (any for admins) by id, listed and in `asset` when one is named; else NOT_FOUND. */
const ownedAgent = async (ctx: SubgraphContext, id: string, asset?: string | null) =>
  listed(await ctx.getOwned(Agent, id, ownerOf), asset);

/** Narrows an agent read or change to one asset (a REST dialect's); another's agent is NOT_FOUND. */
const ASSET_ARG = {
  nullable: true,
  description: 'Only an agent priced in this asset: another is NOT_FOUND.',
} as const;

async function change(ctx: SubgraphContext, agent: Agent, changes: Partial<Agent>): Promise<Agent> {
  ctx.em.assign(agent, { ...changes, updatedAt: new Date() });
  await ctx.em.flush();
  return agent;
}

/** A price counted in another asset than the agent's would change its meaning: refused. */
function update(ctx: SubgraphContext, agent: Agent, { priceAsset, ...input }: UpdateAgentInput) {
  if (priceAsset != null && priceAsset !== agent.asset)
    throw badInput(`this agent is priced in ${agent.asset}, not ${priceAsset}`, { field: 'priceAsset' });
  return change(ctx, agent, validateAgentChanges(input) as Partial<Agent>);
}

const setStatus = (ctx: SubgraphContext, agent: Agent, status: AgentStatus) =>
  agent.status === status ? agent : change(ctx, agent, { status });

/** A numeric column as PostgreSQL returns it (a string) as a GraphQL Float. */
const numberOf = (value: string | null) => (value === null ? null : Number(value));

@Resolver(() => Agent)
export class AgentResolver {
  @Query(() => Agent, { description: 'One agent by id.' })
  async agent(
    @Arg('id', () => ID) id: string,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return listed(await ctx.get(Agent, id), asset);
  }

  @Query(() => Agent, { description: 'One agent by its ticker (any case).' })
  async agentByTicker(@Arg('ticker') ticker: string, @Ctx() ctx: SubgraphContext): Promise<Agent> {
    const agent = await ctx.em.findOne(Agent, {
      ticker: ticker.trim().toUpperCase(),
      status: { $ne: AgentStatus.DELETED },
    });
    if (!agent) throw notFound('Agent', ticker);
    return agent;
  }

  @Query(() => AgentConnection, {
    description: 'Marketplace listings, filtered and sorted (newest first by default).',
  })
  agents(@Args() { first, after, sort, ...filter }: AgentListArgs, @Ctx() ctx: SubgraphContext) {
    return listAgents(ctx.em, { first, after, sort }, filter);
  }

  @RequiresScopes('agents')
  @Query(() => AgentConnection, { description: 'Your listings, newest first.' })
  myAgents(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext) {
    return listAgents(ctx.em, { ...page, sort: AgentSort.NEW }, { ownerId: ctx.me().accountId });
  }

  @RequiresScopes('agents')
  @Query(() => Agent, {
    description:
      'The agent your credential speaks for: the newest listed with this API key, else your newest.',
  })
  myAgent(
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return myAgent(ctx, asset);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'List a new agent in the marketplace, owned by the caller.' })
  async createAgent(@Arg('input') raw: CreateAgentInput, @Ctx() ctx: SubgraphContext): Promise<Agent> {
    const input = validateCreateAgent(raw);
    await requireVerifiedEmail(ctx, 'list an agent');
    const { accountId, apiKeyId } = ctx.me();
    const agent = ctx.em.create(Agent, { ...input, ownerId: accountId, createdWithKeyId: apiKeyId ?? null });
    await flushUnique(ctx.em, `ticker ${input.ticker} is taken`, { field: 'ticker' });
    return agent;
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'Change your listing (admins: any); fields left out stay.' })
  async updateAgent(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateAgentInput,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return update(ctx, await ownedAgent(ctx, id, asset), input);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'Stop your agent taking new tasks; those under way continue.' })
  async pauseAgent(
    @Arg('id', () => ID) id: string,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return setStatus(ctx, await ownedAgent(ctx, id, asset), AgentStatus.PAUSED);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'Let your paused agent take new tasks again.' })
  async unpauseAgent(
    @Arg('id', () => ID) id: string,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return setStatus(ctx, await ownedAgent(ctx, id, asset), AgentStatus.ACTIVE);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, {
    description:
      'Delete your agent (admins: any): it leaves lists and by-id reads and takes no new task; tasks ' +
      'under way go on, and what points at it reads its status DELETED. Its ticker stays taken.',
  })
  async deleteAgent(
    @Arg('id', () => ID) id: string,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    const agent = await ownedAgent(ctx, id, asset);
    // One conditional UPDATE: of two deletes at once, one deletes and the other finds nothing.
    const [deleted] = await updateReturning(
      ctx.em,
      Agent,
      { id: agent.id, status: { $ne: AgentStatus.DELETED } },
      { status: AgentStatus.DELETED, deletedAt: new Date(), updatedAt: new Date() },
    );
    if (!deleted) throw notFound('Agent', id);
    return deleted;
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'updateAgent on myAgent.' })
  async updateMyAgent(
    @Arg('input') input: UpdateAgentInput,
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return update(ctx, await myAgent(ctx, asset), input);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'pauseAgent on myAgent.' })
  async pauseMyAgent(
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return setStatus(ctx, await myAgent(ctx, asset), AgentStatus.PAUSED);
  }

  @RequiresScopes('agents')
  @Mutation(() => Agent, { description: 'unpauseAgent on myAgent.' })
  async unpauseMyAgent(
    @Arg('asset', () => String, ASSET_ARG) asset: string | null,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Agent> {
    return setStatus(ctx, await myAgent(ctx, asset), AgentStatus.ACTIVE);
  }

  @FieldResolver(() => Boolean, { description: 'Whether it takes new tasks now (it is ACTIVE).' })
  acceptsWork(@Root() agent: Agent): boolean {
    return agent.status === AgentStatus.ACTIVE;
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description: 'Average rating of its confirmed tasks, 1 to 5.',
  })
  rating(@Root() agent: Agent): number | null {
    return numberOf(agent.rating);
  }

  @FieldResolver(() => Float, { nullable: true, description: 'Percent of its finished tasks it completed.' })
  successRate(@Root() agent: Agent): number | null {
    return numberOf(agent.successRate);
  }

  @FieldResolver(() => AccountReference, { description: 'The account that lists this agent.' })
  owner(@Root() agent: Agent) {
    return reference(agent.ownerId);
  }
}
