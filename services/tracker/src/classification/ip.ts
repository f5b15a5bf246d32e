import { readFileSync } from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Longer than any address (an IPv6 zone id is the only unbounded part); events keep at most this. */
const MAX_IP_LENGTH = 64;

/** "::ffff:1.2.3.4" (a v4 client on a dual-stack socket) → "1.2.3.4". */
export function normalizeIp(ip: string | undefined | null): string | null {
  if (!ip) return null;
  const v = ip.trim();
  if (v.length > MAX_IP_LENGTH) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(v);
  if (mapped) return mapped[1]!;
  return isIPv4(v) || isIPv6(v) ? v : null;
}

/**
 * IPv4 → its /24 ("203.0.113.0"), IPv6 → its /48 ("2001:db8:1::"): enough for a rough
 * location and for proxy detection, not enough to single out a recipient.
 */
export function truncateIp(ip: string | null): string | null {
  if (ip === null) return null;
  if (isIPv4(ip)) return ip.split('.').slice(0, 3).join('.') + '.0';
  if (!isIPv6(ip)) return null;
  const groups = expandIPv6(ip);
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::`;
}

function expandIPv6(ip: string): string[] {
  const noZone = ip.split('%')[0]!;
  const [head, tail] = noZone.includes('::') ? (noZone.split('::') as [string, string]) : [noZone, undefined];
  const h = head ? head.split(':') : [];
  if (tail === undefined) return h;
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
}

/** A set of CIDR ranges (v4 and v6), from a list file: one range per line, '#' comments. */
export class IpRanges {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: string[]) {
    let n = 0;
    for (const raw of cidrs) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const [addr, bits] = line.split('/');
      const family = addr && isIPv4(addr) ? 'ipv4' : addr && isIPv6(addr) ? 'ipv6' : null;
      const prefix = bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits);
      if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 'ipv4' ? 32 : 128)) {
        throw new Error(`invalid IP range "${line}"`);
      }
      this.list.addSubnet(addr!, prefix, family);
      n++;
    }
    this.size = n;
  }

  static fromFile(file: string): IpRanges {
    return new IpRanges(readFileSync(file, 'utf8').split(/\r?\n/));
  }

  contains(ip: string | null): boolean {
    if (ip === null) return false;
    return this.list.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  }
}
