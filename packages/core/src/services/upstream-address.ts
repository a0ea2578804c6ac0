/**
 * @module services/upstream-address
 * SSRF guard for upstream URLs. A registered service must not turn the gateway into a way to reach
 * the gateway's own network: loopback, private, link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast and reserved addresses are refused, for IPv4 and IPv6, including
 * IPv4 embedded in IPv6 (`::ffff:127.0.0.1`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) and DNS
 * names that resolve to any of them. The configuration can allow loopback (the demo) or private
 * ranges, or list hosts that are always allowed.
 *
 * Names are checked when a service is registered and again (cached briefly) before forwarding, which
 * narrows DNS rebinding to the cache window; it does not pin the address the socket connects to.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { TollgateError } from '../errors.ts';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link_local' | 'reserved';

export interface UpstreamPolicy {
  /** Allow 127.0.0.0/8 and ::1 (the demo's own upstreams). */
  allowLoopback?: boolean;
  /** Allow every non-public address (private networks, link-local, loopback). */
  allowPrivate?: boolean;
  /** Host names or IP literals always allowed, whatever they resolve to. */
  allowHosts?: readonly string[];
}

export type Lookup = (hostname: string) => Promise<string[]>;

const defaultLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

function blockList(entries: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']>): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of entries) list.addSubnet(net, prefix, type);
  return list;
}

const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);
const LINK_LOCAL = blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]);
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const RESERVED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::', 96, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
]);

/** The IPv4 address inside an IPv6 one (mapped, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) return hexPairToIpv4(hex[1]!, hex[2]!);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(?::|$)/.exec(lower);
  if (sixToFour) return hexPairToIpv4(sixToFour[1]!, sixToFour[2]!);
  return undefined;
}

function hexPairToIpv4(high: string, low: string): string {
  const h = parseInt(high, 16);
  const l = parseInt(low, 16);
  return `${h >> 8}.${h & 255}.${l >> 8}.${l & 255}`;
}

/** Which kind of address this is; throws on text that is not an IP address. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address: ${address}`);
  if (family === 6) {
    // BlockList does not match IPv4-mapped forms against IPv4 subnets, so unwrap them first.
    const inner = embeddedIpv4(address);
    if (inner !== undefined) return classifyAddress(inner);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (LOOPBACK.check(address, type)) return 'loopback';
  if (LINK_LOCAL.check(address, type)) return 'link_local';
  if (PRIVATE.check(address, type)) return 'private';
  if (RESERVED.check(address, type)) return 'reserved';
  return 'public';
}

function allowed(kind: AddressClass, policy: UpstreamPolicy): boolean {
  if (kind === 'public') return true;
  if (policy.allowPrivate) return true;
  return kind === 'loopback' && policy.allowLoopback === true;
}

const REFUSAL_HINT = 'allowPrivateUpstreams, allowLoopbackUpstreams or upstreamAllowHosts in the server configuration';

/**
 * Checks an upstream URL and returns the addresses it resolved to. Refuses with `invalid_request`
 * naming `field` (a 400 at registration) when the URL is not http(s), carries credentials, or any
 * address it resolves to is not allowed by `policy`.
 */
export async function checkUpstreamUrl(url: string, policy: UpstreamPolicy, options: { field?: string; lookup?: Lookup } = {}): Promise<string[]> {
  const field = options.field ?? 'baseUrl';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse(field, 'is not a URL', {});
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw refuse(field, 'must be http or https', {});
  if (parsed.username || parsed.password) throw refuse(field, 'must not carry credentials; put them in credentials.headers', {});
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (policy.allowHosts?.some((h) => h.toLowerCase() === host)) return [host];
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await (options.lookup ?? defaultLookup)(host);
    } catch {
      throw refuse(field, `host ${host} does not resolve`, { host });
    }
    if (addresses.length === 0) throw refuse(field, `host ${host} does not resolve`, { host });
  }
  for (const address of addresses) {
    const kind = classifyAddress(address);
    if (!allowed(kind, policy)) {
      throw refuse(field, `host ${host} is a ${kind.replace('_', '-')} address (${address}); upstreams must be public unless ${REFUSAL_HINT} allows it`, { host, address, addressClass: kind });
    }
  }
  return addresses;
}

function refuse(field: string, reason: string, data: Record<string, unknown>): TollgateError {
  return new TollgateError('invalid_request', `${field}: ${reason}`, { field, reason: 'upstream_address_refused', ...data });
}
