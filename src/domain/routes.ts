import { intToIp } from './subnet.js';

/**
 * Parses Linux's /proc/net/route into CIDRs (little-endian hex fields), skipping the default
 * route: a subnet that overlaps a host route would make containers unreachable.
 */
export function parseProcRoutes(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = leHex(f[1] ?? '');
    const mask = leHex(f[7] ?? '');
    if (dest === undefined || mask === undefined || mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    out.push(`${intToIp(dest)}/${prefix}`);
  }
  return out;
}

function leHex(h: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(h)) return undefined;
  const n = parseInt(h, 16);
  return ((n & 0xff) << 24 >>> 0) + ((n >>> 8) & 0xff) * 65536 + ((n >>> 16) & 0xff) * 256 + (n >>> 24);
}
