/**
 * What a plugin is: a named provider of tools, either one of the platform's built-ins
 * (builtins.ts) or an MCP server the operator configured (mcp.ts). Both answer the same way.
 */

/** A tool as the model and the API see it: its input is a JSON Schema (MCP's `inputSchema`). */
export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** What a tool answered: text for the model, and structured content when it has some. */
export interface ToolOutcome {
  success: boolean;
  output: string;
  metadata: unknown;
}

/** Who a call runs for, and when it must stop. */
export interface ToolCallContext {
  ownerId: string;
  signal: AbortSignal;
}

export type PluginKind = 'builtin' | 'mcp';

export interface Plugin {
  name: string;
  kind: PluginKind;
  description: string;
  /** The tools it offers now; an MCP server is connected first (throws when it cannot be). */
  tools(): Promise<ToolDefinition[]>;
  /** Its version: the platform's for built-ins, the server's own for MCP. */
  version(): string;
  call(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolOutcome>;
}
