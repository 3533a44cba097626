/**
 * 002's devices, discovery, surfaces and workspace overview through the real router and subgraphs.
 * Devices pair with a real Ed25519 key (node:crypto); peers serve their A2A card from a local HTTP
 * double, reachable only because AGENT_ENDPOINT_ALLOWLIST names 127.0.0.1 (the guard itself is
 * left as it is: without the allowlist the same peer is refused).
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateAgentDocument,
  CreateTaskDocument,
  StartSessionDocument,
  StoreMemoryDocument,
  VerifyDeviceDocument,
} from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { sql } from '../tasks.support';
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

const hexKey = (publicKey: KeyObject) =>
  Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
const signHex = (privateKey: KeyObject, message: string) =>
  sign(null, Buffer.from(message, 'utf8'), privateKey).toString('hex');

async function pairingCode(api: Rest = adaApi): Promise<string> {
  const started = await api('POST', '/runtime/api/runtime/devices/pair', { body: {} });
  expect(started).toMatchObject({
    status: 200,
    body: { ok: true, pairing_code: expect.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/), expires_in: 300 },
  });
  return started.body.pairing_code as string;
}

/** A device presents a fresh code of Ada's with a new key: its id, sign_message and private key. */
async function presentDevice(name = 'Phone') {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const code = await pairingCode();
  const presented = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
    body: { pairing_code: code.toLowerCase(), public_key_hex: hexKey(publicKey), device_name: name },
  });
  expect(presented.status).toBe(200);
  return { id: presented.body.device_id as string, body: presented.body, privateKey, publicKey, code };
}

describe('device pairing', () => {
  test('end to end: code, key, challenge signed with the real key, verified', async () => {
    const { id, body, privateKey, publicKey } = await presentDevice('Laptop');
    expect(body).toEqual({
      ok: true,
      device_id: expect.stringMatching(/^dev_/),
      state: 'pending',
      challenge: expect.stringMatching(/^[0-9a-f]{64}$/),
      sign_message: `agentry-device-pairing:${id}:${body.challenge}`,
      expires_at: ISO,
      expires_in: 300,
      device: expect.objectContaining({
        device_id: id,
        device_name: 'Laptop',
        state: 'pending',
        paired_at: null,
      }),
    });

    const verified = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(privateKey, body.sign_message) },
    });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ ok: true, device_id: id, state: 'verified' });

    const detail = await adaApi('GET', `/runtime/api/runtime/devices/${id}`);
    expect(detail.body).toEqual({
      device_id: id,
      device_name: 'Laptop',
      state: 'verified',
      public_key_hex: hexKey(publicKey),
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      paired_at: ISO,
      last_seen: ISO,
      created_at: ISO,
    });
    const list = await adaApi('GET', '/runtime/api/runtime/devices');
    expect(list.status).toBe(200);
    expect(list.body.devices).toContainEqual(detail.body);
    expect(list.body.count).toBe(list.body.devices.length);

    // Verified once: the same proof again is a conflict, not a second pairing.
    const again = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(privateKey, body.sign_message) },
    });
    expect(again.status).toBe(409);
  });

  test('a forged signature is refused and the device stays pending; the real one then verifies', async () => {
    const { id, body, privateKey } = await presentDevice();
    const impostor = generateKeyPairSync('ed25519').privateKey;
    const forged = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(impostor, body.sign_message) },
    });
    expect(forged.status).toBe(403);
    expect(forged.body).toEqual({ error: expect.stringMatching(/signature does not verify/) });
    // The right key over another message is no proof either.
    const otherMessage = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(privateKey, `agentry-device-pairing:${id}:${'0'.repeat(64)}`) },
    });
    expect(otherMessage.status).toBe(403);
    expect((await adaApi('GET', `/runtime/api/runtime/devices/${id}`)).body.state).toBe('pending');

    const garbled = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: 'zz' },
    });
    expect(garbled).toMatchObject({ status: 400, body: { error: expect.stringMatching(/signature_hex/) } });

    const real = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(privateKey, body.sign_message) },
    });
    expect(real.body.state).toBe('verified');
  });

  test('two devices racing with one code: exactly one pairs', async () => {
    const code = await pairingCode();
    const before = (await adaApi('GET', '/runtime/api/runtime/devices')).body.count;
    const claims = await Promise.all(
      ['Racer A', 'Racer B', 'Racer C'].map((device_name) =>
        deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
          body: {
            pairing_code: code,
            public_key_hex: hexKey(generateKeyPairSync('ed25519').publicKey),
            device_name,
          },
        }),
      ),
    );
    expect(claims.map((c) => c.status).sort()).toEqual([200, 403, 403]);
    expect((await adaApi('GET', '/runtime/api/runtime/devices')).body.count).toBe(before + 1);
  });

  test('a code works once: presenting it again is refused and pairs nothing', async () => {
    const { code } = await presentDevice();
    const before = (await adaApi('GET', '/runtime/api/runtime/devices')).body.count;
    const { publicKey } = generateKeyPairSync('ed25519');
    const reused = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: hexKey(publicKey), device_name: 'Second' },
    });
    expect(reused.status).toBe(403);
    expect(reused.body).toEqual({ error: expect.stringMatching(/unknown, already used or expired/) });
    expect((await adaApi('GET', '/runtime/api/runtime/devices')).body.count).toBe(before);
  });

  test('an expired code and an expired challenge are refused', async () => {
    const code = await pairingCode();
    await sql(t, `update "accounts"."device_pairing_code" set "expires_at" = now() - interval '1 second'`);
    const { publicKey } = generateKeyPairSync('ed25519');
    const late = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: hexKey(publicKey), device_name: 'Late' },
    });
    expect(late.status).toBe(403);

    const { id, body, privateKey } = await presentDevice();
    await sql(
      t,
      `update "accounts"."device" set "challenge_expires_at" = now() - interval '1 second' where "id" = $1`,
      [id],
    );
    const stale = await deviceApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
      body: { signature_hex: signHex(privateKey, body.sign_message) },
    });
    expect(stale.status).toBe(410);
    expect((await adaApi('GET', `/runtime/api/runtime/devices/${id}`)).body.state).toBe('pending');
  });

  test('bad input is 400 and leaves the code usable; starting a pairing needs a credential', async () => {
    const code = await pairingCode();
    const badKey = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: 'abc', device_name: 'X' },
    });
    expect(badKey).toMatchObject({ status: 400, body: { error: expect.stringMatching(/public_key_hex/) } });
    const noName = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: 'ab'.repeat(32) },
    });
    expect(noName.status).toBe(400);
    const { publicKey } = generateKeyPairSync('ed25519');
    const ok = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: hexKey(publicKey), device_name: 'After typos' },
    });
    expect(ok.status).toBe(200);

    const anonymousStart = await deviceApi('POST', '/runtime/api/runtime/devices/pair', { body: {} });
    expect(anonymousStart.status).toBe(401);
    expect((await deviceApi('GET', '/runtime/api/runtime/devices')).status).toBe(401);
    const noSignature = await deviceApi('POST', `/runtime/api/runtime/devices/${ok.body.device_id}/verify`, {
      body: {},
    });
    expect(noSignature.status).toBe(400);
  });

  test("owner isolation: another account sees 404 for Ada's device and an empty list", async () => {
    const { id, body, privateKey } = await presentDevice();
    // Signed in as Bob, even the device's own valid signature finds no device of his.
    const asBob = await bob.request(VerifyDeviceDocument, {
      id,
      signatureHex: signHex(privateKey, body.sign_message),
    });
    expect(asBob.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await bobApi('GET', `/runtime/api/runtime/devices/${id}`)).status).toBe(404);
    // Bob cannot act on it either; verifying takes the device's own signature (a wrong one is 403).
    const notBobs = signHex(generateKeyPairSync('ed25519').privateKey, body.sign_message);
    expect(
      (
        await bobApi('POST', `/runtime/api/runtime/devices/${id}/verify`, {
          body: { signature_hex: notBobs },
        })
      ).status,
    ).toBe(403);
    expect((await bobApi('DELETE', `/runtime/api/runtime/devices/${id}`)).status).toBe(404);
    expect((await bobApi('GET', '/runtime/api/runtime/devices')).body).toEqual({ devices: [], count: 0 });
    expect((await adaApi('GET', `/runtime/api/runtime/devices/${id}`)).body.state).toBe('pending');

    // A code of Bob's pairs a device with Bob, never with Ada.
    const bobCode = await pairingCode(bobApi);
    const { publicKey } = generateKeyPairSync('ed25519');
    const bobs = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: bobCode, public_key_hex: hexKey(publicKey), device_name: "Bob's" },
    });
    expect((await bobApi('GET', `/runtime/api/runtime/devices/${bobs.body.device_id}`)).status).toBe(200);
    expect((await adaApi('GET', `/runtime/api/runtime/devices/${bobs.body.device_id}`)).status).toBe(404);

    const removed = await adaApi('DELETE', `/runtime/api/runtime/devices/${id}`);
    expect(removed.body).toEqual({ ok: true, device_id: id });
    expect((await adaApi('GET', `/runtime/api/runtime/devices/${id}`)).status).toBe(404);
  });
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

describe('surfaces and workspace', () => {
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

    const code = await pairingCode(carolApi);
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const presented = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: hexKey(publicKey), device_name: 'Tablet' },
    });
    await deviceApi('POST', `/runtime/api/runtime/devices/${presented.body.device_id}/verify`, {
      body: { signature_hex: signHex(privateKey, presented.body.sign_message) },
    });
    await rest(t, carol.credential)('POST', '/runtime/api/runtime/discovery', {
      body: { url: `${peers.base}/old` },
    });
    await carolApi('POST', '/runtime/api/runtime/discovery', {
      body: { name: 'Unverified', url: `${peers.base}/good` },
    });
    const after = await carolApi('GET', '/runtime/api/runtime/surfaces');
    expect(after.body.devices).toEqual({ paired_count: 1, trusted_count: 1 });
    expect(after.body.discovery).toEqual({ count: 2, verified_count: 1 });
  });

  test("the workspace counts the caller's own seeded data, not another account's", async () => {
    const dana = await t.register('Dana');
    const danaApi = rest(t, dana.credential);
    const before = (await danaApi('GET', '/runtime/api/workspace/state')).body;
    expect(before.counts).toMatchObject({
      agents: 0,
      sessions: 0,
      memory_entries: 0,
      tasks: 0,
      devices: 0,
      discovered_agents: 0,
    });

    const { createAgent } = await dana.data(CreateAgentDocument, {
      input: { name: 'Dana Desk', ticker: 'DANA' },
    });
    const sessions = [];
    for (const title of ['One', 'Two'])
      sessions.push((await dana.data(StartSessionDocument, { input: { title } })).startSession.id);
    const said = ['héllo', 'a longer message'];
    for (const content of said)
      expect(
        (
          await danaApi('POST', `/runtime/api/sessions/${sessions[0]}/messages`, {
            body: { role: 'user', content },
          })
        ).status,
      ).toBe(200);
    const contents = ['first memory', 'second memory', 'third'];
    for (const content of contents) await dana.data(StoreMemoryDocument, { input: { content } });
    await dana.data(CreateTaskDocument, { input: { title: 'Work' } });
    // Another account's rows must not count.
    const bobs = (await bob.data(StartSessionDocument, { input: { title: 'Not Dana' } })).startSession.id;
    await bobApi('POST', `/runtime/api/sessions/${bobs}/messages`, {
      body: { role: 'user', content: 'not Dana either' },
    });
    await bob.data(StoreMemoryDocument, { input: { content: 'not Dana' } });

    const state = await danaApi('GET', '/runtime/api/workspace/state');
    expect(state.status).toBe(200);
    expect(state.body.agents).toEqual([
      { id: createAgent.id, name: 'Dana Desk', ticker: 'DANA', state: 'active', accepts_work: true },
    ]);
    expect(state.body.counts).toEqual({
      agents: 1,
      skills: before.counts.skills,
      skills_enabled: before.counts.skills_enabled,
      sessions: 2,
      messages: 2,
      memory_entries: 3,
      tasks: 1,
      devices: 0,
      discovered_agents: 0,
    });
    expect(state.body.storage.memory_bytes).toBeGreaterThanOrEqual(contents.join('').length);
    expect(state.body.storage.message_bytes).toBe(Buffer.byteLength(said.join(''), 'utf8'));
    expect(state.body.skills).toHaveLength(before.counts.skills_enabled);
    expect((await deviceApi('GET', '/runtime/api/workspace/state')).status).toBe(401);
  });
});
