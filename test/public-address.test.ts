import {
  isPublicAddress,
  NonPublicAddressError,
  parseAddressAllowlist,
  resolvePublicHost,
  type ResolvedAddress,
} from '../lib';
import { resolveWebhookHost } from '../subgraphs/tasks/webhook.address';

/** Every IPv6 spelling of an IPv4 address, as a host connects to it or tunnels towards it. */
function ipv6Forms(ipv4: string): string[] {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  const high = ((a << 8) | b).toString(16);
  const low = ((c << 8) | d).toString(16);
  return [
    `::ffff:${ipv4}`, // IPv4-mapped, dotted
    `::ffff:${high}:${low}`, // IPv4-mapped, hex
    `0:0:0:0:0:ffff:${high}:${low}`, // IPv4-mapped, uncompressed
    `::${ipv4}`, // IPv4-compatible
    `::ffff:0:${ipv4}`, // SIIT
    `64:ff9b::${ipv4}`, // NAT64
    `64:ff9b::${high}:${low}`,
    `2002:${high}:${low}::`, // 6to4
    `2002:${high}:${low}:1::5`,
  ];
}

const NON_PUBLIC_IPV4 = [
  '127.0.0.1',
  '127.255.255.254',
  '10.1.2.3',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '224.0.0.1',
  '255.255.255.255',
  '192.0.2.1',
];

test('private, loopback, link-local and unspecified IPv4 addresses are refused in every IPv6 form', () => {
  for (const ipv4 of NON_PUBLIC_IPV4) {
    expect([ipv4, isPublicAddress(ipv4)]).toEqual([ipv4, false]);
    for (const form of ipv6Forms(ipv4)) expect([form, isPublicAddress(form)]).toEqual([form, false]);
  }
});

test('the cases reported: compatible, SIIT and 6to4 spellings of loopback', () => {
  for (const address of ['::127.0.0.1', '::ffff:0:127.0.0.1', '2002:7f00:1::'])
    expect([address, isPublicAddress(address)]).toEqual([address, false]);
});

test('IPv6 ranges that are no public host are refused', () => {
  for (const address of [
    '::',
    '::1',
    '0:0:0:0:0:0:0:1',
    'fe80::1',
    'febf::1',
    'fec0::1', // site-local
    'fc00::1',
    'fd12:3456::1', // unique local
    'ff02::1', // multicast
    '100::1', // discard-only
    '2001:db8::1', // documentation
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '64:ff9b:1::a00:1', // local-use NAT64
  ])
    expect([address, isPublicAddress(address)]).toEqual([address, false]);
});

test('public addresses pass, also when an IPv6 form carries a public IPv4', () => {
  for (const address of [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1', // just past 172.16/12
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    ...ipv6Forms('8.8.8.8').filter((form) => !form.startsWith('::8')), // IPv4-compatible is refused whole
  ])
    expect([address, isPublicAddress(address)]).toEqual([address, true]);
  expect(isPublicAddress('::8.8.8.8')).toBe(false);
  expect(isPublicAddress('not an address')).toBe(false);
});

/** A DNS double: every name answers the given addresses. */
const answering =
  (...addresses: string[]) =>
  async (): Promise<ResolvedAddress[]> =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

const nothingAllowed = parseAddressAllowlist('');

test('a DNS answer holding a non-public address in any form is refused, even beside public ones', async () => {
  const url = new URL('https://hooks.example.com/in');
  for (const address of [
    '::ffff:127.0.0.1',
    '::127.0.0.1',
    '::ffff:0:10.0.0.1',
    '2002:7f00:1::',
    '64:ff9b::a9fe:a9fe',
    'fd00::1',
  ])
    await expect(resolvePublicHost(url, nothingAllowed, answering('93.184.215.14', address))).rejects.toThrow(
      new NonPublicAddressError(
        `hooks.example.com resolves to ${address}, a private, loopback or reserved address`,
      ),
    );
  await expect(resolvePublicHost(url, nothingAllowed, answering())).rejects.toThrow(/does not resolve/);
  expect(await resolvePublicHost(url, nothingAllowed, answering('93.184.215.14', '2606:4700::1'))).toEqual({
    address: '93.184.215.14',
    family: 4,
  });
});

test('literal hosts are judged without DNS, bracketed IPv6 included', async () => {
  const failing = async (): Promise<ResolvedAddress[]> => {
    throw new Error('no DNS for literals');
  };
  for (const host of [
    '[::127.0.0.1]',
    '[::ffff:0:127.0.0.1]',
    '[2002:7f00:1::]',
    '[64:ff9b::7f00:1]',
    '127.1',
  ])
    await expect(resolvePublicHost(new URL(`http://${host}/`), nothingAllowed, failing)).rejects.toThrow(
      NonPublicAddressError,
    );
  expect(await resolvePublicHost(new URL('http://[2606:4700::1]/'), nothingAllowed, failing)).toEqual({
    address: '2606:4700::1',
    family: 6,
  });
});

test('an allowlisted host, address or network still passes, in the forms it names', async () => {
  const allowlist = parseAddressAllowlist(
    'hooks.internal, 127.0.0.1, 10.0.0.0/8, [::1], 2002:7f00::/24, 10.0.0.0/99',
  );
  const pass = (url: string, ...answer: string[]) =>
    resolvePublicHost(new URL(url), allowlist, answering(...answer));
  expect(await pass('http://hooks.internal/', '192.168.0.1')).toEqual({ address: '192.168.0.1', family: 4 });
  expect((await pass('http://127.0.0.1:9/')).address).toBe('127.0.0.1');
  expect((await pass('http://[::ffff:127.0.0.1]/')).address).toBe('::ffff:7f00:1'); // the same address
  expect((await pass('http://10.9.8.7/')).address).toBe('10.9.8.7');
  expect((await pass('http://[::1]/')).address).toBe('::1');
  expect((await pass('http://[2002:7f00:1::]/')).address).toBe('2002:7f00:1::');
  expect((await pass('http://hooks.example.com/', '10.0.0.1', '127.0.0.1')).address).toBe('10.0.0.1');
  // Allowing 127.0.0.1 does not allow what tunnels there by another route.
  await expect(pass('http://[::ffff:0:127.0.0.1]/')).rejects.toThrow(NonPublicAddressError);
  await expect(pass('http://192.168.1.1/')).rejects.toThrow(NonPublicAddressError);
});

test('webhooks read WEBHOOK_ALLOWLIST on each use', async () => {
  const url = new URL('http://[::ffff:127.0.0.1]:8080/hook');
  process.env.WEBHOOK_ALLOWLIST = '';
  await expect(resolveWebhookHost(url)).rejects.toThrow(NonPublicAddressError);
  process.env.WEBHOOK_ALLOWLIST = '127.0.0.0/8';
  expect(await resolveWebhookHost(url)).toEqual({ address: '::ffff:7f00:1', family: 6 });
  delete process.env.WEBHOOK_ALLOWLIST;
});
