import { AppError } from './errors';
import { InvalidTokenError, signToken, verifyToken } from './tokens';

export type Role = 'USER' | 'ADMIN';

/** Who is calling, as the router established it once at the edge. */
export interface Identity {
  accountId: string;
  role: Role;
  /** API key scopes; JWT sessions carry `*`. */
  scopes: string[];
  via: 'jwt' | 'api_key' | 'open';
  apiKeyId?: string;
}

/** The router's own calls to a subgraph (API key lookups); never given to a client. */
export const ROUTER_PRINCIPAL = 'router';

/** Header (and graphql-ws connection parameter) carrying the router-signed identity to subgraphs. */
export const IDENTITY_HEADER = 'x-agentry-identity';
const INTERNAL_AUDIENCE = 'agentry-subgraphs';
/** Long enough for a subscription's connection handshake; each request gets a fresh one. */
const INTERNAL_TTL_SECONDS = 300;

export const SCOPES = ['proxy', 'orders', 'agents', 'tasks', 'memory', 'wallet', 'admin', '*'] as const;
export type Scope = (typeof SCOPES)[number];

export function signIdentity(identity: Identity | typeof ROUTER_PRINCIPAL, secret: string): string {
  const claims =
    identity === ROUTER_PRINCIPAL
      ? { sub: ROUTER_PRINCIPAL, aud: INTERNAL_AUDIENCE }
      : {
          sub: identity.accountId,
          aud: INTERNAL_AUDIENCE,
          role: identity.role,
          scopes: identity.scopes,
          via: identity.via,
          key: identity.apiKeyId,
        };
  return signToken(claims, secret, INTERNAL_TTL_SECONDS);
}

export type Caller = { kind: 'anonymous' } | { kind: 'router' } | { kind: 'account'; identity: Identity };

/**
 * Reads the identity the router signed. An absent header is an anonymous caller; a header that
 * does not verify is refused outright, so a hand-made identity never reaches a resolver.
 */
export function callerFrom(header: string | undefined, secret: string): Caller {
  if (!header) return { kind: 'anonymous' };
  try {
    const claims = verifyToken(header, secret, INTERNAL_AUDIENCE);
    if (claims.sub === ROUTER_PRINCIPAL) return { kind: 'router' };
    return {
      kind: 'account',
      identity: {
        accountId: claims.sub,
        role: claims.role as Role,
        scopes: claims.scopes as string[],
        via: claims.via as Identity['via'],
        apiKeyId: claims.key as string | undefined,
      },
    };
  } catch (error) {
    if (error instanceof InvalidTokenError)
      throw new AppError('UNAUTHENTICATED', 'identity not verifiable: ' + error.message);
    throw error;
  }
}

export const hasScope = (identity: Identity, scope: Scope) =>
  identity.scopes.includes('*') || identity.scopes.includes(scope);
