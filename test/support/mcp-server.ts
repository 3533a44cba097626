/**
 * A small MCP server of our own, built with the official SDK's server classes, for tests: over
 * stdio when this file is run (`node dist/test/support/mcp-server.js`), or over streamable HTTP on
 * 127.0.0.1 from {@link startMcpHttpServer}. Its tools:
 * - `echo` {text}: answers `echo: <text>`; `add` {a, b}: the sum, as text and structured content;
 * - `fail`: answers an error result (isError); `hang`: never answers; `big` {size}: that many `x`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export const MCP_TOOLS = ['echo', 'add', 'fail', 'hang', 'big'];

export function buildMcpServer(name: string): McpServer {
  const server = new McpServer({ name, version: '1.2.3' });
  server.registerTool(
    'echo',
    { description: 'Says the text back', inputSchema: { text: z.string().max(1000) } },
    ({ text }) => ({ content: [{ type: 'text', text: `echo: ${text}` }] }),
  );
  server.registerTool(
    'add',
    {
      description: 'Adds two numbers',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );
  server.registerTool('fail', { description: 'Always fails' }, () => ({
    content: [{ type: 'text', text: 'it broke' }],
    isError: true,
  }));
  server.registerTool('hang', { description: 'Never answers' }, () => new Promise<never>(() => undefined));
  server.registerTool(
    'big',
    {
      description: 'Answers `size` characters',
      inputSchema: { size: z.number().int().min(0).max(10_000_000) },
    },
    ({ size }) => ({ content: [{ type: 'text', text: 'x'.repeat(size) }] }),
  );
  return server;
}

/** The server over streamable HTTP, stateless (a fresh server per request, as the SDK's example does). */
export async function startMcpHttpServer(): Promise<{
  url: string;
  requests: number;
  close(): Promise<void>;
}> {
  const state = { requests: 0 };
  const http = createServer((req, res) => {
    state.requests++;
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const server = buildMcpServer('test-http');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    get requests() {
      return state.requests;
    },
    close() {
      http.closeAllConnections();
      return new Promise((resolve) => http.close(() => resolve()));
    },
  };
}

if (require.main === module) {
  void buildMcpServer('test-stdio').connect(new StdioServerTransport());
}
