/**
 * 002's plugins and MCP clients, rows of the runtime dialect, in the shapes of Ironclad's handlers
 * (api/routes/admin/operator_tools.rs: get_plugins, toggle_plugin, execute_plugin_tool;
 * admin/advanced_runtime.rs: get_mcp_runtime, mcp_client_discover, mcp_client_disconnect).
 */
import {
  McpConnectionListDocument,
  McpServerDiscoverDocument,
  McpServerDisconnectDocument,
  PluginListDocument,
  PluginToggleDocument,
  PluginToolExecuteDocument,
  type McpConnectionFieldsFragment,
  type PluginFieldsFragment,
  type ToolCallFieldsFragment,
} from '../generated/graphql';
import { derived, fromPath } from '../mapping';
import { route, type ErrorStyle } from '../types';
import { runtime } from './runtime.errors';

/** Ironclad's PluginStatus, serialised by name. */
const PLUGIN_STATUS: Record<string, string> = { ACTIVE: 'Active', DISABLED: 'Disabled', ERROR: 'Error' };

const plugin = (p: PluginFieldsFragment) => ({
  name: p.name,
  version: p.version,
  status: PLUGIN_STATUS[p.status] ?? p.status,
  // Ironclad's ToolDef; no risk levels nor permissions are kept, so each tool has Ironclad's defaults.
  tools: p.tools.map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.parameters,
    risk_level: 'Caution',
    permissions: [],
  })),
  kind: p.kind,
  description: p.description,
  enabled: p.enabled,
  error: p.error,
});

/** A recorded call in Ironclad's tool audit shape (its `input` is the arguments as JSON text). */
export const toolCallRecord = (c: ToolCallFieldsFragment) => ({
  id: c.id,
  tool_name: c.tool,
  plugin: c.plugin,
  skill_id: null,
  skill_name: null,
  skill_hash: null,
  input: JSON.stringify(c.arguments),
  output: c.output ?? c.error,
  status: c.status.toLowerCase(),
  error: c.error,
  duration_ms: c.durationMs,
  created_at: c.createdAt,
});

const connection = (c: McpConnectionFieldsFragment) => ({
  name: c.name,
  url: c.target,
  connected: c.connected,
  tools: c.tools,
  resources: c.resources,
  transport: c.transport,
  error: c.error,
});

/** Ironclad's MCP client routes answer failures as `{"ok": false, "error": …}`. */
const mcpErrors: ErrorStyle = { ...runtime, body: ({ message }) => ({ ok: false, error: message }) };

export const runtimeToolRoutes = [
  route({
    method: 'GET',
    path: '/api/plugins',
    summary: 'The plugins (built-ins and MCP servers) with their tools and status',
    operation: PluginListDocument,
    shape: ({ plugins }) => ({
      plugins: plugins.map(plugin),
      count: plugins.length,
      total_tools: plugins.reduce((sum, p) => sum + p.tools.length, 0),
    }),
  }),
  route({
    method: 'PUT',
    path: '/api/plugins/:name/toggle',
    summary: 'Disable an enabled plugin or enable a disabled one, for every replica (admin)',
    operation: PluginToggleDocument,
    variables: { name: fromPath('name') },
    shape: ({ togglePlugin: p }) => ({
      name: p.name,
      toggled: true,
      status: PLUGIN_STATUS[p.status] ?? p.status,
    }),
  }),
  route({
    method: 'POST',
    path: '/api/plugins/:name/execute/:tool',
    summary:
      "Call a plugin's tool; the body is its arguments (checked against its JSON Schema), bounded in time and size; recorded",
    operation: PluginToolExecuteDocument,
    variables: {
      name: fromPath('name'),
      tool: fromPath('tool'),
      arguments: derived(({ body }) => body),
    },
    shape: ({ executePluginTool: e }) => ({
      plugin: e.call.plugin,
      tool: e.call.tool,
      result: { success: e.success, output: e.output, metadata: e.metadata ?? null },
      call_id: e.call.id,
      duration_ms: e.call.durationMs,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/runtime/mcp',
    summary:
      "The MCP servers' connections on the answering replica (admin); nothing is exposed as an MCP server",
    operation: McpConnectionListDocument,
    shape: ({ mcpConnections }) => ({
      connections: mcpConnections.map(connection),
      connected_count: mcpConnections.filter((c) => c.connected).length,
      exposed_tools: [],
      exposed_resources: [],
    }),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/mcp/clients/:name/discover',
    summary: 'Reconnect an MCP server and list its tools again, on every replica (admin); 502 when it cannot',
    operation: McpServerDiscoverDocument,
    errors: mcpErrors,
    variables: { name: fromPath('name') },
    shape: ({ discoverMcpServer: c }) => ({ ok: true, name: c.name, tools: c.tools }),
  }),
  route({
    method: 'POST',
    path: '/api/runtime/mcp/clients/:name/disconnect',
    summary: 'Disconnect an MCP server on every replica until it is discovered again (admin)',
    operation: McpServerDisconnectDocument,
    errors: mcpErrors,
    variables: { name: fromPath('name') },
    shape: ({ disconnectMcpServer: c }) => ({ ok: true, name: c.name }),
  }),
];
