/**
 * MCP servers the operator configured (MCP_SERVERS), each a plugin, reached with the official SDK's
 * client over stdio (a child process) or streamable HTTP. A server is connected at first use and
 * again after it went away; a failed connection is retried at the next use after a short pause. Each
 * replica holds its own connections; an operator's disconnect or discover reaches every replica.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { basename } from 'node:path';
import { projectVersion, safeText, type Config, type Logger } from '../../../lib';
import type { Plugin, ToolCallContext, ToolDefinition, ToolOutcome } from './plugin';

export type McpServerConfig = NonNullable<Config['MCP_SERVERS']>[number];

type Sdk = typeof import('@modelcontextprotocol/sdk/client/index.js') &
  typeof import('@modelcontextprotocol/sdk/client/stdio.js') &
  typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js');
let sdk: Sdk | undefined;

/** The SDK's client, loaded when the first server connects: it takes about half a second to load. */
const loadSdk = (): Sdk =>
  (sdk ??= {
    /* eslint-disable @typescript-eslint/no-require-imports */
    ...require('@modelcontextprotocol/sdk/client/index.js'),
    ...require('@modelcontextprotocol/sdk/client/stdio.js'),
    ...require('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    /* eslint-enable @typescript-eslint/no-require-imports */
  } as Sdk);

/** The most tools one server may list (pages are read until then). */
const MAX_TOOLS = 500;
/** A server that could not be reached is not tried again sooner than this, except by discover. */
const RETRY_PAUSE_MS = 5000;
/** The longest line of a server's stderr kept in the log. */
const MAX_STDERR_CHARS = 2000;

export interface McpConnectionState {
  name: string;
  transport: 'stdio' | 'http';
  /** The URL without credentials nor query, or `stdio:` and the command's file name (never its arguments). */
  target: string;
  connected: boolean;
  tools: number;
  resources: number;
  error: string | null;
  /** Disconnected by an operator: not reconnected until discovered again. */
  held: boolean;
}

const messageOf = (error: unknown) => safeText(error instanceof Error ? error.message : String(error));

export class McpPlugin implements Plugin {
  readonly kind = 'mcp' as const;
  readonly name: string;
  readonly description: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private listed: ToolDefinition[] = [];
  private resources = 0;
  private lastError: string | null = null;
  private failedAt = 0;
  private held = false;

  constructor(
    private readonly server: McpServerConfig,
    private readonly log: Logger,
    /** How long connecting (and listing the tools) may take. */
    private readonly connectTimeoutMs: number,
  ) {
    this.name = server.name;
    // Seen by every user: says what it is, not where (its address is for admins, in its state).
    this.description = 'url' in server ? 'MCP server (streamable HTTP)' : 'MCP server (stdio)';
  }

  get target(): string {
    if ('url' in this.server) {
      const url = new URL(this.server.url);
      // Credentials and query strings (tokens ride there too) are never shown.
      url.username = url.password = url.search = '';
      return url.toString();
    }
    return `stdio:${basename(this.server.command)}`;
  }

  version(): string {
    return this.client?.getServerVersion()?.version ?? 'unknown';
  }

  state(): McpConnectionState {
    return {
      name: this.name,
      transport: 'url' in this.server ? 'http' : 'stdio',
      target: this.target,
      connected: Boolean(this.client),
      tools: this.client ? this.listed.length : 0,
      resources: this.client ? this.resources : 0,
      error: this.lastError,
      held: this.held,
    };
  }

  async tools(): Promise<ToolDefinition[]> {
    await this.connected();
    return this.listed;
  }

  async call(tool: string, args: Record<string, unknown>, { signal }: ToolCallContext): Promise<ToolOutcome> {
    // The caller's signal carries the time limit; the SDK also cancels the request on the server.
    const client = await this.connected(signal);
    const result = await client.callTool({ name: tool, arguments: args }, undefined, { signal });
    const content = Array.isArray(result.content) ? (result.content as Record<string, unknown>[]) : [];
    const output = content
      .map((part) => {
        if (part.type === 'text') return String(part.text);
        const resource = part.resource as { text?: unknown; uri?: unknown } | undefined;
        if (part.type === 'resource' && typeof resource?.text === 'string') return resource.text;
        return `[${String(part.type)}${part.mimeType ? ` ${String(part.mimeType)}` : ''}]`;
      })
      .join('\n');
    return { success: result.isError !== true, output, metadata: result.structuredContent ?? null };
  }

  /** Reconnects now (an operator's discover), even when held or recently failed; answers the tools. */
  async discover(): Promise<ToolDefinition[]> {
    this.held = false;
    this.failedAt = 0;
    await this.disconnect(false);
    return this.tools();
  }

  /** Closes the connection; `hold` keeps it closed until the next discover. */
  async disconnect(hold = true): Promise<void> {
    this.held = hold;
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    this.listed = [];
    await client?.close().catch(() => undefined);
  }

  private connected(signal?: AbortSignal): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.held)
      return Promise.reject(new Error(`MCP server ${this.name} was disconnected by an operator`));
    if (!this.connecting && Date.now() - this.failedAt < RETRY_PAUSE_MS)
      return Promise.reject(new Error(this.lastError ?? `MCP server ${this.name} is unreachable`));
    this.connecting ??= this.connect(signal).finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(signal?: AbortSignal): Promise<Client> {
    const timeout = this.connectTimeoutMs;
    const { Client } = loadSdk();
    const client = new Client({ name: 'agentry', version: projectVersion() });
    try {
      await client.connect(this.transport(), { timeout, signal });
      const tools: ToolDefinition[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout, signal });
        for (const tool of page.tools)
          tools.push({
            name: tool.name,
            description: tool.description ?? tool.title ?? '',
            inputSchema: tool.inputSchema as Record<string, unknown>,
          });
        cursor = page.nextCursor;
      } while (cursor && tools.length < MAX_TOOLS);
      this.listed = tools.slice(0, MAX_TOOLS);
      this.resources = client.getServerCapabilities()?.resources
        ? ((await client.listResources(undefined, { timeout, signal }).catch(() => undefined))?.resources
            .length ?? 0)
        : 0;
      client.onclose = () => {
        if (this.client !== client) return;
        this.client = undefined;
        this.lastError = 'the server closed the connection';
        this.log.warn({ plugin: this.name }, 'MCP server connection closed');
      };
      this.client = client;
      this.lastError = null;
      this.log.info({ plugin: this.name, tools: this.listed.length }, 'MCP server connected');
      return client;
    } catch (error) {
      this.failedAt = Date.now();
      this.lastError = messageOf(error);
      this.log.warn({ plugin: this.name, err: error }, 'MCP server not connected');
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private transport(): Transport {
    const { getDefaultEnvironment, StdioClientTransport, StreamableHTTPClientTransport } = loadSdk();
    const server = this.server;
    if ('url' in server)
      return new StreamableHTTPClientTransport(new URL(server.url), {
        requestInit: { headers: server.headers ?? {} },
      });
    // Only the SDK's safe default environment (PATH, HOME, …) and what the operator set reach the child.
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args,
      env: { ...getDefaultEnvironment(), ...server.env },
      cwd: server.cwd,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) =>
      this.log.debug(
        { plugin: this.name, stderr: chunk.toString().slice(0, MAX_STDERR_CHARS) },
        'MCP server stderr',
      ),
    );
    return transport;
  }
}
