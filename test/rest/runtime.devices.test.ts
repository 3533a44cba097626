/**
 * 002's device pairing and the workspace overview through the real router and subgraphs. Devices
 * pair with a real Ed25519 key (node:crypto); the device side calls without a credential.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  CreateAgentDocument,
  CreateTaskDocument,
  StartSessionDocument,
  StoreMemoryDocument,
  VerifyDeviceDocument,
} from '../generated/graphql';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { sql } from '../tasks.support';
import { hexKey, pairingCode, presentDevice, signHex } from './devices.support';
import { ISO, rest, type Rest } from './support';

let t: TestPlatform;
let ada: User;
let bob: User;
let adaApi: Rest;
let bobApi: Rest;
let deviceApi: Rest; // the device: no credential

beforeAll(async () => {
  t = await startTestPlatform();
  [ada, bob] = [await t.register('Ada'), await t.register('Bob')];
  [adaApi, bobApi, deviceApi] = [rest(t, ada.credential), rest(t, bob.credential), rest(t)];
});
afterAll(async () => {
  await t.close();
});

describe('device pairing', () => {
  test('end to end: code, key, challenge signed with the real key, verified', async () => {
    const { id, body, privateKey, publicKey } = await presentDevice(adaApi, deviceApi, 'Laptop');
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
    const { id, body, privateKey } = await presentDevice(adaApi, deviceApi);
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
    const code = await pairingCode(adaApi);
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
    const { code } = await presentDevice(adaApi, deviceApi);
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
    const code = await pairingCode(adaApi);
    await sql(t, `update "accounts"."device_pairing_code" set "expires_at" = now() - interval '1 second'`);
    const { publicKey } = generateKeyPairSync('ed25519');
    const late = await deviceApi('POST', '/runtime/api/runtime/devices/pair/claim', {
      body: { pairing_code: code, public_key_hex: hexKey(publicKey), device_name: 'Late' },
    });
    expect(late.status).toBe(403);

    const { id, body, privateKey } = await presentDevice(adaApi, deviceApi);
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
    const code = await pairingCode(adaApi);
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
    const { id, body, privateKey } = await presentDevice(adaApi, deviceApi);
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

describe('workspace', () => {
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
