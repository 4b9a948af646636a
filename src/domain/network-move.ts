/**
 * Moving environments to another base range (`cilo network migrate`): pure planning. Each
 * service keeps its host number in the new /24 (.10 stays .10), so addresses stay recognisable.
 */
import { formatCidr, intToIp, ipToInt, overlaps, parseCidr, parseCidr24Loose } from './subnet.js';

/** The address with the same host number in `to` as `ip` has in `from`. */
export function moveIp(ip: string, from: string, to: string): string {
  const offset = (ipToInt(ip) - parseCidr(from).base) & 255;
  return intToIp(parseCidr(to).base + offset);
}

/** True when the /24 lies inside one of the base ranges. */
export function insideBases(subnet: string, bases: string[]): boolean {
  try {
    const s = parseCidr24Loose(subnet);
    return bases.some((b) => {
      const base = parseCidr(b);
      return s.prefix >= base.prefix && overlaps(s, base);
    });
  } catch {
    return false;
  }
}

/** The ranges in `taken` that overlap `cidr` (to refuse a base range already in use). */
export function overlapping(cidr: string, taken: { name: string; subnet: string }[]): { name: string; subnet: string }[] {
  const c = parseCidr(cidr);
  return taken.filter((t) => {
    try {
      return overlaps(c, parseCidr24Loose(t.subnet));
    } catch {
      return false;
    }
  });
}

export function normalizeCidr(text: string): string {
  return formatCidr(parseCidr(text));
}
