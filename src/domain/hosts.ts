/**
 * Remote hosts as plain data: SSH destinations, the range each host's environments take their
 * subnets from, the tunnel's addresses, and the remote paths of workspaces. No I/O here.
 */
import type { ComposeModel, ComposeService } from './compose-model.js';
import type { EnvironmentState, HostState, State } from './state.js';
import { formatCidr, intToIp, overlaps, parseCidr, parseCidr24Loose, type Cidr } from './subnet.js';
import { CiloError } from '../errors.js';

export interface SshDestination {
  user?: string | undefined;
  host: string;
  port: number;
}

/** `ssh://user@box[:port]` or `user@box`; anything else is a usage error naming the form. */
export function parseSshDestination(text: string): SshDestination {
  const m = /^(?:ssh:\/\/)?(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?\/?$/.exec(text.trim());
  const port = m?.[3] ? Number(m[3]) : 22;
  if (!m?.[2] || port < 1 || port > 65535) {
    throw new CiloError('HOST_INVALID', `"${text}" is not an SSH destination cilo understands.`, {
      hint: 'Give ssh://user@host (optionally :port), or the name of a Docker context whose endpoint is one.',
      exitCode: 2,
    });
  }
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}

export function formatSshDestination(d: SshDestination): string {
  const host = d.host.includes(':') ? `[${d.host}]` : d.host;
  return `ssh://${d.user ? `${d.user}@` : ''}${host}${d.port === 22 ? '' : `:${d.port}`}`;
}

/** How known_hosts names a host (with a port other than 22: `[host]:port`). */
export function knownHostsName(d: SshDestination): string {
  return d.port === 22 ? d.host : `[${d.host}]:${d.port}`;
}

/** Where hosts' ranges come from: cilo's own /18s above its default base range. */
const HOST_RANGE_SPACE = ['10.225.0.0/16', '10.226.0.0/16', '10.227.0.0/16', '10.228.0.0/16', '10.229.0.0/16', '10.230.0.0/16', '10.231.0.0/16'];
const HOST_RANGE_PREFIX = 18;

/** The lowest /18 of cilo's host space that overlaps none of `taken` (other engines' ranges, routes). */
export function allocateHostRange(taken: string[]): string {
  const used = taken.flatMap((t) => {
    try {
      return [parseCidr24Loose(t)];
    } catch {
      return [];
    }
  });
  const size = 2 ** (32 - HOST_RANGE_PREFIX);
  for (const space of HOST_RANGE_SPACE) {
    const s = parseCidr(space);
    for (let base = s.base; base < s.base + 2 ** (32 - s.prefix); base += size) {
      const cand: Cidr = { base, prefix: HOST_RANGE_PREFIX };
      if (!used.some((u) => overlaps(cand, u))) return formatCidr(cand);
    }
  }
  throw new CiloError('SUBNET_EXHAUSTED', 'No free range is left for another host.', { hint: 'Remove a host you no longer use (`cilo host rm`), or pass --subnet CIDR.' });
}

/** The ranges every engine of this state uses: the local base ranges and every host's range. */
export function engineRanges(state: State): string[] {
  return [...state.base_subnets, ...Object.values(state.hosts ?? {}).map((h) => h.subnet)];
}

/** The last /24 of a host's range: the tunnel's, never an environment's. */
export function tunnelSubnet(range: string): string {
  const c = parseCidr(range);
  return formatCidr({ base: c.base + 2 ** (32 - c.prefix) - 256, prefix: 24 });
}

/** The tunnel's two ends: this machine (.1) and the host (.2), in the tunnel's /24. */
export function tunnelAddresses(range: string): { local: string; remote: string } {
  const base = parseCidr(tunnelSubnet(range)).base;
  return { local: intToIp(base + 1), remote: intToIp(base + 2) };
}

/**
 * Where an environment takes its subnet from: its host's range (less the tunnel's /24), else
 * the local base ranges. `reserved` joins the subnets already taken.
 */
export function subnetBases(state: State, env: Pick<EnvironmentState, 'host'>): { bases: string[]; reserved: string[] } {
  const host = env.host ? state.hosts?.[env.host] : undefined;
  if (env.host && !host) throw hostNotFound(env.host);
  return host ? { bases: [host.subnet], reserved: [tunnelSubnet(host.subnet)] } : { bases: state.base_subnets, reserved: [] };
}

export function hostNotFound(name: string): CiloError {
  return new CiloError('HOST_NOT_FOUND', `There is no host named "${name}".`, { hint: 'Run `cilo host list` to see the hosts, or `cilo host add` to add one.' });
}

/** The synced copy of a workspace on its host. */
export function remoteWorkspace(host: Pick<HostState, 'remote_root'>, env: Pick<EnvironmentState, 'project' | 'name'>): string {
  return `${host.remote_root}/${env.project}/${env.name}`;
}

/**
 * The model with bind mounts of files under `from` (the local workspace) pointing under `to`
 * (its copy on the host), where the host's engine finds them. Other sources are left alone.
 */
export function rebaseBindMounts(model: ComposeModel, from: string, to: string): ComposeModel {
  const rebase = (p: string): string => (p === from ? to : p.startsWith(`${from}/`) ? `${to}${p.slice(from.length)}` : p);
  const services: Record<string, ComposeService> = {};
  for (const [name, svc] of Object.entries(model.services)) {
    const volumes = svc.volumes;
    if (!Array.isArray(volumes)) {
      services[name] = svc;
      continue;
    }
    services[name] = {
      ...svc,
      volumes: volumes.map((v: unknown) => {
        if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'bind' && typeof (v as { source?: unknown }).source === 'string') {
          return { ...v, source: rebase((v as { source: string }).source) };
        }
        return v;
      }),
    };
  }
  return { ...model, services };
}

/** The tunnel interface's name on both sides (at most 15 characters), from the host's range. */
export function tunnelInterface(range: string): string {
  const ip = intToIp(parseCidr(range).base).split('.');
  return `cilo-${ip[1]}-${ip[2]}`;
}

export const TUNNEL_PORT = 51820;

export interface OfferedKey {
  line: string;
  fingerprint: string;
  type: string;
}

export function describeKeys(keys: OfferedKey[]): string {
  return keys.map((k) => `${k.type} ${k.fingerprint}`).join(', ');
}

/**
 * The known_hosts lines to trust from the keys a host offered: those whose fingerprint the user
 * gave (`accept`), or all of them once the user confirmed them (`'all'`). Without either, the
 * keys are shown in the error and nothing is trusted: never blindly.
 */
export function keysToTrust(ssh: string, keys: OfferedKey[], accept: string | 'all' | undefined): string[] {
  if (keys.length === 0) {
    throw new CiloError('HOST_UNREACHABLE', `${ssh} did not offer an SSH host key (no SSH server answers there).`, { hint: 'Check the address and that sshd runs on the host, then retry.' });
  }
  if (accept === 'all') return keys.map((k) => k.line);
  const listed = describeKeys(keys);
  if (accept === undefined) {
    throw new CiloError('HOST_KEY_UNKNOWN', `The SSH host key of ${ssh} is not trusted yet; it offers ${listed}.`, {
      hint: `Compare the fingerprint with the one the host shows (\`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` there), then run again with --accept-host-key ${keys[0]?.fingerprint ?? 'SHA256:...'}.`,
    });
  }
  const wanted = accept.startsWith('SHA256:') ? accept : `SHA256:${accept}`;
  const match = keys.filter((k) => k.fingerprint === wanted);
  if (match.length === 0) {
    throw new CiloError('HOST_KEY_UNKNOWN', `${ssh} offers ${listed}, not ${wanted}.`, { hint: 'Someone may be between you and the host: check the fingerprint with its owner before trusting another one.' });
  }
  return match.map((k) => k.line);
}

/** The entries one of the user's own known_hosts files has for a destination (`ssh-keygen -F` lines). */
export interface UserKnownEntries {
  file: string;
  lines: string[];
}

/**
 * What the user's own SSH says of the keys a host offers, as ssh itself decides: a key listed
 * in any of its known_hosts files is trusted (`match`: the offered lines to trust, and the file
 * that lists it); entries for the host none of which is an offered key, or an offered key marked
 * `@revoked`, mean the key changed (`mismatch`); no entries at all, `none`. `@cert-authority`
 * lines are left out: cilo checks plain keys only.
 */
export function userKnownVerdict(offered: OfferedKey[], known: UserKnownEntries[]): { kind: 'match'; file: string; lines: string[] } | { kind: 'mismatch'; file: string } | { kind: 'none' } {
  const keyOf = (fields: string[]): string => fields.slice(0, 2).join(' ');
  const offeredKeys = offered.map((k) => ({ line: k.line, key: keyOf(k.line.trim().split(/\s+/).slice(1)) }));
  let firstFile: string | undefined;
  for (const { file, lines } of known) {
    for (const raw of lines) {
      const fields = raw.trim().split(/\s+/);
      if (fields.length < 3 || raw.trim().startsWith('#')) continue;
      const marker = fields[0]?.startsWith('@') ? fields[0] : undefined;
      if (marker === '@cert-authority') continue;
      const key = keyOf(fields.slice(marker ? 2 : 1));
      if (marker === '@revoked') {
        if (offeredKeys.some((o) => o.key === key)) return { kind: 'mismatch', file };
        continue;
      }
      firstFile ??= file;
    }
  }
  for (const { file, lines } of known) {
    const keys = new Set(lines.filter((l) => !l.trim().startsWith('@') && !l.trim().startsWith('#')).map((l) => keyOf(l.trim().split(/\s+/).slice(1))));
    const match = offeredKeys.filter((o) => keys.has(o.key));
    if (match.length > 0) return { kind: 'match', file, lines: match.map((o) => o.line) };
  }
  return firstFile === undefined ? { kind: 'none' } : { kind: 'mismatch', file: firstFile };
}

/** The warning when a host's SOCKS proxy had to move (something else listens on its port now). */
export function socksMoved(host: string, from: number | undefined, to: number): string {
  return `${from ? `127.0.0.1:${from} is taken by another program, so ` : ''}the SOCKS5 proxy of host ${host} now listens on 127.0.0.1:${to} (\`cilo host status ${host}\` shows it).`;
}
