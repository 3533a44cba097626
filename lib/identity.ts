import type { SubgraphName } from './config';
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
/** A request the router admitted without a credential: public fields only. */
export const ANONYMOUS_PRINCIPAL = 'anonymous';
const SERVICE_PREFIX = 'service:';

/** One subgraph calling another (a turn asking the wallet for a hold). */
export interface ServicePrincipal {
  service: SubgraphName;
}

export type Principal = Identity | ServicePrincipal | typeof ROUTER_PRINCIPAL | typeof ANONYMOUS_PRINCIPAL;

/** Header (and graphql-ws connection parameter) carrying the router-signed identity to subgraphs. */
export const IDENTITY_HEADER = 'x-agentry-identity';
const INTERNAL_AUDIENCE = 'agentry-subgraphs';
/** Long enough for a subscription's connection handshake; the router reuses one for a minute per caller. */
const INTERNAL_TTL_SECONDS = 300;

export const SCOPES = ['proxy', 'orders', 'agents', 'tasks', 'memory', 'wallet', 'admin', '*'] as const;
export type Scope = (typeof SCOPES)[number];

function claimsOf(principal: Principal): Record<string, unknown> & { sub: string; aud: string } {
  if (typeof principal === 'string') return { sub: principal, aud: INTERNAL_AUDIENCE };
  if ('service' in principal) return { sub: SERVICE_PREFIX + principal.service, aud: INTERNAL_AUDIENCE };
  return {
    sub: principal.accountId,
    aud: INTERNAL_AUDIENCE,
    role: principal.role,
    scopes: principal.scopes,
    via: principal.via,
    key: principal.apiKeyId,
  };
}

/** Every claim of an identity as one string: equal exactly when two callers may be treated alike. */
export const identityKey = (identity: Identity): string =>
  JSON.stringify([
    identity.accountId,
    identity.role,
    [...identity.scopes].sort(),
    identity.via,
    identity.apiKeyId,
  ]);

export function signIdentity(principal: Principal, secret: string): string {
  return signToken(claimsOf(principal), secret, INTERNAL_TTL_SECONDS);
}

export type Caller =
  | { kind: 'anonymous' }
  | { kind: 'router' }
  | { kind: 'service'; service: SubgraphName }
  | { kind: 'account'; identity: Identity };

/**
 * Reads the identity the router (or a peer subgraph) signed. A header that does not verify is
 * refused outright, so a hand-made identity never reaches a resolver. An absent header is an
 * anonymous caller here; subgraphs refuse it before this point (see {@link requireSignedCaller}).
 */
export function callerFrom(header: string | undefined, secret: string): Caller {
  if (!header) return { kind: 'anonymous' };
  try {
    const claims = verifyToken(header, secret, INTERNAL_AUDIENCE);
    if (claims.sub === ROUTER_PRINCIPAL) return { kind: 'router' };
    if (claims.sub === ANONYMOUS_PRINCIPAL) return { kind: 'anonymous' };
    if (claims.sub.startsWith(SERVICE_PREFIX))
      return { kind: 'service', service: claims.sub.slice(SERVICE_PREFIX.length) as SubgraphName };
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

/**
 * What a subgraph accepts: only a signed identity (the router signs one for anonymous callers
 * too), so nobody who merely reaches a subgraph's port can read through it.
 */
export function requireSignedCaller(header: string | undefined, secret: string): Caller {
  if (!header) throw new AppError('UNAUTHENTICATED', 'subgraphs answer only identities the router signs');
  return callerFrom(header, secret);
}

export const hasScope = (identity: Identity, scope: Scope) =>
  identity.scopes.includes('*') || identity.scopes.includes(scope);
