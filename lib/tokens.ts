import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export interface TokenClaims {
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

/** A compact HS256 JWT; `aud` keeps tokens of one purpose from being accepted for another. */
export function signToken(
  claims: Record<string, unknown> & { sub: string; aud: string },
  secret: string,
  ttlSeconds: number,
): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64url(JSON.stringify({ ...claims, iat: now, exp: now + ttlSeconds }));
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}

export class InvalidTokenError extends Error {}

/** Verifies signature, audience and expiry; any failure is an {@link InvalidTokenError}. */
export function verifyToken(token: string, secret: string, audience: string): TokenClaims {
  const [header, payload, signature, ...rest] = token.split('.');
  if (!header || !payload || !signature || rest.length) throw new InvalidTokenError('malformed token');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (header !== HEADER || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidTokenError('invalid token signature');
  }
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed token');
  }
  if (claims.aud !== audience) throw new InvalidTokenError('token is not for this audience');
  if (typeof claims.exp !== 'number' || claims.exp <= Math.floor(Date.now() / 1000))
    throw new InvalidTokenError('token expired');
  return claims;
}

/** A random secret of `bytes` bytes, URL-safe; used for API keys and refresh tokens. */
export const randomSecret = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** High-entropy secrets (API keys, refresh tokens) need no salt or stretching: SHA-256 is enough. */
export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** Passwords are low-entropy: scrypt with a per-password salt, parameters stored with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

/**
 * Compares a secret someone sent with the one configured in constant time: both are hashed first,
 * so neither their contents nor the length of the configured one shows in the time taken.
 */
export function sameSecret(given: string | Buffer, expected: string | Buffer): boolean {
  const digest = (value: string | Buffer) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
