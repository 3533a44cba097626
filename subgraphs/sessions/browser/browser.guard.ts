/**
 * Where the browser may connect. Two layers: every request a page makes is checked in playwright's
 * routing (refused before any connection, with a clear reason), and Chromium reaches the network
 * only through a proxy in this process that checks each connection again and connects to the very
 * address it checked. The proxy catches what routing cannot see: redirects (playwright routes only
 * a redirect chain's first URL), WebSockets, and a DNS answer that changes between check and connect.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { NonPublicAddressError, pinnedLookup, resolvePublicHost, type ResolvedAddress } from '../../../lib';
import { browserSettings } from './browser.settings';

/** Schemes a page may load without the network (inline data, its own blobs, blank pages). */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);

/** The header of the proxy's refusal, so a navigation that ended at one can say why. */
export const REFUSED_HEADER = 'x-agentry-refused';

/**
 * The address a URL may be fetched from, or a NonPublicAddressError saying why not: only http(s),
 * and only to public addresses or ones BROWSER_ALLOW_HOSTS names.
 */
export async function checkBrowserUrl(url: URL): Promise<ResolvedAddress> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new NonPublicAddressError(`${url.protocol} URLs may not be opened; only http and https`);
  return resolvePublicHost(url, browserSettings().allowlist);
}

/** Whether a page may request this URL at all (the routing layer's check). */
export async function mayRequest(href: string): Promise<boolean> {
  const url = URL.canParse(href) ? new URL(href) : null;
  if (!url) return false;
  if (LOCAL_SCHEMES.has(url.protocol)) return true;
  return checkBrowserUrl(url).then(
    () => true,
    () => false,
  );
}

const HOP_BY_HOP = ['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive'];

function refuse(res: import('node:http').ServerResponse, status: number, reason: string) {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain', [REFUSED_HEADER]: encodeURIComponent(reason) });
  res.end(`${reason}\n`);
}

/** A plain-HTTP request in absolute form: checked, then sent to the checked address. */
async function forward(req: IncomingMessage, res: import('node:http').ServerResponse) {
  const url = URL.canParse(req.url ?? '') ? new URL(req.url!) : null;
  if (!url || url.protocol !== 'http:') return refuse(res, 400, 'the browser proxy forwards http URLs only');
  let address: ResolvedAddress;
  try {
    address = await checkBrowserUrl(url);
  } catch (error) {
    return refuse(res, 403, (error as Error).message);
  }
  const headers = { ...req.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  const upstream = httpRequest(url, {
    method: req.method,
    headers,
    lookup: pinnedLookup(address),
    agent: false,
  });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
    answer.pipe(res);
  });
  upstream.on('error', () => refuse(res, 502, `${url.host} did not answer`));
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** A CONNECT tunnel (https, wss): its host checked, then joined to the checked address. */
async function tunnel(req: IncomingMessage, client: Socket, head: Buffer, open: Set<Socket>) {
  open.add(client);
  client.on('close', () => open.delete(client));
  client.on('error', () => client.destroy());
  const target = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
  const url =
    target && URL.canParse(`https://${target[1]}:${target[2]}`) ? new URL(`https://${req.url}`) : null;
  let address: ResolvedAddress;
  try {
    if (!url) throw new NonPublicAddressError('not a host:port');
    address = await checkBrowserUrl(url);
  } catch (error) {
    client.end(
      `HTTP/1.1 403 Forbidden\r\n${REFUSED_HEADER}: ${encodeURIComponent((error as Error).message)}\r\n\r\n`,
    );
    return;
  }
  const upstream = connect({ host: address.address, port: Number(target![2]), family: address.family });
  upstream.on('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  client.on('close', () => upstream.destroy());
}

export interface GuardProxy {
  /** `http://127.0.0.1:port`, for Chromium's --proxy-server. */
  url: string;
  close(): Promise<void>;
}

/** Starts the proxy on a free loopback port; only this process's browser is told of it. */
export async function startGuardProxy(): Promise<GuardProxy> {
  const server: Server = createServer((req, res) => void forward(req, res));
  // Tunnels leave the server's connection tracking: kept here, so closing ends them too.
  const tunnels = new Set<Socket>();
  server.on('connect', (req, socket, head) => void tunnel(req, socket as Socket, head, tunnels));
  // A WebSocket in absolute form (Chromium tunnels them with CONNECT): nothing to forward it to.
  server.on('upgrade', (_req, socket: Socket) => socket.destroy());
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
