/**
 * Every plugin of this deployment (the built-ins, then the operator's MCP servers) and whether each
 * is enabled. The enabled state lives in the database, so every replica reads the same; a plugin
 * without a row is enabled.
 */
import { AppError, loadConfig, notFound, type EntityManager, type Logger } from '../../../lib';
import { BUILTIN_PLUGINS } from './builtins';
import { McpPlugin } from './mcp';
import type { Plugin } from './plugin';

export interface ToolSettings {
  timeoutMs: number;
  resultMaxChars: number;
  maxRounds: number;
}

export interface ToolRegistry {
  settings: ToolSettings;
  /** By name, built-ins first. */
  plugins: Map<string, Plugin>;
  mcp: McpPlugin[];
}

let registry: ToolRegistry | undefined;

/** Read from the environment at first use, like the chat's settings; the logger of that first use is kept. */
export function toolRegistry(log: Logger): ToolRegistry {
  if (registry) return registry;
  const config = loadConfig();
  const plugins = new Map<string, Plugin>(BUILTIN_PLUGINS.map((plugin) => [plugin.name, plugin]));
  const mcp: McpPlugin[] = [];
  for (const server of config.MCP_SERVERS ?? []) {
    if (plugins.has(server.name)) {
      log.error({ plugin: server.name }, 'MCP server skipped: its name is a built-in plugin');
      continue;
    }
    const plugin = new McpPlugin(server, log.child({ component: 'mcp' }), config.MCP_CONNECT_TIMEOUT_MS);
    plugins.set(plugin.name, plugin);
    mcp.push(plugin);
  }
  registry = {
    settings: {
      timeoutMs: config.TOOL_TIMEOUT_MS,
      resultMaxChars: config.TOOL_RESULT_MAX_CHARS,
      maxRounds: config.TOOL_MAX_ROUNDS,
    },
    plugins,
    mcp,
  };
  return registry;
}

/** Closes every MCP connection (stops stdio servers); at shutdown. */
export async function closeToolRegistry(): Promise<void> {
  const closing = registry;
  registry = undefined;
  await Promise.all(closing?.mcp.map((plugin) => plugin.disconnect()) ?? []);
}

export function pluginNamed(registry: ToolRegistry, name: string): Plugin {
  const plugin = registry.plugins.get(name);
  if (!plugin) throw new AppError('NOT_FOUND', `plugin '${name}' not found`, { name });
  return plugin;
}

export function mcpNamed(registry: ToolRegistry, name: string): McpPlugin {
  const plugin = registry.mcp.find((candidate) => candidate.name === name);
  if (!plugin) throw notFound('MCP client', name);
  return plugin;
}

/** The names of disabled plugins. */
export async function disabledPlugins(em: EntityManager): Promise<Set<string>> {
  const rows = await em.execute<{ name: string }[]>(
    `select "name" from "sessions"."plugin_state" where not "enabled"`,
  );
  return new Set(rows.map((row) => row.name));
}

/** Flips a plugin's enabled state in one statement, so two toggles at once both count. */
export async function togglePluginState(em: EntityManager, name: string): Promise<boolean> {
  const [row] = await em.execute<{ enabled: boolean }[]>(
    `insert into "sessions"."plugin_state" ("name", "enabled") values (?, false)
     on conflict ("name") do update set "enabled" = not "plugin_state"."enabled", "updated_at" = now()
     returning "enabled"`,
    [name],
  );
  return row.enabled;
}
