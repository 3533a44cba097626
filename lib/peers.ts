import type { SubgraphName } from './config';
import { AppError } from './errors';
import { IDENTITY_HEADER, ROUTER_PRINCIPAL, signIdentity } from './identity';
import { REQUEST_ID_HEADER } from './logger';

/**
 * Where each subgraph serves GraphQL. The launcher fills it as subgraphs start (the object is shared,
 * so a subgraph started first still finds the ones started after it).
 */
export type PeerUrls = Partial<Record<SubgraphName, string>>;

export interface PeerCallOptions {
  /**
   * The signed identity to send: the caller's own (so the peer applies its ownership rules), or,
   * when left out, this subgraph's service identity.
   */
  identity?: string;
  requestId?: string;
  signal?: AbortSignal;
}

/** Calls between subgraphs: straight to the peer, signed like the router's calls. */
export interface Peers {
  request<T>(
    peer: SubgraphName,
    query: string,
    variables?: Record<string, unknown>,
    options?: PeerCallOptions,
  ): Promise<T>;
  /** A peer's JSON endpoint beside its GraphQL one (its /logs), read as this service. */
  getJson<T>(peer: SubgraphName, path: string): Promise<T>;
}

const PEER_TIMEOUT_MS = 10_000;

/** `self` is the calling subgraph, or the router for its own calls (MPP's credit charges). */
export function createPeers(
  self: SubgraphName | typeof ROUTER_PRINCIPAL,
  urls: PeerUrls,
  secret: string,
): Peers {
  const principal = self === ROUTER_PRINCIPAL ? ROUTER_PRINCIPAL : { service: self };
  return {
    async request<T>(
      peer: SubgraphName,
      query: string,
      variables: Record<string, unknown> = {},
      options: PeerCallOptions = {},
    ): Promise<T> {
      const url = urls[peer];
      if (!url) throw new AppError('UPSTREAM_UNAVAILABLE', `the ${peer} service is not reachable`);
      const signal = AbortSignal.any([
        AbortSignal.timeout(PEER_TIMEOUT_MS),
        ...(options.signal ? [options.signal] : []),
      ]);
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [IDENTITY_HEADER]: options.identity ?? signIdentity(principal, secret),
            ...(options.requestId && { [REQUEST_ID_HEADER]: options.requestId }),
          },
          body: JSON.stringify({ query, variables }),
          signal,
        });
      } catch (error) {
        throw new AppError('UPSTREAM_UNAVAILABLE', `the ${peer} service did not answer`, {
          cause: (error as Error).message,
        });
      }
      const body = (await response.json().catch(() => undefined)) as
        { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] } | undefined;
      const [first] = body?.errors ?? [];
      if (first) {
        const code = (first.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR';
        // A peer's refusal of the input is the caller's problem; anything else is ours.
        throw new AppError(
          code === 'INTERNAL_SERVER_ERROR' ? 'UPSTREAM_UNAVAILABLE' : (code as never),
          first.message,
        );
      }
      if (!body?.data) throw new AppError('UPSTREAM_UNAVAILABLE', `the ${peer} service answered no data`);
      return body.data;
    },
    async getJson<T>(peer: SubgraphName, path: string): Promise<T> {
      const url = urls[peer];
      if (!url) throw new AppError('UPSTREAM_UNAVAILABLE', `the ${peer} service is not reachable`);
      const response = await fetch(new URL(path, url), {
        headers: { [IDENTITY_HEADER]: signIdentity(principal, secret) },
        signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
      }).catch(() => undefined);
      if (!response?.ok) throw new AppError('UPSTREAM_UNAVAILABLE', `the ${peer} service did not answer`);
      return (await response.json()) as T;
    },
  };
}
