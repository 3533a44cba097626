import type { IncomingHttpHeaders } from 'node:http';
import {
  ANONYMOUS_PRINCIPAL,
  countedCache,
  identityKey,
  InvalidTokenError,
  sha256,
  signIdentity,
  ROUTER_PRINCIPAL,
  verifyToken,
  IDENTITY_HEADER,
  type Identity,
  type Logger,
  type Role,
} from '../lib';

/** How the router sees a request's credential. */
export type Resolution =
  { kind: 'identity'; identity: Identity } | { kind: 'anonymous' } | { kind: 'invalid'; message: string };

export interface IdentityOptions {
  mode: 'required' | 'open';
  jwtSecret: string;
  internalSecret: string;
  accountsUrl: string;
  /** How long an API key lookup (found or not) is reused; revocation takes effect after it. */
  cacheSeconds: number;
  log: Logger;
}

const API_KEY_PREFIX = 'agx_';
const ACCESS_TOKEN_AUDIENCE = 'agentry-api';
const IDENTITY_FIELDS = 'accountId role scopes apiKeyId';

/** `Authorization: Bearer <jwt | key>` or `x-api-key: <key>`, as the reference APIs document both. */
export function credentialFrom(
  source: IncomingHttpHeaders | Record<string, unknown> | undefined,
): string | undefined {
  const authorization = source?.authorization ?? source?.Authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (match) return match[1];
  }
  const apiKey = source?.['x-api-key'] ?? source?.apiKey;
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}

interface CredentialIdentity {
  accountId: string;
  role: Role;
  scopes: string[];
  apiKeyId: string | null;
}

/** Resolves credentials once per request at the edge; API keys through the accounts subgraph. */
export function createIdentityResolver(options: IdentityOptions) {
  const cache = new Map<string, { expires: number; value: Promise<CredentialIdentity | null> }>();
  const counts = countedCache('router.credentials', () => cache.size);

  async function askAccounts(
    field: string,
    args: string,
    variables: Record<string, string>,
  ): Promise<CredentialIdentity | null> {
    const response = await fetch(options.accountsUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, options.internalSecret),
      },
      body: JSON.stringify({ query: `query${args} { ${field} { ${IDENTITY_FIELDS} } }`, variables }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json()) as {
      data?: Record<string, CredentialIdentity | null>;
      errors?: unknown[];
    };
    if (!body.data || body.errors)
      throw new Error(`accounts answered ${response.status}: ${JSON.stringify(body.errors)}`);
    return body.data[field.split('(')[0]];
  }

  function cached(key: string, load: () => Promise<CredentialIdentity | null>, seconds: number) {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expires > now) {
      counts.hit();
      return hit.value;
    }
    counts.miss();
    if (cache.size > 10_000) for (const [k, v] of cache) if (v.expires <= now) cache.delete(k);
    const value = load();
    cache.set(key, { expires: now + seconds * 1000, value });
    value.catch(() => cache.delete(key)); // a failed lookup is retried, not remembered
    return value;
  }

  const toIdentity = (found: CredentialIdentity, via: Identity['via']): Identity => ({
    accountId: found.accountId,
    role: found.role,
    scopes: found.scopes,
    via,
    ...(found.apiKeyId ? { apiKeyId: found.apiKeyId } : {}),
  });

  /** A socket ticket is redeemed (used up) by asking, so it is never cached. */
  async function redeemTicket(ticket: string): Promise<Resolution> {
    const found = /^wst_[0-9a-f]{64}$/.test(ticket)
      ? await askAccounts('socketTicketIdentity(ticket: $ticket)', '($ticket: String!)', { ticket })
      : null;
    return found
      ? { kind: 'identity', identity: toIdentity(found, found.apiKeyId ? 'api_key' : 'jwt') }
      : { kind: 'invalid', message: 'ticket not valid: unknown, expired or already used' };
  }

  /**
   * A header credential, else (only a WebSocket upgrade passes one) the `?ticket=` of
   * `POST /api/ws-ticket`, as Ironclad's ws_authenticate checks them.
   */
  return async function resolve(credential: string | undefined, ticket?: string): Promise<Resolution> {
    if (!credential && ticket) return redeemTicket(ticket);
    if (!credential) {
      if (options.mode === 'required') return { kind: 'anonymous' };
      const owner = await cached('local-owner', () => askAccounts('localOwnerIdentity', '', {}), 3600);
      return owner ? { kind: 'identity', identity: toIdentity(owner, 'open') } : { kind: 'anonymous' };
    }
    if (credential.startsWith(API_KEY_PREFIX)) {
      const found = await cached(
        `key:${sha256(credential)}`,
        () => askAccounts('apiKeyIdentity(key: $key)', '($key: String!)', { key: credential }),
        options.cacheSeconds,
      );
      return found
        ? { kind: 'identity', identity: toIdentity(found, 'api_key') }
        : { kind: 'invalid', message: 'API key not valid' };
    }
    try {
      const claims = verifyToken(credential, options.jwtSecret, ACCESS_TOKEN_AUDIENCE);
      return {
        kind: 'identity',
        identity: { accountId: claims.sub, role: claims.role as Role, scopes: ['*'], via: 'jwt' },
      };
    } catch (error) {
      if (error instanceof InvalidTokenError)
        return { kind: 'invalid', message: `access token not valid: ${error.message}` };
      throw error;
    }
  };
}

export type IdentityResolver = ReturnType<typeof createIdentityResolver>;

/** How long one signed identity is reused, well inside its five-minute lifetime (lib/identity.ts). */
const SIGNED_REUSE_MS = 60_000;

/**
 * Signs each caller's identity once a minute instead of once a request. Every request of one
 * caller then forwards the very same header, which is what lets Hive Gateway deduplicate the
 * identical in-flight fetches of ONE caller (its key is URL, body and headers), while two callers'
 * headers always differ, so their fetches are never shared (gateway.ts). `signedBy` reads back a
 * header this signer made within that minute without verifying it again.
 */
export function createIdentitySigner(secret: string) {
  const signed = new Map<string, { token: string; at: number }>();
  const byToken = new Map<string, { identity: Identity; at: number }>();
  const sign = (principal: Identity | typeof ANONYMOUS_PRINCIPAL): string => {
    const key = principal === ANONYMOUS_PRINCIPAL ? principal : identityKey(principal);
    const now = Date.now();
    const hit = signed.get(key);
    if (hit && now - hit.at < SIGNED_REUSE_MS) return hit.token;
    if (signed.size > 10_000) {
      for (const [k, v] of signed) if (now - v.at >= SIGNED_REUSE_MS) signed.delete(k);
      for (const [k, v] of byToken) if (now - v.at >= SIGNED_REUSE_MS) byToken.delete(k);
    }
    const token = signIdentity(principal, secret);
    signed.set(key, { token, at: now });
    if (principal !== ANONYMOUS_PRINCIPAL) byToken.set(token, { identity: principal, at: now });
    return token;
  };
  const signedBy = (token: string): Identity | undefined => {
    const entry = byToken.get(token);
    return entry && Date.now() - entry.at < SIGNED_REUSE_MS ? entry.identity : undefined;
  };
  return Object.assign(sign, { signedBy });
}

export type IdentitySigner = ReturnType<typeof createIdentitySigner>;
