import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolvePublicHost, type AddressAllowlist, type ResolvedAddress } from './public-address';

/** A lookup that answers only the address already checked, so DNS cannot steer the connection elsewhere. */
export function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) =>
    options.all
      ? (callback as (error: null, addresses: ResolvedAddress[]) => void)(null, [address])
      : callback(null, address.address, address.family);
}

/** Why a call to a user-chosen URL got no usable answer: `timeout`, `too-large` or `unreachable`. */
export class OutboundError extends Error {
  constructor(
    readonly reason: 'timeout' | 'too-large' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface OutboundRequest {
  /** POST by default; a GET sends no body. */
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** The most bytes of answer read; past it the call fails as `too-large`. */
  maxBytes: number;
}

/**
 * POSTs to (or GETs) a URL a user chose (an agent's endpoint, a peer's card): its host must resolve
 * to public addresses (or ones `allowlist` names; NonPublicAddressError otherwise), the connection goes to the address
 * checked, redirects are answers like any other, and the whole call (answer included) has
 * `timeoutMs`. Any status is an answer; only no answer throws an OutboundError.
 */
export async function requestPublicHost(
  url: URL,
  allowlist: AddressAllowlist,
  { method = 'POST', headers, body = Buffer.alloc(0), timeoutMs, maxBytes }: OutboundRequest,
): Promise<OutboundAnswer> {
  const address = await resolvePublicHost(url, allowlist);
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise<OutboundAnswer>((resolve, reject) => {
    const fail = (error: unknown) =>
      reject(
        signal.aborted
          ? new OutboundError('timeout', `no answer within ${timeoutMs} ms`)
          : error instanceof OutboundError
            ? error
            : new OutboundError('unreachable', (error as Error).message || 'connection failed'),
      );
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method,
        headers: method === 'GET' ? headers : { ...headers, 'content-length': body.length },
        lookup: pinnedLookup(address),
        agent: false,
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxBytes) chunks.push(chunk);
          else request.destroy(new OutboundError('too-large', `the answer is larger than ${maxBytes} bytes`));
        });
        response.on('error', fail);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on('error', fail);
    request.end(method === 'GET' ? undefined : body);
  });
}
