import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { badInput, loadConfig } from '../../lib';

/** Where a webhook may not point: this host's own and its private networks' addresses. */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // unspecified, "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 reaches IPv4 addresses, private ones included
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');

/** `::ffff:10.0.0.1` and `::ffff:a00:1` are IPv4 addresses in disguise: judge them as IPv4. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(?:([\d.]+)|([\da-f]{1,4}):([\da-f]{1,4}))$/i.exec(address);
  if (!mapped) return address;
  if (mapped[1]) return mapped[1];
  const value = (parseInt(mapped[2]!, 16) << 16) | parseInt(mapped[3]!, 16);
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

interface Allowlist {
  hosts: Set<string>;
  addresses: BlockList;
}

/** `WEBHOOK_ALLOWLIST`, read on each use so an operator's change needs no code path of its own. */
function allowlist(): Allowlist {
  const hosts = new Set<string>();
  const addresses = new BlockList();
  for (const entry of loadConfig()
    .WEBHOOK_ALLOWLIST.split(',')
    .map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    const [network, prefix] = entry.split('/');
    const ip = unmapped(network!.replace(/^\[|\]$/g, ''));
    const family = isIP(ip);
    if (family === 0) hosts.add(entry);
    else if (prefix === undefined) addresses.addAddress(ip, family === 4 ? 'ipv4' : 'ipv6');
    // A malformed prefix allows nothing rather than failing every registration.
    else if (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
      addresses.addSubnet(ip, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
  }
  return { hosts, addresses };
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

function permitted(address: string, allowed: Allowlist): boolean {
  const ip = unmapped(address);
  return allowed.addresses.check(ip, familyOf(ip)) || !FORBIDDEN.check(ip, familyOf(ip));
}

export class UnsafeWebhookUrl extends Error {}

/**
 * Resolves the URL's host and checks every address it has, so a name with one public and one
 * private address is refused too. Callers connect to the address returned, never resolve again,
 * so a DNS answer that changes between check and connect (rebinding) cannot slip past.
 */
export async function resolveWebhookHost(url: URL): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const allowed = allowlist();
  let addresses: ResolvedAddress[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = (await lookup(host, { all: true })) as ResolvedAddress[];
    } catch {
      throw new UnsafeWebhookUrl(`host ${host} does not resolve`);
    }
  }
  if (!addresses.length) throw new UnsafeWebhookUrl(`host ${host} does not resolve`);
  if (!allowed.hosts.has(host)) {
    const refused = addresses.find(({ address }) => !permitted(address, allowed));
    if (refused)
      throw new UnsafeWebhookUrl(
        `${host} resolves to ${refused.address}, a private, loopback or reserved address`,
      );
  }
  return addresses[0]!;
}

const MAX_URL_LENGTH = 2048;

/** A webhook URL fit to register: http(s), no credentials, and a host that resolves publicly. */
export async function validateWebhookUrl(text: string): Promise<string> {
  const value = text.trim();
  if (value.length > MAX_URL_LENGTH || !URL.canParse(value))
    throw badInput('url is not a valid URL', { argument: 'url' });
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badInput('url must start with http: or https:', { argument: 'url' });
  if (url.username || url.password) throw badInput('url must not carry credentials', { argument: 'url' });
  try {
    await resolveWebhookHost(url);
  } catch (error) {
    if (error instanceof UnsafeWebhookUrl)
      throw badInput(`url refused: ${error.message}`, { argument: 'url' });
    throw error;
  }
  return url.toString();
}
