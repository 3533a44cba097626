/**
 * Device pairing (002's /api/runtime/devices/pair and /verify): the owner starts a pairing and gets a
 * short single-use code; the device presents the code with its Ed25519 public key and receives a
 * nonce; it proves it holds the key by signing that nonce. Codes are kept only as hashes.
 */
import { createPublicKey, randomBytes, randomInt, verify, type KeyObject } from 'node:crypto';
import {
  AppError,
  badInput,
  deleteReturning,
  sha256,
  updateReturning,
  type EntityManager,
} from '../../../lib';
import { Device, DevicePairingCode, DeviceState } from './device.entity';

/** Crockford base32 without I, L, O, U: a code read aloud or typed from another screen. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 8; // 40 bits, alive for minutes and used once
const PUBLIC_KEY_HEX = /^[0-9a-f]{64}$/;
const SIGNATURE_HEX = /^[0-9a-f]{128}$/;
export const DEVICE_NAME_MAX = 100;

/** What the device signs: the nonce bound to this platform's pairing and to the device's id. */
export const challengeMessage = (deviceId: string, challenge: string) =>
  `agentry-device-pairing:${deviceId}:${challenge}`;

/** `ABCD-EFGH`; presented codes are read case- and dash-insensitively. */
function newCode(): string {
  const chars = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

const normalCode = (code: string) => code.replace(/[\s-]/g, '').toUpperCase();

export async function startPairing(
  em: EntityManager,
  ownerId: string,
  ttlSeconds: number,
): Promise<{ code: string; expiresAt: Date }> {
  const code = newCode();
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  // Expired codes are cleared as new ones are made, so the table holds only live ones.
  await em.nativeDelete(DevicePairingCode, { expiresAt: { $lt: new Date() } });
  em.create(DevicePairingCode, { id: sha256(normalCode(code)), ownerId, expiresAt });
  await em.flush();
  return { code, expiresAt };
}

/** The Ed25519 key of 64 hex digits, or BAD_USER_INPUT naming the field. */
function ed25519Key(publicKeyHex: string): KeyObject {
  const hex = publicKeyHex.trim().toLowerCase();
  if (!PUBLIC_KEY_HEX.test(hex))
    throw badInput('public_key_hex must be an Ed25519 public key: 32 bytes as 64 hex digits', {
      field: 'public_key_hex',
    });
  try {
    return createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(hex, 'hex').toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw badInput('public_key_hex is not a valid Ed25519 public key', { field: 'public_key_hex' });
  }
}

/**
 * Redeems the code (one conditional DELETE: a code works once, and not after it expired) and records
 * the device as pending with a fresh challenge. A wrong, used or expired code changes nothing.
 */
export async function presentCode(
  em: EntityManager,
  input: { code: string; publicKeyHex: string; name: string },
  ttlSeconds: number,
): Promise<Device> {
  const publicKeyHex = input.publicKeyHex.trim().toLowerCase();
  ed25519Key(publicKeyHex);
  const name = input.name.trim();
  if (!name || name.length > DEVICE_NAME_MAX)
    throw badInput(`device_name must be 1 to ${DEVICE_NAME_MAX} characters`, { field: 'device_name' });
  const [redeemed] = await deleteReturning(em, DevicePairingCode, {
    id: sha256(normalCode(input.code)),
    expiresAt: { $gt: new Date() },
  });
  if (!redeemed)
    throw new AppError('FORBIDDEN', 'the pairing code is unknown, already used or expired', {
      field: 'pairing_code',
    });
  const device = em.create(Device, {
    ownerId: redeemed.ownerId,
    name,
    publicKeyHex,
    state: DeviceState.PENDING,
    challenge: randomBytes(32).toString('hex'),
    challengeExpiresAt: new Date(Date.now() + ttlSeconds * 1000),
  });
  await em.flush();
  return device;
}

/**
 * Checks the device's signature of its challenge against the key it paired with, then marks it
 * verified in one conditional UPDATE (still pending, same challenge, not expired), so two
 * concurrent proofs verify it once. A forged signature leaves it pending.
 */
export async function verifyDevice(em: EntityManager, device: Device, signatureHex: string): Promise<Device> {
  if (device.state === DeviceState.VERIFIED)
    throw new AppError('CONFLICT', `device ${device.id} is already verified`);
  const { challenge, challengeExpiresAt } = device;
  if (!challenge || !challengeExpiresAt || challengeExpiresAt <= new Date())
    throw new AppError('GONE', `the challenge of device ${device.id} expired: pair it again`);
  const signature = signatureHex.trim().toLowerCase();
  if (!SIGNATURE_HEX.test(signature))
    throw badInput('signature_hex must be an Ed25519 signature: 64 bytes as 128 hex digits', {
      field: 'signature_hex',
    });
  const message = Buffer.from(challengeMessage(device.id, challenge), 'utf8');
  if (!verify(null, message, ed25519Key(device.publicKeyHex), Buffer.from(signature, 'hex')))
    throw new AppError('FORBIDDEN', 'the signature does not verify with the device key', {
      field: 'signature_hex',
    });
  const now = new Date();
  const [verified] = await updateReturning(
    em,
    Device,
    { id: device.id, state: DeviceState.PENDING, challenge, challengeExpiresAt: { $gt: now } },
    {
      state: DeviceState.VERIFIED,
      challenge: null,
      challengeExpiresAt: null,
      pairedAt: now,
      lastSeenAt: now,
    },
  );
  if (!verified) throw new AppError('CONFLICT', `device ${device.id} is no longer pending`);
  return verified;
}
