import {
  Arg,
  Args,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import {
  Authenticated,
  badInput,
  Connection,
  flushUnique,
  PageArgs,
  paginate,
  updateReturning,
  type SubgraphContext,
} from '../../../lib';
import { checkedPeerUrl, fetchAgentCard, type FetchedCard } from './agent-card.fetch';
import { DiscoveredAgent, DiscoveryMethod } from './discovered-agent.entity';

/** An owner keeps at most this many peers; registering more is refused. */
export const DISCOVERY_LIMITS = { peers: 500, name: 200, capabilities: 50, capability: 100 };

@ObjectType()
class DiscoveredAgentConnection extends Connection(DiscoveredAgent) {}

@InputType({ description: 'A peer by URL; without `name` its A2A card is fetched now and names it.' })
class RegisterDiscoveredAgentInput {
  @Field({ description: "The peer's base URL (its card is under /.well-known/) or its card's URL." })
  url!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => [String], { nullable: true, description: 'What it can do, until its card says.' })
  capabilities?: string[] | null;
}

@ObjectType()
class DiscoverySummary {
  @Field(() => Int)
  count!: number;

  @Field(() => Int)
  verifiedCount!: number;
}

const owner = (peer: DiscoveredAgent) => peer.ownerId;

/** What a fetched card makes of a peer: its name, its skills as capabilities, verified now. */
const verifiedBy = ({ cardUrl, card, raw }: FetchedCard, now = new Date()) => ({
  name: card.name,
  capabilities: card.skills.map((skill) => skill.id).slice(0, DISCOVERY_LIMITS.capabilities),
  verified: true,
  cardUrl,
  card: raw,
  lastError: null,
  verifiedAt: now,
  lastSeenAt: now,
});

function capabilitiesOf(values: string[]): string[] {
  if (values.length > DISCOVERY_LIMITS.capabilities)
    throw badInput(`capabilities holds at most ${DISCOVERY_LIMITS.capabilities} entries`, {
      field: 'capabilities',
    });
  for (const value of values)
    if (!value.trim() || value.length > DISCOVERY_LIMITS.capability)
      throw badInput(`each capability is 1 to ${DISCOVERY_LIMITS.capability} characters`, {
        field: 'capabilities',
      });
  return [...new Set(values.map((v) => v.trim()))];
}

/** Peers an owner registered or discovered (002's /api/runtime/discovery); each sees its own only. */
@Resolver()
export class DiscoveryResolver {
  @Authenticated()
  @Query(() => DiscoveredAgentConnection, { description: 'Your discovered peers, newest first.' })
  discoveredAgents(@Args() page: PageArgs, @Ctx() ctx: SubgraphContext): Promise<DiscoveredAgentConnection> {
    return paginate(ctx.em, DiscoveredAgent, ctx.ownedWhere('ownerId'), page);
  }

  @Authenticated()
  @Query(() => DiscoverySummary)
  async discoverySummary(@Ctx() ctx: SubgraphContext): Promise<DiscoverySummary> {
    const where = ctx.ownedWhere('ownerId');
    const [count, verifiedCount] = await Promise.all([
      ctx.em.count(DiscoveredAgent, where),
      ctx.em.count(DiscoveredAgent, { ...where, verified: true }),
    ]);
    return { count, verifiedCount };
  }

  @Authenticated()
  @Mutation(() => DiscoveredAgent, {
    description:
      'Register a peer by URL. With a name it is kept unverified (verify it later); without one its A2A card is fetched now.',
  })
  async registerDiscoveredAgent(
    @Arg('input') input: RegisterDiscoveredAgentInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DiscoveredAgent> {
    const ownerId = ctx.me().accountId;
    const url = (await checkedPeerUrl(input.url.trim())).href;
    if ((await ctx.em.count(DiscoveredAgent, { ownerId })) >= DISCOVERY_LIMITS.peers)
      throw badInput(`you keep at most ${DISCOVERY_LIMITS.peers} peers`);
    const name = input.name?.trim();
    let fields;
    if (input.name == null) {
      fields = { method: DiscoveryMethod.WELL_KNOWN, ...verifiedBy(await fetchAgentCard(url)) };
    } else {
      if (!name || name.length > DISCOVERY_LIMITS.name)
        throw badInput(`name must be 1 to ${DISCOVERY_LIMITS.name} characters`, { field: 'name' });
      fields = {
        method: DiscoveryMethod.MANUAL,
        name,
        capabilities: capabilitiesOf(input.capabilities ?? []),
      };
    }
    const peer = ctx.em.create(DiscoveredAgent, { ownerId, url, ...fields });
    await flushUnique(ctx.em, `a peer at ${url} is already registered`, { field: 'url' });
    return peer;
  }

  @Authenticated()
  @Mutation(() => DiscoveredAgent, {
    description:
      "Fetch the peer's A2A card (through the private-address guard) and check it; a failure is kept in lastError.",
  })
  async verifyDiscoveredAgent(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<DiscoveredAgent> {
    const peer = await ctx.getOwned(DiscoveredAgent, id, owner);
    let fetched: FetchedCard;
    try {
      fetched = await fetchAgentCard(peer.url);
    } catch (error) {
      // The failure is recorded (and a peer verified before is no longer), then answered.
      await updateReturning(
        ctx.em,
        DiscoveredAgent,
        { id: peer.id },
        {
          verified: false,
          lastError: (error as Error).message.slice(0, 1000),
        },
      );
      throw error;
    }
    const [verified] = await updateReturning(ctx.em, DiscoveredAgent, { id: peer.id }, verifiedBy(fetched));
    if (!verified) throw badInput(`peer ${id} was removed meanwhile`);
    return verified;
  }
}
