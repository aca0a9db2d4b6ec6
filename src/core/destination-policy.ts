// Outbound destination policy for notification endpoints and context source registration endpoints (issue 5
// item 7, issue 7 item 5; guide §14.1 endpoint.uri, §16.1): allow/deny lists of CIDRs and host names, with a
// default that refuses link-local and cloud metadata targets. Pure: no DNS here; adapters
// call checkResolvedAddress for every address a host name resolves to at delivery time.

/** Always denied, whatever the configuration adds: link-local ranges and the cloud metadata services. */
export const DEFAULT_DENY: readonly string[] = [
  '169.254.0.0/16',
  'fe80::/10',
  '169.254.169.254',
  'fd00:ec2::254',
  'metadata.google.internal',
  'metadata',
];

export const NOTIFICATION_SCHEMES: readonly string[] = ['http:', 'https:', 'mqtt:', 'mqtts:'];

type Rule =
  | { kind: 'cidr'; text: string; v6: boolean; base: bigint; bits: number }
  | { kind: 'host'; text: string; name: string; subdomains: boolean };

export interface DestinationPolicy {
  readonly allow: readonly Rule[];
  readonly deny: readonly Rule[];
}

interface Ip {
  v6: boolean;
  value: bigint;
}

function parsePart(p: string): number | null {
  if (p === '') return null;
  let n: number;
  if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
  else if (/^0[0-7]+$/.test(p)) n = parseInt(p.slice(1), 8);
  else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
  else return null;
  return Number.isSafeInteger(n) ? n : null;
}

/** IPv4 in every form a URL parser or inet_aton accepts (1 to 4 parts, decimal, octal or hex). */
export function parseIpv4(host: string): bigint | null {
  const parts = host.split('.');
  if (parts.length > 4) return null;
  const nums = parts.map(parsePart);
  if (nums.some((n) => n === null)) return null;
  const ns = nums as number[];
  const last = ns[ns.length - 1]!;
  if (ns.slice(0, -1).some((n) => n > 255) || last >= 256 ** (5 - ns.length)) return null;
  let v = 0n;
  ns.slice(0, -1).forEach((n, i) => {
    v += BigInt(n) << BigInt(8 * (3 - i));
  });
  return v + BigInt(last);
}

export function parseIpv6(text: string): bigint | null {
  const host = text.replace(/%.*$/, '');
  if (!/^[0-9a-f:.]+$/i.test(host) || host.split('::').length > 2) return null;
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  if (tail !== undefined && head.includes('.')) return null;
  const groups = (s: string | undefined): number[] | null => {
    if (s === undefined || s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(item)) return null;
        const v4 = parseIpv4(item);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-f]{1,4}$/i.test(item)) out.push(parseInt(item, 16));
      else return null;
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === null || t === null) return null;
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...h, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IP literal (IPv6 with or without brackets); IPv4-mapped IPv6 addresses count as IPv4. */
export function parseIp(text: string): Ip | null {
  const t = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (t.includes(':')) {
    const v = parseIpv6(t);
    if (v === null) return null;
    return v >> 32n === 0xffffn ? { v6: false, value: v - MAPPED_PREFIX } : { v6: true, value: v };
  }
  const v4 = parseIpv4(t);
  return v4 === null ? null : { v6: false, value: v4 };
}

const normalizeHost = (h: string): string => h.toLowerCase().replace(/\.+$/, '');

function parseRule(raw: string): Rule {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (ip !== null) {
    const width = ip.v6 ? 128 : 32;
    const prefix = slash < 0 ? String(width) : text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > width) throw new Error(`destination rule "${text}": invalid prefix length`);
    const bits = Number(prefix);
    const mask = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
    return { kind: 'cidr', text, v6: ip.v6, base: ip.value & mask, bits };
  }
  if (slash >= 0) throw new Error(`destination rule "${text}": not an IP address range`);
  const subdomains = text.startsWith('*.') || text.startsWith('.');
  const name = normalizeHost(text.replace(/^\*?\./, ''));
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) {
    throw new Error(`destination rule "${text}": neither a CIDR, an IP address nor a host name`);
  }
  return { kind: 'host', text, name, subdomains };
}

const parseList = (list: string): Rule[] =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseRule);

/**
 * Builds a policy from comma-separated lists of CIDRs, IP addresses and host names (`*.example.org` or
 * `.example.org` also match subdomains). DEFAULT_DENY is always part of the deny list. Throws naming the
 * first malformed entry. Deny wins over allow; an empty allow list allows everything not denied.
 */
export function parseDestinationPolicy(allow: string, deny: string): DestinationPolicy {
  return Object.freeze({
    allow: Object.freeze(parseList(allow)),
    deny: Object.freeze([...DEFAULT_DENY.map(parseRule), ...parseList(deny)]),
  });
}

function ipMatches(rule: Rule, ip: Ip): boolean {
  if (rule.kind !== 'cidr' || rule.v6 !== ip.v6) return false;
  const width = ip.v6 ? 128 : 32;
  const mask = ((1n << BigInt(rule.bits)) - 1n) << BigInt(width - rule.bits);
  return (ip.value & mask) === rule.base;
}

const hostMatches = (rule: Rule, host: string): boolean =>
  rule.kind === 'host' && (host === rule.name || (rule.subdomains && host.endsWith(`.${rule.name}`)));

/** Why the endpoint URI may not be notified, or null when it may (subject to the resolved-address check). */
export function checkDestination(policy: DestinationPolicy, uri: string): string | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `endpoint ${JSON.stringify(uri)} is not an absolute URI`;
  }
  if (!NOTIFICATION_SCHEMES.includes(url.protocol)) return `endpoint scheme ${url.protocol} is not supported`;
  const rawHost = url.hostname;
  if (rawHost === '') return `endpoint ${uri} has no host`;
  if (/[%\s]/.test(rawHost)) return `endpoint host ${rawHost} is not a plain host name`;
  const host = normalizeHost(rawHost);
  const ip = parseIp(host);
  if (ip !== null) {
    const denied = policy.deny.find((r) => ipMatches(r, ip));
    if (denied) return `destination ${rawHost} is refused (denied range ${denied.text})`;
    if (policy.allow.length > 0 && !policy.allow.some((r) => ipMatches(r, ip))) {
      return `destination ${rawHost} is not in the allowed destinations`;
    }
    return null;
  }
  if (host.includes(':') || host.startsWith('[')) return `endpoint host ${rawHost} is not a valid address`;
  const denied = policy.deny.find((r) => hostMatches(r, host));
  if (denied) return `destination ${rawHost} is refused (denied host ${denied.text})`;
  if (policy.allow.length > 0 && !policy.allow.some((r) => hostMatches(r, host))) {
    // A name outside the allowed names may still resolve into an allowed range: decided at delivery time.
    if (!policy.allow.some((r) => r.kind === 'cidr')) return `destination ${rawHost} is not in the allowed destinations`;
  }
  return null;
}

/**
 * Why a connection to `address` (what `host` resolved to) is refused, or null. Call it for every resolved
 * address, so a name pointing at a denied range (DNS rebinding included) is refused at delivery time.
 */
export function checkResolvedAddress(policy: DestinationPolicy, address: string, host?: string): string | null {
  const ip = parseIp(address);
  if (ip === null) return `resolved address ${address} is not an IP address`;
  const label = host === undefined ? address : `${host} (${address})`;
  const denied = policy.deny.find((r) => ipMatches(r, ip));
  if (denied) return `destination ${label} is refused (denied range ${denied.text})`;
  if (policy.allow.length === 0) return null;
  if (host !== undefined && policy.allow.some((r) => hostMatches(r, normalizeHost(host)))) return null;
  if (policy.allow.some((r) => ipMatches(r, ip))) return null;
  return `destination ${label} is not in the allowed destinations`;
}
