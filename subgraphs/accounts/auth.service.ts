import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, newId, randomSecret, sha256, signToken, updateReturning } from '../../lib';
import type { Account } from './account.entity';
import { ApiKey } from './api-key.entity';
import { RefreshToken } from './refresh-token.entity';

export const ACCESS_TOKEN_AUDIENCE = 'agentry-api';
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const REFRESH_TOKEN_TTL_MS = 30 * 86_400_000;
export const API_KEY_PREFIX = 'agx_live_';

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  account: Account;
}

/** Accounts that just proved who they are in this request: their own sign-in answer shows the email. */
export const justSignedIn = new WeakSet<Account>();

const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message);

/** A short-lived access JWT plus the next refresh token of `familyId` (a new family at sign-in). */
export function issueSession(
  em: EntityManager,
  account: Account,
  jwtSecret: string,
  familyId = newId('fam'),
): Session {
  const refreshToken = `agx_rt_${randomSecret()}`;
  em.create(RefreshToken, {
    familyId,
    accountId: account.id,
    tokenHash: sha256(refreshToken),
    expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
  });
  justSignedIn.add(account);
  const accessToken = signToken(
    { sub: account.id, aud: ACCESS_TOKEN_AUDIENCE, role: account.role },
    jwtSecret,
    ACCESS_TOKEN_TTL_SECONDS,
  );
  return { accessToken, refreshToken, expiresIn: ACCESS_TOKEN_TTL_SECONDS, account };
}

/**
 * A link whose family holds a revoked link is dead too: a link issued concurrently with the
 * revocation (the winner of a race with a reused token) was not there to be revoked.
 */
const FAMILY_NOT_REVOKED = `not exists (select 1 from "accounts"."refresh_token" as "sibling"
  where "sibling"."family_id" = "refresh_token"."family_id" and "sibling"."revoked_at" is not null)`;

/**
 * Spends a refresh token with one conditional UPDATE, so exactly one of any number of racing uses
 * wins. Every other use, like any later reuse of a spent link, revokes the whole family, which
 * also kills the link the winner is issuing.
 */
export async function spendRefreshToken(em: EntityManager, token: string): Promise<RefreshToken> {
  const tokenHash = sha256(token);
  const now = new Date();
  const [spent] = await updateReturning(
    em,
    RefreshToken,
    { tokenHash, usedAt: null, revokedAt: null },
    { usedAt: now },
    (query) => query.andWhere(FAMILY_NOT_REVOKED),
  );
  if (spent) {
    if (spent.expiresAt <= now) throw unauthenticated('refresh token expired, sign in again');
    return spent;
  }
  const link = await em.findOne(RefreshToken, { tokenHash });
  if (!link) throw unauthenticated('refresh token not recognised');
  await em.nativeUpdate(RefreshToken, { familyId: link.familyId, revokedAt: null }, { revokedAt: now });
  throw unauthenticated(
    'refresh token already used or revoked: every session of this sign-in is revoked, sign in again',
  );
}

/** A new key: the full secret for the caller to keep, and the row that keeps only its hash. */
export function mintApiKey(
  em: EntityManager,
  accountId: string,
  fields: Pick<ApiKey, 'name' | 'scopes' | 'expiresAt'>,
) {
  const key = `${API_KEY_PREFIX}${randomSecret(32)}`;
  const apiKey = em.create(ApiKey, {
    ...fields,
    accountId,
    prefix: key.slice(0, API_KEY_PREFIX.length + 6),
    keyHash: sha256(key),
  });
  return { key, apiKey };
}
