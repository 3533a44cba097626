/**
 * Plugins, MCP clients and tool calls in chat turns, through the runtime dialect: an MCP server of
 * our own over stdio (a child process) and over streamable HTTP, the built-in clock, arguments
 * checked against each tool's schema, time and size limits, the enabled state kept in the database,
 * and chat turns whose model (the LLM double, speaking OpenAI's tool-call stream) calls the tools.
 */
import { browserAvailable } from '../support/browser';
import { basename, resolve } from 'node:path';
import pg from 'pg';
import {
  ANSWER,
  REFUSES_TOOLS,
  startLlmDouble,
  toolAnswer,
  useUpstream,
  type LlmDouble,
} from '../support/llm-double';
import { MCP_TOOLS, startMcpHttpServer } from '../support/mcp-server';
import { startTestPlatform, type Client, type TestPlatform, type User } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { ISO, rest, type Rest } from './support';

const TIMEOUT_MS = 1500;
const MAX_CHARS = 1000;
const MAX_ROUNDS = 3;

let double: LlmDouble;
let mcpHttp: Awaited<ReturnType<typeof startMcpHttpServer>>;
let t: TestPlatform;
let ada: User;
let admin: Client;
let api: Rest;
let asAdmin: Rest;
let db: pg.Client;

beforeAll(async () => {
  double = await startLlmDouble();
  mcpHttp = await startMcpHttpServer();
  useUpstream(double);
  Object.assign(process.env, {
    MCP_SERVERS: JSON.stringify([
      { name: 'stdio-tools', command: process.execPath, args: [resolve('dist/test/support/mcp-server.js')] },
      { name: 'http-tools', url: mcpHttp.url },
      // Nothing listens on port 1: a configured server that cannot be reached.
      { name: 'dead-tools', url: 'http://127.0.0.1:1/mcp' },
    ]),
    TOOL_TIMEOUT_MS: String(TIMEOUT_MS),
    TOOL_RESULT_MAX_CHARS: String(MAX_CHARS),
    TOOL_MAX_ROUNDS: String(MAX_ROUNDS),
  });
  t = await startTestPlatform();
  [ada, admin] = [await t.register('Ada'), await registerAdmin(t)];
  api = rest(t, ada.credential);
  asAdmin = rest(t, admin.credential);
  db = new pg.Client({ connectionString: t.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.close();
  await mcpHttp?.close();
  await double?.close();
});

const execute = (plugin: string, tool: string, body: unknown = {}) =>
  api('POST', `/runtime/api/plugins/${plugin}/execute/${tool}`, { body });

const recordedCall = async (id: string) =>
  (await db.query(`select * from "sessions"."tool_call" where "id" = $1`, [id])).rows[0];

describe('plugins', () => {
  it('lists the built-ins and each MCP server with its tools, and a server that cannot be reached as Error', async () => {
    const { status, body } = await api('GET', '/runtime/api/plugins');
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.plugins.map((p: { name: string }) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual([
      'browser',
      'clock',
      'dead-tools',
      'http-tools',
      'stdio-tools',
    ]);
    // The browser built-in is offered where Chromium is installed (browser-tool.test.ts drives it).
    expect(byName.browser).toMatchObject({ kind: 'builtin', status: browserAvailable ? 'Active' : 'Error' });
    expect(byName.clock).toMatchObject({ kind: 'builtin', status: 'Active', enabled: true, error: null });
    expect(byName.clock.tools.map((tool: { name: string }) => tool.name)).toEqual(['now']);
    for (const name of ['stdio-tools', 'http-tools']) {
      expect(byName[name]).toMatchObject({ kind: 'mcp', status: 'Active', version: '1.2.3', error: null });
      expect(byName[name].tools.map((tool: { name: string }) => tool.name).sort()).toEqual(
        [...MCP_TOOLS].sort(),
      );
    }
    expect(byName['stdio-tools'].tools.find((tool: { name: string }) => tool.name === 'echo')).toEqual({
      name: 'echo',
      description: 'Says the text back',
      parameters: expect.objectContaining({ type: 'object', required: ['text'] }),
      risk_level: 'Caution',
      permissions: [],
    });
    // Why it cannot be reached (an address, often) is for admins only.
    expect(byName['dead-tools']).toMatchObject({ status: 'Error', tools: [], error: 'unreachable' });
    const seenByAdmin = (await asAdmin('GET', '/runtime/api/plugins')).body.plugins.find(
      (p: { name: string }) => p.name === 'dead-tools',
    );
    expect(seenByAdmin.error).not.toBe('unreachable');
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
    expect(body.count).toBe(5);
    expect(body.total_tools).toBe(1 + byName.browser.tools.length + 2 * MCP_TOOLS.length);
  });

  it('calls an MCP tool over stdio and records the call', async () => {
    const { status, body } = await execute('stdio-tools', 'echo', { text: 'hi there' });
    expect(status).toBe(200);
    expect(body).toEqual({
      plugin: 'stdio-tools',
      tool: 'echo',
      result: { success: true, output: 'echo: hi there', metadata: null },
      call_id: expect.any(String),
      duration_ms: expect.any(Number),
    });
    expect(await recordedCall(body.call_id)).toMatchObject({
      turn_id: null,
      owner_id: ada.id,
      plugin: 'stdio-tools',
      tool: 'echo',
      arguments: { text: 'hi there' },
      output: 'echo: hi there',
      status: 'SUCCESS',
      error: null,
    });
  });

  it('calls an MCP tool over streamable HTTP, structured content included', async () => {
    const before = mcpHttp.requests;
    const { status, body } = await execute('http-tools', 'add', { a: 2, b: 40 });
    expect(status).toBe(200);
    expect(body.result).toEqual({ success: true, output: '42', metadata: { sum: 42 } });
    expect(mcpHttp.requests).toBeGreaterThan(before);
  });

  it('runs the built-in clock, and answers an unknown time zone as a failed result', async () => {
    const { status, body } = await execute('clock', 'now', { timezone: 'Asia/Tokyo' });
    expect(status).toBe(200);
    expect(body.result.success).toBe(true);
    expect(body.result.metadata).toEqual({
      utc: ISO,
      unix: expect.any(Number),
      timezone: 'Asia/Tokyo',
      local: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    });
    expect(JSON.parse(body.result.output)).toEqual(body.result.metadata);
    const unknown = await execute('clock', 'now', { timezone: 'Mars/Olympus' });
    expect(unknown.status).toBe(200);
    expect(unknown.body.result).toEqual({
      success: false,
      output: 'unknown time zone: Mars/Olympus',
      metadata: null,
    });
  });

  it("answers a tool's own error result as success: false", async () => {
    const { status, body } = await execute('stdio-tools', 'fail');
    expect(status).toBe(200);
    expect(body.result).toEqual({ success: false, output: 'it broke', metadata: null });
    expect((await recordedCall(body.call_id)).status).toBe('FAILED');
  });

  it('refuses arguments that do not fit the schema with 400, and records nothing', async () => {
    const before = (await db.query(`select count(*)::int as n from "sessions"."tool_call"`)).rows[0].n;
    for (const [tool, args] of [
      ['echo', { text: 5 }],
      ['echo', {}],
      ['add', { a: 'two', b: 3 }],
    ] as const) {
      const { status, body } = await execute('stdio-tools', tool, args);
      expect(status).toBe(400);
      expect(body).toEqual({ error: expect.stringMatching(new RegExp(`^invalid arguments for ${tool}`)) });
    }
    const clock = await execute('clock', 'now', { timezone: 'UTC', extra: true });
    expect(clock.status).toBe(400);
    expect(clock.body.error).toMatch(/additional properties/);
    expect((await db.query(`select count(*)::int as n from "sessions"."tool_call"`)).rows[0].n).toBe(before);
  });

  it('answers 404 for an unknown plugin or tool', async () => {
    const plugin = await execute('no-such-plugin', 'echo', { text: 'x' });
    expect(plugin.status).toBe(404);
    expect(plugin.body).toEqual({ error: "plugin 'no-such-plugin' not found" });
    const tool = await execute('stdio-tools', 'no_such_tool');
    expect(tool.status).toBe(404);
    expect(tool.body).toEqual({ error: "tool 'no_such_tool' not found in plugin 'stdio-tools'" });
    expect((await asAdmin('PUT', '/runtime/api/plugins/no-such-plugin/toggle')).status).toBe(404);
  });

  it('stops a tool that hangs at the time limit (504) and records it', async () => {
    const { status, body } = await execute('stdio-tools', 'hang');
    expect(status).toBe(504);
    expect(body).toEqual({ error: `tool hang did not answer within ${TIMEOUT_MS} ms` });
    const { rows } = await db.query(
      `select * from "sessions"."tool_call" where "tool" = 'hang' and "turn_id" is null`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'ERROR', error: body.error });
    expect(rows[0].duration_ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    // The server is still usable afterwards.
    expect((await execute('stdio-tools', 'echo', { text: 'still here' })).body.result.output).toBe(
      'echo: still here',
    );
  });

  it('refuses a result over the size limit (502) and records it', async () => {
    const fits = await execute('stdio-tools', 'big', { size: MAX_CHARS });
    expect(fits.status).toBe(200);
    expect(fits.body.result.output).toHaveLength(MAX_CHARS);
    const { status, body } = await execute('stdio-tools', 'big', { size: MAX_CHARS + 1 });
    expect(status).toBe(502);
    expect(body.error).toBe(`tool big answered ${MAX_CHARS + 1} characters, over the limit of ${MAX_CHARS}`);
  });

  it('lets only an admin toggle a plugin; the state is kept in the database and applies at once', async () => {
    const refused = await api('PUT', '/runtime/api/plugins/stdio-tools/toggle');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: expect.any(String) });

    const off = await asAdmin('PUT', '/runtime/api/plugins/stdio-tools/toggle');
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ name: 'stdio-tools', toggled: true, status: 'Disabled' });
    const { rows } = await db.query(
      `select "enabled" from "sessions"."plugin_state" where "name" = 'stdio-tools'`,
    );
    expect(rows).toEqual([{ enabled: false }]);
    const listed = (await api('GET', '/runtime/api/plugins')).body.plugins.find(
      (p: { name: string }) => p.name === 'stdio-tools',
    );
    expect(listed).toMatchObject({ status: 'Disabled', enabled: false, tools: [] });
    const disabled = await execute('stdio-tools', 'echo', { text: 'x' });
    expect(disabled.status).toBe(403);
    expect(disabled.body).toEqual({ error: "plugin 'stdio-tools' is disabled" });

    const on = await asAdmin('PUT', '/runtime/api/plugins/stdio-tools/toggle');
    expect(on.body).toEqual({ name: 'stdio-tools', toggled: true, status: 'Active' });
    expect((await execute('stdio-tools', 'echo', { text: 'x' })).status).toBe(200);
  });
});

describe('MCP clients', () => {
  it("reports each server's connection to admins only", async () => {
    expect((await api('GET', '/runtime/api/runtime/mcp')).status).toBe(403);
    const { status, body } = await asAdmin('GET', '/runtime/api/runtime/mcp');
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.connections.map((c: { name: string }) => [c.name, c]));
    expect(byName['stdio-tools']).toEqual({
      name: 'stdio-tools',
      url: `stdio:${basename(process.execPath)}`,
      connected: true,
      tools: MCP_TOOLS.length,
      resources: 0,
      transport: 'stdio',
      error: null,
    });
    expect(byName['http-tools']).toMatchObject({ url: mcpHttp.url, connected: true, transport: 'http' });
    expect(byName['dead-tools']).toMatchObject({ connected: false, tools: 0, error: expect.any(String) });
    expect(body.connected_count).toBe(2);
    expect(body.exposed_tools).toEqual([]);
    expect(body.exposed_resources).toEqual([]);
  });

  it('disconnects a server until it is discovered again', async () => {
    expect((await api('POST', '/runtime/api/runtime/mcp/clients/stdio-tools/disconnect')).status).toBe(403);
    const off = await asAdmin('POST', '/runtime/api/runtime/mcp/clients/stdio-tools/disconnect');
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ ok: true, name: 'stdio-tools' });
    const status = (await asAdmin('GET', '/runtime/api/runtime/mcp')).body.connections.find(
      (c: { name: string }) => c.name === 'stdio-tools',
    );
    expect(status).toMatchObject({ connected: false, tools: 0 });
    const held = await execute('stdio-tools', 'echo', { text: 'x' });
    expect(held.status).toBe(502);
    expect(held.body).toEqual({ error: "plugin 'stdio-tools' is unreachable" });
    const told = await asAdmin('POST', '/runtime/api/plugins/stdio-tools/execute/echo', {
      body: { text: 'x' },
    });
    expect(told.status).toBe(502);
    expect(told.body.error).toMatch(/disconnected by an operator/);

    const again = await asAdmin('POST', '/runtime/api/runtime/mcp/clients/stdio-tools/discover');
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ok: true, name: 'stdio-tools', tools: MCP_TOOLS.length });
    expect((await execute('stdio-tools', 'echo', { text: 'back' })).body.result.output).toBe('echo: back');
  });

  it("answers Ironclad's {ok: false} for an unknown client (404) and one that cannot connect (502)", async () => {
    const unknown = await asAdmin('POST', '/runtime/api/runtime/mcp/clients/nobody/discover');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ ok: false, error: expect.stringMatching(/not found/) });
    const dead = await asAdmin('POST', '/runtime/api/runtime/mcp/clients/dead-tools/discover');
    expect(dead.status).toBe(502);
    expect(dead.body).toEqual({
      ok: false,
      error: expect.stringMatching(/^MCP server dead-tools not connected/),
    });
    expect((await asAdmin('POST', '/runtime/api/runtime/mcp/clients/nobody/disconnect')).status).toBe(404);
  });
});

/** Sends a message answered by `model` and answers the reply with the turn's tool audit. */
async function turnWith(model: string) {
  const reply = await api('POST', '/runtime/api/agent/message', {
    body: { content: 'use your tools', model },
  });
  expect(reply.status).toBe(200);
  const audit = await api('GET', `/runtime/api/audit/tools/${reply.body.turn_id}`);
  expect(audit.status).toBe(200);
  return { reply: reply.body, calls: audit.body.tool_calls as Record<string, unknown>[] };
}

const requestsFor = (model: string) => double.requests.filter((request) => request.model === model);
const offeredNames = (request: { body: Record<string, unknown> }) =>
  ((request.body.tools as { function: { name: string } }[] | undefined) ?? []).map(
    (tool) => tool.function.name,
  );

describe('tool calls in chat turns', () => {
  it('offers the enabled tools, runs the call the model asks for, and answers with its result', async () => {
    const { reply, calls } = await turnWith('call-echo');
    expect(reply.content).toBe(toolAnswer(['echo: ping']));
    const [first, second] = requestsFor('call-echo');
    expect(offeredNames(first)).toEqual(
      expect.arrayContaining(['clock__now', 'stdio-tools__echo', 'http-tools__add']),
    );
    expect(offeredNames(first).some((name) => name.startsWith('dead-tools'))).toBe(false);
    // The second request carries the call and its result, as OpenAI's format has them.
    expect(second.messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_0_double',
            type: 'function',
            function: { name: 'stdio-tools__echo', arguments: '{"text":"ping"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_0_double', content: 'echo: ping' },
    ]);
    expect(calls).toEqual([
      {
        id: expect.any(String),
        tool_name: 'echo',
        plugin: 'stdio-tools',
        skill_id: null,
        skill_name: null,
        skill_hash: null,
        input: '{"text":"ping"}',
        output: 'echo: ping',
        status: 'success',
        error: null,
        duration_ms: expect.any(Number),
        created_at: ISO,
      },
    ]);
    // Usage of both rounds is counted.
    expect(reply.tokens_in).toBe(24);

    const graphql = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.credential}` },
      body: JSON.stringify({
        query:
          'query($id: ID!) { turn(id: $id) { toolCalls { plugin tool arguments output status turnId } } }',
        variables: { id: reply.turn_id },
      }),
    });
    expect((await graphql.json()).data.turn.toolCalls).toEqual([
      {
        plugin: 'stdio-tools',
        tool: 'echo',
        arguments: { text: 'ping' },
        output: 'echo: ping',
        status: 'SUCCESS',
        turnId: reply.turn_id,
      },
    ]);
  });

  it('runs several calls of one round, over HTTP and built-in, and gives back each result in order', async () => {
    const { reply, calls } = await turnWith('call-two');
    expect(calls.map((call) => `${call.plugin}/${call.tool_name}`).sort()).toEqual([
      'clock/now',
      'stdio-tools/add',
    ]);
    const results = (
      requestsFor('call-two')[1].messages.filter((m) => m.role === 'tool') as { content: string }[]
    ).map((m) => m.content);
    expect(results[0]).toBe('42');
    expect(JSON.parse(results[1])).toMatchObject({ timezone: 'Europe/Paris' });
    expect(reply.content).toBe(toolAnswer(results));

    expect((await turnWith('call-http-add')).reply.content).toBe(toolAnswer(['5']));
  });

  it('ends a hanging call at the time limit and still answers the turn', async () => {
    const { reply, calls } = await turnWith('call-hang');
    const error = `tool hang did not answer within ${TIMEOUT_MS} ms`;
    expect(reply.content).toBe(toolAnswer([`error: ${error}`]));
    expect(calls).toEqual([
      expect.objectContaining({ tool_name: 'hang', status: 'error', error, output: error }),
    ]);
  });

  it('gives the model the reason its arguments were refused, and records the refusal', async () => {
    const { reply, calls } = await turnWith('call-bad');
    expect(reply.content).toMatch(/^Tool said: error: invalid arguments for echo: \/text must be string$/);
    expect(calls).toEqual([
      expect.objectContaining({ tool_name: 'echo', status: 'error', input: '{"text":5}' }),
    ]);
  });

  it('keeps arguments and results holding NUL as U+FFFD rather than failing the turn', async () => {
    const { reply, calls } = await turnWith('call-nul');
    expect(reply.content).toBe(toolAnswer(['echo: a\ufffdb']));
    expect(calls).toEqual([
      expect.objectContaining({ status: 'success', input: '{"text":"a\ufffdb"}', output: 'echo: a\ufffdb' }),
    ]);
  });

  it('bounds the rounds: the last one offers no tools, so the model must answer', async () => {
    const { reply, calls } = await turnWith('call-forever');
    const requests = requestsFor('call-forever');
    expect(requests).toHaveLength(MAX_ROUNDS + 1);
    expect(requests.map((request) => offeredNames(request).length > 0)).toEqual([true, true, true, false]);
    expect(calls).toHaveLength(MAX_ROUNDS);
    expect(reply.content).toBe(toolAnswer(Array(MAX_ROUNDS).fill('echo: again')));
  });

  it('does not offer a disabled plugin', async () => {
    expect((await asAdmin('PUT', '/runtime/api/plugins/clock/toggle')).body.status).toBe('Disabled');
    try {
      const before = double.requests.length;
      await api('POST', '/runtime/api/agent/message', { body: { content: 'hi', model: 'double-1' } });
      const [request] = double.requests.slice(before);
      expect(offeredNames(request)).not.toContain('clock__now');
      expect(offeredNames(request)).toContain('stdio-tools__echo');
    } finally {
      await asAdmin('PUT', '/runtime/api/plugins/clock/toggle');
    }
  });

  it('answers without tools when the upstream refuses a request that offers them', async () => {
    const { reply, calls } = await turnWith(REFUSES_TOOLS);
    expect(reply.content).toBe(ANSWER.join(''));
    expect(requestsFor(REFUSES_TOOLS).map((request) => offeredNames(request).length > 0)).toEqual([
      true,
      false,
    ]);
    expect(calls).toEqual([]);
  });

  it("keeps a turn's tool calls to its owner", async () => {
    const { reply } = await turnWith('call-echo');
    const stranger = await t.register('Stranger');
    const { status, body } = await rest(t, stranger.credential)(
      'GET',
      `/runtime/api/audit/tools/${reply.turn_id}`,
    );
    expect(status).toBe(404);
    expect(body).toEqual({ error: expect.any(String) });
  });
});
