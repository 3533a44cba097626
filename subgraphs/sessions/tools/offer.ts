/**
 * Tools in chat turns: the enabled plugins' tools offered to the model as OpenAI functions, and the
 * model's calls of them run (checked, bounded and recorded like direct calls), their results given
 * back as `tool` messages.
 */
import type { EntityManager, Logger } from '../../../lib';
import type { UpstreamMessage, UpstreamTool, UpstreamToolCall } from '../chat.upstream';
import { argumentProblem, runAndRecord, ToolFailure } from './execute';
import type { Plugin, ToolDefinition } from './plugin';
import { disabledPlugins, toolRegistry, type ToolSettings } from './registry';

/** What one turn offers: the functions, and which plugin tool each name stands for. */
export interface OfferedTools {
  functions: UpstreamTool[];
  byName: Map<string, { plugin: Plugin; tool: ToolDefinition }>;
  settings: ToolSettings;
}

/** OpenAI function names allow letters, digits, `_` and `-`, at most 64. */
const functionName = (plugin: string, tool: string) =>
  `${plugin}__${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

/**
 * The tools of every enabled plugin, or undefined when there are none (or rounds are off). A server
 * that cannot be reached now is left out (and logged), never failing the turn.
 */
export async function offeredTools(em: EntityManager, log: Logger): Promise<OfferedTools | undefined> {
  const registry = toolRegistry(log);
  if (registry.settings.maxRounds === 0) return undefined;
  const disabled = await disabledPlugins(em);
  const enabled = [...registry.plugins.values()].filter((plugin) => !disabled.has(plugin.name));
  const listed = await Promise.all(
    enabled.map((plugin) =>
      plugin.tools().then(
        (tools) => ({ plugin, tools }),
        (error: unknown) => {
          log.warn({ err: error, plugin: plugin.name }, 'plugin tools not offered: unreachable');
          return { plugin, tools: [] as ToolDefinition[] };
        },
      ),
    ),
  );
  const byName: OfferedTools['byName'] = new Map();
  const functions: UpstreamTool[] = [];
  for (const { plugin, tools } of listed)
    for (const tool of tools) {
      const name = functionName(plugin.name, tool.name);
      if (byName.has(name)) continue; // two names that read the same once cleaned: the first wins
      byName.set(name, { plugin, tool });
      functions.push({
        type: 'function',
        function: { name, description: tool.description, parameters: tool.inputSchema },
      });
    }
  return functions.length ? { functions, byName, settings: registry.settings } : undefined;
}

const parseArguments = (text: string): unknown => {
  try {
    return text.trim() ? JSON.parse(text) : {};
  } catch {
    return undefined;
  }
};

/**
 * Runs one call the model asked for and answers the `tool` message that goes back to it: the tool's
 * output, or what went wrong. Every call that names an offered tool is recorded against the turn.
 */
export async function runModelCall(
  em: EntityManager,
  offered: OfferedTools,
  call: UpstreamToolCall,
  turn: { id: string; ownerId: string },
  signal: AbortSignal,
  log: Logger,
): Promise<UpstreamMessage> {
  const reply = (content: string): UpstreamMessage => ({ role: 'tool', tool_call_id: call.id, content });
  const target = offered.byName.get(call.name);
  if (!target) return reply(`error: no tool named ${call.name} is offered`);
  const { plugin, tool } = target;
  const args = parseArguments(call.arguments);
  const refusal = args === undefined ? 'arguments are not JSON' : argumentProblem(tool, args);
  const run = {
    plugin,
    tool,
    args: args === undefined ? { unparsed: call.arguments } : args,
    ownerId: turn.ownerId,
    turnId: turn.id,
    settings: offered.settings,
    signal,
  };
  // A record that cannot be written never fails the turn: the model is told, and it is logged.
  const { outcome, failure } = await runAndRecord(em, run, refusal).catch((error: unknown) => {
    log.error({ err: error, turnId: turn.id, tool: call.name }, 'tool call not recorded');
    return { outcome: undefined, failure: new ToolFailure('BAD_GATEWAY', 'the call could not be recorded') };
  });
  if (failure) return reply(`error: ${failure.message}`);
  return reply(outcome!.success ? outcome!.output : `error: ${outcome!.output}`);
}
