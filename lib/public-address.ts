import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/*
 * The one check of where the platform may connect when a user chose the URL (webhooks, the agent
 * proxy): never this host, its private networks or reserved space, under any spelling. Node's
 * BlockList parses every IPv6 notation and matches IPv4-mapped addresses against IPv4 rules.
 */

type Network = readonly [address: string, prefix: number];

/** IPv4 networks that are no public host's. */
const NON_PUBLIC_IPV4: readonly Network[] = [
  ['0.0.0.0', 8], // unspecified, "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relays
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];

/** The 6to4 prefix of an IPv4 network: `2002:` then its four bytes as two hex groups. */
function sixToFour(ipv4: string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  return `2002:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}::`;
}

/** IPv6 forms that carry an IPv4 address the connection ends up at: the IPv4 network in each. */
const IPV4_INSIDE_IPV6: readonly ((network: Network) => Network)[] = [
  ([ipv4, prefix]) => [`::ffff:${ipv4}`, 96 + prefix], // IPv4-mapped
  ([ipv4, prefix]) => [`::ffff:0:${ipv4}`, 96 + prefix], // SIIT IPv4-translated
  ([ipv4, prefix]) => [`64:ff9b::${ipv4}`, 96 + prefix], // NAT64 well-known prefix
  ([ipv4, prefix]) => [sixToFour(ipv4), 16 + prefix], // 6to4
];

/** IPv6 ranges that are no public host's, whatever they carry. */
const NON_PUBLIC_IPV6: readonly Network[] = [
  ['::', 96], // unspecified, loopback, and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64: where it puts the IPv4 address is a local choice
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to an IPv4 address it keeps scrambled
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local, deprecated but still routed by some stacks
  ['ff00::', 8], // multicast
];

const NON_PUBLIC = new BlockList();
for (const network of NON_PUBLIC_IPV4) {
  NON_PUBLIC.addSubnet(...network, 'ipv4');
  for (const embed of IPV4_INSIDE_IPV6) NON_PUBLIC.addSubnet(...embed(network), 'ipv6');
}
for (const network of NON_PUBLIC_IPV6) NON_PUBLIC.addSubnet(...network, 'ipv6');

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Whether an IP address (either family, any notation) is a public host's. */
export function isPublicAddress(address: string): boolean {
  return isIP(address) !== 0 && !NON_PUBLIC.check(address, familyOf(address));
}

/** Hosts, addresses and networks an operator lets connections reach although they are not public. */
export interface AddressAllowlist {
  hosts: Set<string>;
  addresses: BlockList;
}

const unbracketed = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

/** Reads comma-separated hosts, IPs and CIDRs (IPv6 bracketed or not); a malformed prefix allows nothing. */
export function parseAddressAllowlist(text: string): AddressAllowlist {
  const allowlist: AddressAllowlist = { hosts: new Set(), addresses: new BlockList() };
  for (const entry of text.split(',').map((e) => e.trim().toLowerCase())) {
    if (!entry) continue;
    const [network, prefix] = entry.split('/') as [string, string | undefined];
    const ip = unbracketed(network);
    const family = isIP(ip);
    if (family === 0) allowlist.hosts.add(entry);
    else if (prefix === undefined) allowlist.addresses.addAddress(ip, familyOf(ip));
    else if (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))
      allowlist.addresses.addSubnet(ip, Number(prefix), familyOf(ip));
  }
  return allowlist;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type ResolveHost = (host: string) => Promise<ResolvedAddress[]>;

const resolveByDns: ResolveHost = (host) => lookup(host, { all: true }) as Promise<ResolvedAddress[]>;

/** Why a URL may not be connected to; the message names the host and the address refused. */
export class NonPublicAddressError extends Error {}

/**
 * Resolves the URL's host and checks every address it has, so a name with one public and one
 * private address is refused too. Callers connect to the address returned and never resolve
 * again, so a DNS answer that changes between check and connect (rebinding) cannot slip past.
 */
export async function resolvePublicHost(
  url: URL,
  allowlist: AddressAllowlist,
  resolve: ResolveHost = resolveByDns,
): Promise<ResolvedAddress> {
  const host = unbracketed(url.hostname);
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family) addresses = [{ address: host, family: family as 4 | 6 }];
  else {
    try {
      addresses = await resolve(host);
    } catch {
      throw new NonPublicAddressError(`host ${host} does not resolve`);
    }
  }
  if (!addresses.length) throw new NonPublicAddressError(`host ${host} does not resolve`);
  if (!allowlist.hosts.has(host)) {
    const refused = addresses.find(
      ({ address }) => !isPublicAddress(address) && !allowlist.addresses.check(address, familyOf(address)),
    );
    if (refused)
      throw new NonPublicAddressError(
        `${host} resolves to ${refused.address}, a private, loopback or reserved address`,
      );
  }
  return addresses[0]!;
}
