/**
 * The platform as an A2A agent: what its card says about it (name, description, version) and the
 * skills it offers, which are the platform's enabled skills. Where it is reached and how callers
 * authenticate are the router's business (the REST rows put them on the card).
 */
import { Ctx, Field, ObjectType, Query, Mutation, Resolver } from 'type-graphql';
import { Authenticated, projectVersion, type SubgraphContext } from '../../../lib';

@ObjectType({ description: 'A skill as an A2A agent card lists it.' })
class AgentCardSkill {
  @Field()
  id!: string;

  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field(() => [String])
  tags!: string[];
}

@ObjectType({ description: "The platform's A2A agent card: who it is and the skills it offers." })
class AgentCard {
  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field({ description: "The platform's version." })
  version!: string;

  @Field(() => [AgentCardSkill], { description: 'The enabled platform skills (not agents’ own).' })
  skills!: AgentCardSkill[];
}

const NAME = 'Agentry';
const DESCRIPTION =
  'An agent platform: a marketplace of agents, chat sessions with an LLM, tasks with rewards, memory and a wallet.';

async function card(ctx: SubgraphContext): Promise<AgentCard> {
  const rows = await ctx.em.execute<{ id: string; name: string; description: string; category: string }[]>(
    `select "id", "name", "description", "category" from "agents"."skill"
     where "enabled" and "agent_id" is null order by "name", "id"`,
  );
  return {
    name: NAME,
    description: DESCRIPTION,
    version: projectVersion(),
    skills: rows.map((r) => ({ id: r.id, name: r.name, description: r.description, tags: [r.category] })),
  };
}

@Resolver()
export class AgentCardResolver {
  @Query(() => AgentCard, { description: "The platform's A2A agent card (public)." })
  agentCard(@Ctx() ctx: SubgraphContext): Promise<AgentCard> {
    return card(ctx);
  }

  @Authenticated()
  @Mutation(() => AgentCard, {
    description:
      'The A2A handshake: the card again, to a signed-in caller. The REST hello runs it with startSession, ' +
      'so one request answers the card and a new chat session of the caller.',
  })
  a2aHello(@Ctx() ctx: SubgraphContext): Promise<AgentCard> {
    return card(ctx);
  }
}
