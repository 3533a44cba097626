import {
  Arg,
  Ctx,
  Directive,
  Field,
  ID,
  InputType,
  Mutation,
  ObjectType,
  Query,
  Resolver,
} from 'type-graphql';
import {
  AppError,
  badInput,
  conflict,
  flushUnique,
  RequiresScopes,
  updateReturning,
  type SubgraphContext,
} from '../../../lib';
import { Agent, AgentStatus } from '../agent.entity';
import { SubAgent } from './subagent.entity';

/** Lists are bounded: an owner sees at most this many sub-agents (and listed agents) at once. */
export const SUBAGENT_LIMITS = {
  list: 200,
  name: 64,
  displayName: 100,
  description: 2000,
  model: 200,
  models: 10,
  skills: 50,
};

const NAME = /^[a-z0-9][a-z0-9_-]*$/;

function text(value: string, field: string, max: number, min = 0): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max)
    throw badInput(`${field} must be ${min} to ${max} characters`, { field });
  return trimmed;
}

function nameOf(value: string): string {
  const name = text(value, 'name', SUBAGENT_LIMITS.name, 1);
  if (!NAME.test(name)) throw badInput('name must be lower-case letters, digits, - and _', { field: 'name' });
  return name;
}

/** Ironclad's wording: an empty model is refused as such. */
function modelOf(value: string, field = 'model'): string {
  if (!value.trim()) throw badInput(`${field} cannot be empty`, { field });
  return text(value, field, SUBAGENT_LIMITS.model, 1);
}

function listOf(values: string[], field: string, max: number, check: (v: string) => string): string[] {
  if (values.length > max) throw badInput(`${field} holds at most ${max} entries`, { field });
  return [...new Set(values.map(check))];
}

/** 002's wording for a name the caller has no sub-agent by. */
const missing = (name: string) => new AppError('NOT_FOUND', `sub-agent '${name}' not found`, { name });

/** The caller's own sub-agent by name; another account's is as missing as none. */
async function mine(ctx: SubgraphContext, name: string): Promise<SubAgent> {
  const row = await ctx.em.findOne(SubAgent, { ownerId: ctx.me().accountId, name });
  if (!row) throw missing(name);
  return row;
}

@InputType()
export class CreateSubAgentInput {
  @Field()
  name!: string;

  @Field({ nullable: true, description: 'Default: the name.' })
  displayName?: string;

  @Field({ nullable: true })
  description?: string;

  @Field()
  model!: string;

  @Field(() => [String], { nullable: true })
  fallbackModels?: string[];

  @Field(() => [String], { nullable: true })
  skills?: string[];

  @Field(() => ID, { nullable: true, description: 'One of your listed agents it works under.' })
  agentId?: string;
}

@ObjectType({ description: 'One roster entry: a sub-agent, or a listed agent (which has no model here).' })
export class RosterEntry {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  displayName!: string;

  @Field({ description: '"subagent" or "agent" (a marketplace listing).' })
  role!: string;

  @Field(() => String, { nullable: true })
  model!: string | null;

  @Field(() => [String])
  fallbackModels!: string[];

  @Field()
  enabled!: boolean;

  @Field()
  description!: string;

  @Field(() => [String])
  skills!: string[];
}

@ObjectType({ description: 'A model change: the sub-agent after it, and the model it replaced.' })
export class SubAgentModelChange {
  @Field(() => SubAgent)
  subAgent!: SubAgent;

  @Field()
  oldModel!: string;

  @Field()
  newModel!: string;
}

// The router refuses NUL and lone surrogates in every input string (router/safe-input.ts).
const subAgentEntry = (s: SubAgent): RosterEntry => ({ ...s, role: 'subagent' });
const agentEntry = (a: Agent): RosterEntry => ({
  id: a.id,
  name: a.ticker.toLowerCase(),
  displayName: a.name,
  role: 'agent',
  model: null,
  fallbackModels: [],
  enabled: a.status === AgentStatus.ACTIVE,
  description: a.description,
  skills: [],
});

const listMine = (ctx: SubgraphContext) =>
  ctx.em.find(
    SubAgent,
    { ownerId: ctx.me().accountId },
    { orderBy: { name: 'asc' }, limit: SUBAGENT_LIMITS.list },
  );

@Resolver(() => SubAgent)
export class SubAgentResolver {
  @RequiresScopes('agents')
  @Query(() => [SubAgent], {
    description: `Your sub-agent definitions by name (at most ${SUBAGENT_LIMITS.list}).`,
  })
  subAgents(@Ctx() ctx: SubgraphContext): Promise<SubAgent[]> {
    return listMine(ctx);
  }

  @RequiresScopes('agents')
  @Query(() => SubAgent, { description: 'One of your sub-agents by name.' })
  subAgent(@Arg('name') name: string, @Ctx() ctx: SubgraphContext): Promise<SubAgent> {
    return mine(ctx, name);
  }

  @RequiresScopes('agents')
  @Query(() => [RosterEntry], { description: 'Your sub-agents with their models, then your listed agents.' })
  async roster(@Ctx() ctx: SubgraphContext): Promise<RosterEntry[]> {
    const agents = await ctx.em.find(
      Agent,
      { ownerId: ctx.me().accountId },
      { orderBy: { id: 'asc' }, limit: SUBAGENT_LIMITS.list },
    );
    return [...(await listMine(ctx)).map(subAgentEntry), ...agents.map(agentEntry)];
  }

  @Directive('@inaccessible')
  @Query(() => String, {
    nullable: true,
    description:
      "Services: the model chat uses for a listed agent: its first enabled sub-agent's by name, else null.",
  })
  async agentRosterModel(@Arg('agentId', () => ID) agentId: string, @Ctx() ctx: SubgraphContext) {
    if (ctx.caller.kind !== 'service' || ctx.caller.service !== 'sessions')
      throw new AppError('FORBIDDEN', 'only the sessions service reads roster models');
    const agent = await ctx.em.findOne(Agent, { id: agentId });
    if (!agent) return null;
    const first = await ctx.em.findOne(
      SubAgent,
      { agentId, ownerId: agent.ownerId, enabled: true },
      { orderBy: { name: 'asc' } },
    );
    return first?.model ?? null;
  }

  @RequiresScopes('agents')
  @Mutation(() => SubAgent, { description: 'Define a sub-agent; its name is unique among yours.' })
  async createSubAgent(
    @Arg('input') input: CreateSubAgentInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<SubAgent> {
    const name = nameOf(input.name);
    const fields = {
      name,
      displayName: text(input.displayName ?? name, 'displayName', SUBAGENT_LIMITS.displayName, 1),
      description: text(input.description ?? '', 'description', SUBAGENT_LIMITS.description),
      model: modelOf(input.model),
      fallbackModels: listOf(input.fallbackModels ?? [], 'fallbackModels', SUBAGENT_LIMITS.models, (m) =>
        modelOf(m, 'fallbackModels'),
      ),
      skills: listOf(input.skills ?? [], 'skills', SUBAGENT_LIMITS.skills, (s) => text(s, 'skills', 100, 1)),
    };
    // Only under one of the caller's own listings (another account's is as missing as none).
    const agentId = input.agentId ? (await ctx.getOwned(Agent, input.agentId, (a) => a.ownerId)).id : null;
    const row = ctx.em.create(SubAgent, { ...fields, agentId, ownerId: ctx.me().accountId });
    await flushUnique(ctx.em, `sub-agent '${name}' already exists`, { field: 'name' });
    return row;
  }

  @RequiresScopes('agents')
  @Mutation(() => SubAgent, {
    description:
      'Enable or disable your sub-agent; no `enabled` flips it, in one statement (two flips at once are two flips).',
  })
  async toggleSubAgent(
    @Arg('name') name: string,
    @Ctx() ctx: SubgraphContext,
    @Arg('enabled', () => Boolean, { nullable: true }) enabled?: boolean | null,
  ): Promise<SubAgent> {
    const rows = await ctx.em.execute<Record<string, unknown>[]>(
      `update "agents"."subagent" set "enabled" = coalesce(?::boolean, not "enabled"), "updated_at" = now()
        where "owner_id" = ? and "name" = ? returning *`,
      [enabled ?? null, ctx.me().accountId, name],
    );
    if (!rows[0]) throw missing(name);
    return ctx.em.map(SubAgent, rows[0]);
  }

  @RequiresScopes('agents')
  @Mutation(() => SubAgentModelChange, {
    description: "Change your sub-agent's model (chat for it uses it).",
  })
  async setSubAgentModel(
    @Arg('name') name: string,
    @Arg('model') model: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<SubAgentModelChange> {
    const newModel = modelOf(model);
    const old = await mine(ctx, name);
    const oldModel = old.model;
    // Conditional on the model read, so the old model reported is the one this change replaced.
    const [row] = await updateReturning(
      ctx.em,
      SubAgent,
      { id: old.id, model: oldModel },
      { model: newModel, updatedAt: new Date() },
    );
    if (!row) throw conflict(`sub-agent '${name}' changed meanwhile; try again`);
    return { subAgent: row, oldModel, newModel };
  }
}
