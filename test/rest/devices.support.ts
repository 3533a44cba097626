/** Device pairing from the device's side, with a real Ed25519 key (node:crypto). */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Rest } from './support';

export const hexKey = (publicKey: KeyObject) =>
  Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex');
export const signHex = (privateKey: KeyObject, message: string) =>
  sign(null, Buffer.from(message, 'utf8'), privateKey).toString('hex');

/** The owner starts a pairing: its code. */
export async function pairingCode(owner: Rest): Promise<string> {
  const started = await owner('POST', '/runtime/api/runtime/devices/pair', { body: {} });
  expect(started).toMatchObject({
    status: 200,
    body: { ok: true, pairing_code: expect.stringMatching(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/), expires_in: 300 },
  });
  return started.body.pairing_code as string;
}

/** A device (no credential) presents a fresh code of `owner`'s with a new key: its id, answer and keys. */
export async function presentDevice(owner: Rest, device: Rest, name = 'Phone') {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const code = await pairingCode(owner);
  const presented = await device('POST', '/runtime/api/runtime/devices/pair/claim', {
    body: { pairing_code: code.toLowerCase(), public_key_hex: hexKey(publicKey), device_name: name },
  });
  expect(presented.status).toBe(200);
  return { id: presented.body.device_id as string, body: presented.body, privateKey, publicKey, code };
}

/** A device of `owner`'s, paired and verified. */
export async function verifiedDevice(owner: Rest, device: Rest, name = 'Tablet') {
  const presented = await presentDevice(owner, device, name);
  const verified = await device('POST', `/runtime/api/runtime/devices/${presented.id}/verify`, {
    body: { signature_hex: signHex(presented.privateKey, presented.body.sign_message) },
  });
  expect(verified.status).toBe(200);
  return presented;
}
