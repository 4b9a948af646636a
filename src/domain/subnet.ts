import { CiloError } from '../errors.js';

/** An IPv4 network as integers. */
export interface Cidr {
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  const prefix = m ? Number(m[2]) : NaN;
  let ip: number | undefined;
  try {
    ip = m?.[1] ? ipToInt(m[1]) : undefined;
  } catch {
    ip = undefined;
  }
  if (ip === undefined || !(prefix >= 8 && prefix <= 24)) {
    throw new CiloError('INVALID_CIDR', `"${text}" is not an IPv4 range cilo can use: expected a CIDR like 10.224.0.0/16 with a prefix between /8 and /24.`, {
      hint: 'Pass a private range such as 10.224.0.0/16.',
      exitCode: 2,
    });
  }
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

/**
 * The private IPv4 ranges of RFC 1918, the only ones cilo takes for environments unless forced.
 * 100.64.0.0/10 (RFC 6598, the carriers' shared space, also Tailscale's) is not among them:
 * addresses there may be other machines' that this one must still reach.
 */
export const PRIVATE_RANGES: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** True when the whole of `c` lies inside one of PRIVATE_RANGES. */
export function isPrivateRange(c: Cidr): boolean {
  const [lo, hi] = range(c);
  return PRIVATE_RANGES.some((p) => {
    const [plo, phi] = range(parseCidr(p));
    return plo <= lo && hi <= phi;
  });
}

/**
 * Refuses a range for environments outside the private ones (`option` names the flag the user
 * gave it with), unless `force`: containers given public addresses hide the real machines there.
 */
export function checkPrivateRange(cidr: string, option: string, force: boolean | undefined): void {
  if (force || isPrivateRange(parseCidr(cidr))) return;
  throw new CiloError('INVALID_CIDR', `${option} ${cidr} lies outside the private ranges (${PRIVATE_RANGES.join(', ')}): its addresses may be other machines' (on the internet, or a carrier's or VPN's), which this one could no longer reach.`, {
    hint: 'Pick a range inside them, such as 10.224.0.0/16, or add --force if these addresses are yours to use.',
    exitCode: 2,
  });
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

function range(c: Cidr): [number, number] {
  return [c.base, c.base + 2 ** (32 - c.prefix) - 1];
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * The lowest /24 inside the base ranges (in order) that overlaps none of `taken`
 * (subnets of other environments, Docker networks, host routes).
 */
export function allocateSubnet(bases: string[], taken: string[]): string {
  const used = taken.flatMap((t) => {
    try {
      return [parseCidr24Loose(t)];
    } catch {
      return [];
    }
  });
  for (const b of bases) {
    const base = parseCidr(b);
    const count = 2 ** (24 - base.prefix);
    for (let i = 0; i < count; i++) {
      const cand: Cidr = { base: base.base + i * 256, prefix: 24 };
      if (!used.some((u) => overlaps(cand, u))) return formatCidr(cand);
    }
  }
  throw new CiloError('SUBNET_EXHAUSTED', `No free /24 subnet is left in ${bases.join(', ')}.`, {
    hint: 'Destroy unused environments (`cilo list --all`) or add a larger range with `cilo network migrate`.',
  });
}

/** Parses any IPv4 CIDR (prefix 0-32) for overlap checks; Docker networks can be of any size. */
export function parseCidr24Loose(text: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m?.[1]) throw new Error(`not a CIDR: ${text}`);
  const prefix = Number(m[2]);
  if (prefix > 32) throw new Error(`not a CIDR: ${text}`);
  const ip = ipToInt(m[1]);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function gatewayOf(subnet: string): string {
  return intToIp(parseCidr(subnet).base + 1);
}

/**
 * First host address handed to services; .1 is the gateway, .9 the loopback router's (issue #25),
 * the rest of .2-.9 is left free for Docker.
 */
const FIRST_SERVICE_HOST = 10;

/** The router's host number on every environment network: below the services', outside the engine's range. */
const ROUTER_HOST = 9;

/** The fixed address of the loopback router on an environment's network, which no service is ever given. */
export function routerAddressOf(subnet: string): string {
  return intToIp(parseCidr(subnet).base + ROUTER_HOST);
}

/**
 * Host numbers from here to the end of the /24 are the engine's to hand out (to the replicas
 * of a scaled service, which cannot share one fixed address); fixed addresses stay below, so
 * the two never collide.
 */
export const DYNAMIC_FIRST_HOST = 192;

/** The part of an environment's subnet the engine assigns from (the network's `IPRange`). */
export function dynamicRangeOf(subnet: string): string {
  return `${intToIp(parseCidr(subnet).base + DYNAMIC_FIRST_HOST)}/26`;
}

/**
 * Assigns each service without an IP the lowest free host address of the /24, keeping the
 * ones already assigned (IPs are stable across down/up). Services are taken in name order so
 * the result does not depend on map order.
 */
export function assignIps(subnet: string, existing: Record<string, string>, wanted: string[], reserved: string[] = []): Record<string, string> {
  const net = parseCidr(subnet);
  const out: Record<string, string> = {};
  // The router's address is never a service's, even one recorded by hand or by an older version.
  const router = routerAddressOf(subnet);
  const used = new Set<number>([...reserved, router].map(ipToInt));
  for (const name of wanted) {
    const ip = existing[name];
    if (ip !== undefined && ip !== router) {
      out[name] = ip;
      used.add(ipToInt(ip));
    }
  }
  let next = net.base + FIRST_SERVICE_HOST;
  for (const name of [...wanted].sort()) {
    if (out[name] !== undefined) continue;
    while (used.has(next)) next++;
    if (next >= net.base + DYNAMIC_FIRST_HOST) {
      throw new CiloError('SUBNET_EXHAUSTED', `The subnet ${subnet} has no free address left for service "${name}".`, {
        hint: `A /24 holds at most ${DYNAMIC_FIRST_HOST - FIRST_SERVICE_HOST} services with a fixed address (the rest is for replicas); split the project.`,
      });
    }
    out[name] = intToIp(next);
    used.add(next);
  }
  return out;
}
