/**
 * Plugins and MCP servers over GraphQL: list them and their tools, call a tool, and (admins) turn
 * a plugin on or off and reconnect or disconnect an MCP server. A turn's tool calls are on `Turn`.
 */
import { GraphQLJSON } from 'graphql-scalars';
import {
  Arg,
  Ctx,
  Field,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  FieldResolver,
  Root,
} from 'type-graphql';
import { AppError, badInput, RequiresScopes, type SubgraphContext } from '../../../lib';
import { Turn } from '../chat.entities';
import { argumentProblem, asAppError, runAndRecord } from './execute';
import type { McpConnectionState } from './mcp';
import type { Plugin } from './plugin';
import { disabledPlugins, mcpNamed, pluginNamed, togglePluginState, toolRegistry } from './registry';
import { ToolCall } from './tool-call.entity';

/** The most tool calls a turn lists (a turn runs at most 20 rounds of at most 16 calls). */
const MAX_TURN_CALLS = 400;
/** Topic on which an operator's discover or disconnect reaches every replica. */
export const MCP_CONTROL_TOPIC = 'sessions.mcp-control';

@ObjectType({ description: 'A tool a plugin offers.' })
class PluginTool {
  @Field()
  name!: string;

  @Field()
  description!: string;

  @Field(() => GraphQLJSON, { description: 'The JSON Schema its arguments must fit.' })
  parameters!: unknown;
}

@ObjectType({ description: 'A named tool provider: a built-in, or an MCP server the operator configured.' })
class PluginInfo {
  @Field()
  name!: string;

  @Field({ description: '`builtin` or `mcp`.' })
  kind!: string;

  @Field()
  description!: string;

  @Field()
  version!: string;

  @Field({ description: 'Enabled for this deployment (offered to chat turns and callable).' })
  enabled!: boolean;

  @Field({ description: '`ACTIVE`, `DISABLED`, or `ERROR` (an MCP server that cannot be reached now).' })
  status!: string;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => [PluginTool], { description: 'Empty for a disabled plugin or an unreachable server.' })
  tools!: PluginTool[];
}

@ObjectType({ description: "An MCP server's connection from the replica that answered." })
class McpConnection implements Omit<McpConnectionState, 'transport'> {
  @Field()
  name!: string;

  @Field({ description: '`stdio` or `http`.' })
  transport!: string;

  @Field({ description: 'The URL (without credentials), or `stdio:` and the command.' })
  target!: string;

  @Field()
  connected!: boolean;

  @Field(() => Int)
  tools!: number;

  @Field(() => Int)
  resources!: number;

  @Field(() => String, { nullable: true, description: 'Why the last connection attempt failed.' })
  error!: string | null;

  @Field({ description: 'Disconnected by an operator: reconnected only by discoverMcpServer.' })
  held!: boolean;
}

@ObjectType({ description: 'A direct tool call: its answer, and the call as recorded.' })
class ToolExecution {
  @Field()
  success!: boolean;

  @Field()
  output!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  metadata!: unknown;

  @Field(() => ToolCall)
  call!: ToolCall;
}

function requireAdmin(ctx: SubgraphContext, action: string): void {
  if (ctx.me().role !== 'ADMIN') throw new AppError('FORBIDDEN', `only an admin may ${action}`);
}

/** Why a server is unreachable (its address, often) is for admins; others learn only that it is. */
const unreachable = (ctx: SubgraphContext, error: unknown) =>
  ctx.me().role === 'ADMIN' ? (error instanceof Error ? error.message : String(error)) : 'unreachable';

async function describe(ctx: SubgraphContext, plugin: Plugin, disabled: Set<string>): Promise<PluginInfo> {
  const enabled = !disabled.has(plugin.name);
  const base = {
    name: plugin.name,
    kind: plugin.kind,
    description: plugin.description,
    enabled,
    error: null,
    tools: [],
  };
  // A disabled MCP server is not connected just to be listed.
  if (!enabled) return { ...base, version: plugin.version(), status: 'DISABLED' };
  try {
    const tools = await plugin.tools();
    return {
      ...base,
      version: plugin.version(),
      status: 'ACTIVE',
      tools: tools.map((t) => ({ name: t.name, description: t.description, parameters: t.inputSchema })),
    };
  } catch (error) {
    return { ...base, version: plugin.version(), status: 'ERROR', error: unreachable(ctx, error) };
  }
}

@Resolver()
export class ToolsResolver {
  @RequiresScopes('orders')
  @Query(() => [PluginInfo], { description: 'Every plugin of this deployment and its tools.' })
  async plugins(@Ctx() ctx: SubgraphContext): Promise<PluginInfo[]> {
    ctx.me();
    const registry = toolRegistry(ctx.log);
    const disabled = await disabledPlugins(ctx.em);
    return Promise.all([...registry.plugins.values()].map((plugin) => describe(ctx, plugin, disabled)));
  }

  @RequiresScopes('admin')
  @Mutation(() => PluginInfo, { description: 'Enables a disabled plugin, disables an enabled one (admin).' })
  async togglePlugin(@Arg('name') name: string, @Ctx() ctx: SubgraphContext): Promise<PluginInfo> {
    requireAdmin(ctx, 'turn plugins on or off');
    const registry = toolRegistry(ctx.log);
    const plugin = pluginNamed(registry, name);
    const enabled = await togglePluginState(ctx.em, plugin.name);
    return describe(ctx, plugin, new Set(enabled ? [] : [plugin.name]));
  }

  @RequiresScopes('orders')
  @Mutation(() => ToolExecution, {
    description:
      "Calls a plugin's tool with arguments that fit its schema, within the time and size limits; recorded.",
  })
  async executePluginTool(
    @Arg('name', { description: 'The plugin.' }) pluginName: string,
    @Arg('tool') toolName: string,
    @Arg('arguments', () => GraphQLJSON, { nullable: true }) args: unknown,
    @Ctx() ctx: SubgraphContext,
  ): Promise<ToolExecution> {
    const { accountId } = ctx.me();
    const registry = toolRegistry(ctx.log);
    const plugin = pluginNamed(registry, pluginName);
    if ((await disabledPlugins(ctx.em)).has(plugin.name))
      throw new AppError('FORBIDDEN', `plugin '${plugin.name}' is disabled`);
    const tools = await plugin.tools().catch((error: unknown) => {
      const why = unreachable(ctx, error);
      throw new AppError(
        'BAD_GATEWAY',
        `plugin '${plugin.name}' is unreachable${why === 'unreachable' ? '' : `: ${why}`}`,
      );
    });
    const tool = tools.find((candidate) => candidate.name === toolName);
    if (!tool) throw new AppError('NOT_FOUND', `tool '${toolName}' not found in plugin '${plugin.name}'`);
    const given = args ?? {};
    const problem = argumentProblem(tool, given);
    if (problem) throw badInput(problem, { field: 'arguments' });
    const { outcome, failure, call } = await runAndRecord(ctx.em, {
      plugin,
      tool,
      args: given,
      ownerId: accountId,
      turnId: null,
      settings: registry.settings,
    });
    if (failure) throw asAppError(failure);
    return { ...outcome!, call };
  }

  @RequiresScopes('admin')
  @Query(() => [McpConnection], {
    description: "The MCP servers' connections on the answering replica (admin).",
  })
  mcpConnections(@Ctx() ctx: SubgraphContext): McpConnection[] {
    requireAdmin(ctx, 'read MCP connections');
    return toolRegistry(ctx.log).mcp.map((plugin) => plugin.state());
  }

  @RequiresScopes('admin')
  @Mutation(() => McpConnection, {
    description: 'Reconnects an MCP server and lists its tools again, on every replica (admin).',
  })
  async discoverMcpServer(@Arg('name') name: string, @Ctx() ctx: SubgraphContext): Promise<McpConnection> {
    requireAdmin(ctx, 'reconnect MCP servers');
    const registry = toolRegistry(ctx.log);
    const plugin = mcpNamed(registry, name);
    await plugin.discover().catch((error: unknown) => {
      throw new AppError('BAD_GATEWAY', `MCP server ${name} not connected: ${(error as Error).message}`);
    });
    await ctx.pubsub.publish(MCP_CONTROL_TOPIC, { action: 'discover', name, origin: replicaId });
    return plugin.state();
  }

  @RequiresScopes('admin')
  @Mutation(() => McpConnection, {
    description: 'Disconnects an MCP server on every replica until it is discovered again (admin).',
  })
  async disconnectMcpServer(@Arg('name') name: string, @Ctx() ctx: SubgraphContext): Promise<McpConnection> {
    requireAdmin(ctx, 'disconnect MCP servers');
    const plugin = mcpNamed(toolRegistry(ctx.log), name);
    await plugin.disconnect();
    await ctx.pubsub.publish(MCP_CONTROL_TOPIC, { action: 'disconnect', name, origin: replicaId });
    return plugin.state();
  }
}

/** This process, so that it skips its own control messages. */
const replicaId = `${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Applies another replica's discover or disconnect here. */
export async function applyMcpControl(message: unknown, registry: ReturnType<typeof toolRegistry>) {
  const { action, name, origin } = (message ?? {}) as { action?: string; name?: string; origin?: string };
  if (origin === replicaId) return;
  const plugin = registry.mcp.find((candidate) => candidate.name === name);
  if (!plugin) return;
  if (action === 'disconnect') await plugin.disconnect();
  else if (action === 'discover') await plugin.discover().catch(() => undefined);
}

@Resolver(() => Turn)
export class TurnToolsResolver {
  @FieldResolver(() => [ToolCall], { description: 'The tool calls the model made in this turn, in order.' })
  toolCalls(@Root() turn: Turn, @Ctx() ctx: SubgraphContext): Promise<ToolCall[]> {
    return ctx.em.find(
      ToolCall,
      { turnId: turn.id },
      { orderBy: { createdAt: 'asc', id: 'asc' }, limit: MAX_TURN_CALLS },
    );
  }
}
