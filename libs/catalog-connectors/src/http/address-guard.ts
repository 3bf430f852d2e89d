import { BlockList, isIP } from 'net';

/**
 * Address ranges a harvest URL must not reach unless configuration allows it:
 * a remote catalog is on the public internet, and anything else is an SSRF
 * target (cloud metadata, admin ports, the platform's own services).
 */
const IPV4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6_RANGES: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

interface BlockedRange {
  list: BlockList;
  type: 'ipv4' | 'ipv6';
  label: string;
}

function blockedRange(network: string, prefix: number, type: 'ipv4' | 'ipv6', label: string): BlockedRange {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, label };
}

const BLOCKED: BlockedRange[] = [
  ...IPV4_RANGES.map(([network, prefix, label]) => blockedRange(network, prefix, 'ipv4', label)),
  ...IPV6_RANGES.map(([network, prefix, label]) => blockedRange(network, prefix, 'ipv6', label)),
];

/**
 * Why an IP address is not a public unicast address, or undefined when it is.
 * IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are
 * judged by the embedded address, so `::ffff:127.0.0.1` is loopback too.
 */
export function nonPublicAddressReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const bare = address.split('%')[0];
  for (const range of BLOCKED) {
    if (range.type === type && range.list.check(bare, type)) return `${range.label} address ${address}`;
  }
  if (family === 6) {
    const embedded = embeddedIpv4(bare);
    if (embedded) {
      const reason = nonPublicAddressReason(embedded);
      return reason && `${reason} (embedded in ${address})`;
    }
  }
  return undefined;
}

function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (!groups) return undefined;
  const asIpv4 = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) {
    return asIpv4(groups[6], groups[7]);
  }
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix)
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return asIpv4(groups[6], groups[7]);
  // 2002:AABB:CCDD::/48 (6to4)
  if (groups[0] === 0x2002) return asIpv4(groups[1], groups[2]);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (text.includes('::') ? missing < 0 : missing !== 0) return undefined;
  const groups = [...headGroups, ...Array<string>(text.includes('::') ? missing : 0).fill('0'), ...tailGroups];
  const numbers = groups.map((group) => parseInt(group, 16));
  return numbers.length === 8 && numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? numbers : undefined;
}

/** Host names that must be refused before any DNS query (they resolve locally by convention). */
export function isLocalHostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local') || name.endsWith('.internal');
}
