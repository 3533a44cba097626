/**
 * 002's discovered agents and runtime surfaces through the real router and subgraphs. Peers serve
 * their A2A card from a local HTTP double, reachable only because AGENT_ENDPOINT_ALLOWLIST names
 * 127.0.0.1 (the guard itself is left as it is: without the allowlist the same peer is refused).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { presentDevice, verifiedDevice } from './devices.support';
import { ISO, rest, type Rest } from './support';

const ALLOWLIST = { AGENT_ENDPOINT_ALLOWLIST: '127.0.0.1' };

const skill = (id: string) => ({ id, name: id, description: `does ${id}`, tags: ['test'] });
/** A card in A2A 1.0's form (endpoint under supportedInterfaces). */
const cardV1 = (base: string) => ({
  name: 'Peer One',
  description: 'A peer agent',
  version: '1.2.0',
  supportedInterfaces: [{ url: `${base}/a2a`, protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' }],
  capabilities: { streaming: false },
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain'],
  skills: [skill('summarize'), skill('translate')],
});
/** The same in 0.3's form, served only at the older well-known path. */
const cardV03 = (base: string) => ({
  protocolVersion: '0.3.0',
  name: 'Old Peer',
  description: 'An older peer',
  url: `${base}/a2a`,
  version: '0.9',
  capabilities: {},
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['application/json'],
  skills: [skill('search')],
});

/** The peers: a good 1.0 card, an old 0.3 card, a JSON that is no card, and HTML. */
async function startPeers(): Promise<{ server: Server; base: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/good/.well-known/agent-card.json') json(cardV1(`${base}/good`));
    else if (req.url === '/old/.well-known/agent.json') json(cardV03(`${base}/old`));
    else if (req.url === '/bad/.well-known/agent-card.json') json({ name: 'not a card', skills: 'none' });
    else if (req.url === '/html/.well-known/agent-card.json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let t: TestPlatform;
let peers: Awaited<ReturnType<typeof startPeers>>;
let ada: User;
let bob: User;
let adaApi: Rest;
let bobApi: Rest;
let deviceApi: Rest; // the device: no credential

beforeAll(async () => {
  peers = await startPeers();
  t = await startTestPlatform(ALLOWLIST);
  // Subgraphs read the allowlist on each call.
  Object.assign(process.env, ALLOWLIST);
  [ada, bob] = [await t.register('Ada'), await t.register('Bob')];
  [adaApi, bobApi, deviceApi] = [rest(t, ada.credential), rest(t, bob.credential), rest(t)];
});
afterAll(async () => {
  delete process.env.AGENT_ENDPOINT_ALLOWLIST;
  await t.close();
  await new Promise((resolve) => peers.server.close(resolve));
});

describe('discovery', () => {
  test('a peer registered by URL verifies by its A2A 1.0 card', async () => {
    const url = `${peers.base}/good`;
    const registered = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Peer', url, capabilities: ['chat'] },
    });
    expect(registered.status).toBe(201);
    const id = registered.body.agent_id as string;
    expect(registered.body.agent).toMatchObject({
      agent_id: id,
      name: 'Peer',
      url,
      capabilities: ['chat'],
      verified: false,
      discovery_method: 'manual',
    });
    const verified = await adaApi('POST', `/runtime/api/runtime/discovery/${id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({
      ok: true,
      agent_id: id,
      agent: {
        agent_id: id,
        name: 'Peer One',
        url,
        capabilities: ['summarize', 'translate'],
        verified: true,
        discovery_method: 'manual',
        card_url: `${url}/.well-known/agent-card.json`,
        last_error: null,
        verified_at: ISO,
        last_seen: ISO,
        created_at: ISO,
      },
    });
    const list = await adaApi('GET', '/runtime/api/runtime/discovery');
    expect(list.body.agents).toContainEqual(verified.body.agent);
    // The same URL twice is a conflict.
    expect(
      (await adaApi('POST', '/runtime/api/runtime/discovery', { body: { name: 'Again', url } })).status,
    ).toBe(409);
  });

  test('a base URL without a name is discovered through the older agent.json', async () => {
    const found = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { base_url: `${peers.base}/old` },
    });
    expect(found.status).toBe(201);
    expect(found.body.agent).toMatchObject({
      name: 'Old Peer',
      capabilities: ['search'],
      verified: true,
      discovery_method: 'well_known',
      card_url: `${peers.base}/old/.well-known/agent.json`,
    });
  });

  test('a card that is no AgentCard, and HTML, are refused (502) and recorded', async () => {
    for (const path of ['/bad', '/html']) {
      const registered = await adaApi('POST', '/runtime/api/runtime/discovery', {
        body: { name: `Broken ${path}`, url: `${peers.base}${path}` },
      });
      const id = registered.body.agent_id as string;
      const refused = await adaApi('POST', `/runtime/api/runtime/discovery/${id}/verify`);
      expect(refused.status).toBe(502);
      expect(refused.body.error).toMatch(path === '/bad' ? /not an A2A AgentCard/ : /not JSON/);
      const listed = (await adaApi('GET', '/runtime/api/runtime/discovery')).body.agents.find(
        (a: { agent_id: string }) => a.agent_id === id,
      );
      expect(listed).toMatchObject({ verified: false, last_error: refused.body.error });
    }
    // Without a name, a URL without a card registers nothing.
    const none = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { url: `${peers.base}/nothing` },
    });
    expect(none.status).toBe(502);
    expect(none.body.error).toMatch(/answered 404/);
  });

  test('private addresses are refused, and the peer is never called', async () => {
    const metadata = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Metadata', url: 'http://169.254.169.254/latest' },
    });
    expect(metadata).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/private, loopback or reserved/) },
    });

    const registered = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Local', url: `${peers.base}/good?local=1` },
    });
    expect(registered.status).toBe(201);
    const before = peers.seen.length;
    process.env.AGENT_ENDPOINT_ALLOWLIST = '';
    try {
      const refused = await adaApi(
        'POST',
        `/runtime/api/runtime/discovery/${registered.body.agent_id}/verify`,
      );
      expect(refused).toMatchObject({
        status: 400,
        body: { error: expect.stringMatching(/private, loopback or reserved/) },
      });
      const unnamed = await adaApi('POST', '/runtime/api/runtime/discovery', {
        body: { url: `${peers.base}/old` },
      });
      expect(unnamed.status).toBe(400);
    } finally {
      process.env.AGENT_ENDPOINT_ALLOWLIST = ALLOWLIST.AGENT_ENDPOINT_ALLOWLIST;
    }
    expect(peers.seen.length).toBe(before);
    const bad = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'x', url: 'ftp://example.com/' },
    });
    expect(bad.status).toBe(400);
  });

  test("owner isolation: another account cannot list or verify Ada's peers", async () => {
    const registered = await adaApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Private peer', url: `${peers.base}/good/` },
    });
    const id = registered.body.agent_id as string;
    expect((await bobApi('POST', `/runtime/api/runtime/discovery/${id}/verify`)).status).toBe(404);
    expect((await bobApi('GET', '/runtime/api/runtime/discovery')).body).toEqual({ agents: [], count: 0 });
    expect((await deviceApi('GET', '/runtime/api/runtime/discovery')).status).toBe(401);
  });
});

describe('surfaces', () => {
  test("surfaces name what this router serves and count the caller's devices and peers", async () => {
    const carol = await t.register('Carol');
    const carolApi = rest(t, carol.credential);
    const empty = await carolApi('GET', '/runtime/api/runtime/surfaces');
    expect(empty.status).toBe(200);
    expect(empty.body.devices).toEqual({ paired_count: 0, trusted_count: 0 });
    expect(empty.body.discovery).toEqual({ count: 0, verified_count: 0 });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const byName = new Map<string, any>(empty.body.surfaces.map((s: { name: string }) => [s.name, s]));
    expect(byName.get('runtime')).toMatchObject({ kind: 'rest', mount: '/runtime', served: true });
    expect(byName.get('runtime').routes).toBeGreaterThan(50);
    expect(byName.get('hermes')).toMatchObject({ kind: 'rest', mount: '/', served: true });
    expect(byName.get('runtime-ws')).toEqual({
      name: 'runtime-ws',
      kind: 'websocket',
      path: '/runtime/ws',
      served: true,
    });
    expect(byName.get('a2a')).toMatchObject({ served: true });
    // Whether a tool surface is served follows the route table: the runtime's /api/runtime/mcp row.
    const mcpServed = (await carolApi('GET', '/runtime/api/runtime/mcp')).status !== 404;
    expect(byName.get('mcp')).toMatchObject({ served: mcpServed });

    await verifiedDevice(carolApi, deviceApi);
    await presentDevice(carolApi, deviceApi, 'Pending');
    await carolApi('POST', '/runtime/api/runtime/discovery', {
      body: { url: `${peers.base}/old` },
    });
    await carolApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Unverified', url: `${peers.base}/good` },
    });
    const after = await carolApi('GET', '/runtime/api/runtime/surfaces');
    expect(after.body.devices).toEqual({ paired_count: 2, trusted_count: 1 });
    expect(after.body.discovery).toEqual({ count: 2, verified_count: 1 });
  });
});
