/**
 * Reading a state file written by the original cilo (Go), version 2:
 *
 *   { "version": 2, "base_subnet": "10.224.", "dns_port": 5354, "subnet_counter": 3,
 *     "hosts": { "local": { "environments": { "<project>/<env>": { name, project, created_at,
 *         subnet, dns_suffix, status, source, services: { <svc>: { name, ip, container, url,
 *         is_ingress, hostnames } }, uses_shared_services } } } },
 *     "shared_services": { "<project>/<service>": { name, container, ip, project, image,
 *         config_hash, created_at, used_by: ["<project>/<env>"], disconnect_timeout } } }
 *
 * Pure: text in, version-3 state out (no I/O). Liberal in what it accepts, because those files
 * were written by a program with known defects (several IPs concatenated in one field, zero
 * times, missing fields); whatever cannot be kept is listed in `notes`, and the original file
 * is kept as a backup by the caller.
 */
import { normalizeName, NAME_RULE } from '../domain/names.js';
import { allocateSubnet, parseCidr, formatCidr, ipToInt } from '../domain/subnet.js';
import { DEFAULT_BASE_SUBNET, DEFAULT_DNS_SUFFIX, STATE_VERSION, type EnvironmentState, type EnvStatus, type ServiceState, type SharedServiceState, type State } from '../domain/state.js';

export interface MigrateOptions {
  /** Where version-2 workspaces live: `<envsDir>/<project>/<env>` (the same layout as ours). */
  envsDir: string;
  /** DNS port when the old file names none. */
  dnsPort: number;
  now?: Date;
}

export interface MigrateResult {
  state: State;
  /** What could not be carried over as it was (renamed environments, dropped entries...). */
  notes: string[];
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.trim() !== '' ? x.trim() : undefined;
}

function strList(x: unknown): string[] {
  return Array.isArray(x) ? x.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim()) : [];
}

/** True for a state written by the original: version 1 or 2, or no version and its fields. */
export function isLegacyState(data: unknown): boolean {
  if (!isObj(data)) return false;
  const version = data.version;
  if (typeof version === 'number') return version < STATE_VERSION;
  if (version !== undefined) return false;
  return 'hosts' in data || 'subnet_counter' in data || 'base_subnet' in data;
}

export function legacyVersion(data: unknown): number {
  return isObj(data) && typeof data.version === 'number' ? data.version : 2;
}

/** `"10.224."` (the original's prefix form) or a CIDR -> a CIDR; anything else -> undefined. */
export function legacyBaseToCidr(raw: unknown): string | undefined {
  const s = str(raw);
  if (!s) return undefined;
  if (s.includes('/')) {
    try {
      return formatCidr(parseCidr(s));
    } catch {
      return undefined;
    }
  }
  const octets = s.replace(/\.+$/, '').split('.');
  if (octets.length < 1 || octets.length > 3 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return undefined;
  const prefix = octets.length * 8;
  const ip = [...octets, ...Array(4 - octets.length).fill('0')].join('.');
  try {
    return formatCidr(parseCidr(`${ip}/${Math.max(prefix, 8)}`));
  } catch {
    return undefined;
  }
}

const IPV4 = /(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}/;

/** The first IPv4 address in a field (the original sometimes stored several, concatenated). */
export function firstIp(raw: unknown): string | undefined {
  const s = str(raw);
  return s ? IPV4.exec(s)?.[0] : undefined;
}

function inSubnet(ip: string, subnet: string): boolean {
  try {
    const net = parseCidr(subnet);
    const n = ipToInt(ip);
    return n >= net.base && n < net.base + 2 ** (32 - net.prefix);
  } catch {
    return false;
  }
}

/** A Go time (RFC 3339, or the zero time `0001-01-01T00:00:00Z`) -> ISO string, or undefined. */
function time(raw: unknown): string | undefined {
  const s = str(raw);
  if (!s || s.startsWith('0001-01-01')) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

function status(raw: unknown): EnvStatus {
  // Containers of the original carry its own names, not ours: nothing of cilo's runs yet.
  switch (str(raw)) {
    case 'created':
      return 'created';
    default:
      return 'stopped';
  }
}

function validName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const n = normalizeName(raw);
  return NAME_RULE.test(n) ? n : undefined;
}

interface LegacyEnv {
  key: string;
  project: string;
  name: string;
  /** The directory the original kept its workspace in (its own names, before normalizing). */
  dir: string;
  raw: Obj;
}

/** A name usable as one path segment as it is. */
function segment(raw: string | undefined, fallback: string): string {
  return raw !== undefined && /^[A-Za-z0-9._-]+$/.test(raw) && raw !== '.' && raw !== '..' ? raw : fallback;
}

function collectEnvironments(data: Obj, notes: string[]): LegacyEnv[] {
  const maps: Obj[] = [];
  if (isObj(data.hosts)) for (const host of Object.values(data.hosts)) if (isObj(host) && isObj(host.environments)) maps.push(host.environments);
  // Liberal: a top-level `environments` map keyed "<project>/<env>" (older layouts).
  if (isObj(data.environments)) maps.push(data.environments);
  const out: LegacyEnv[] = [];
  const seen = new Set<string>();
  for (const m of maps) {
    for (const [key, raw] of Object.entries(m)) {
      if (!isObj(raw) || seen.has(key)) continue;
      seen.add(key);
      const slash = key.indexOf('/');
      const rawProject = str(raw.project) ?? (slash > 0 ? key.slice(0, slash) : undefined);
      const rawName = str(raw.name) ?? (slash >= 0 ? key.slice(slash + 1) : key);
      const project = validName(rawProject);
      const name = validName(rawName);
      if (!project || !name) {
        notes.push(`environment "${key}" was dropped: its project or environment name is not valid`);
        continue;
      }
      if (rawProject !== project || rawName !== name) notes.push(`environment "${rawProject}/${rawName}" was renamed to "${project}/${name}": names are lowercase, with "-" for "_" and "/"`);
      out.push({ key, project, name, dir: `${segment(rawProject, project)}/${segment(rawName, name)}`, raw });
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Converts a parsed version-2 state to version 3. */
export function migrateLegacyState(data: unknown, opts: MigrateOptions): MigrateResult {
  const notes: string[] = [];
  const src = isObj(data) ? data : {};
  const now = (opts.now ?? new Date()).toISOString();
  const base = legacyBaseToCidr(src.base_subnet) ?? (Array.isArray(src.base_subnets) ? legacyBaseToCidr(src.base_subnets[0]) : undefined) ?? DEFAULT_BASE_SUBNET;
  const port = typeof src.dns_port === 'number' && Number.isInteger(src.dns_port) && src.dns_port > 0 && src.dns_port < 65536 ? src.dns_port : opts.dnsPort;
  const state: State = { version: STATE_VERSION, base_subnets: [base], dns_port: port, environments: {}, shared_services: {} };

  // The original's names were unique per project only; ours are unique per host (DNS names).
  const legacy = collectEnvironments(src, notes);
  const pendingSubnet: EnvironmentState[] = [];
  for (const e of legacy) {
    let name = e.name;
    if (state.environments[name]) {
      const renamed = validName(`${e.name}-${e.project}`.slice(0, 63));
      if (!renamed || state.environments[renamed]) {
        notes.push(`environment "${e.key}" was dropped: its name is taken by another project's environment`);
        continue;
      }
      notes.push(`environment "${e.key}" was renamed to "${renamed}": environment names are unique on a host`);
      name = renamed;
    }
    const sharedNames = strList(e.raw.uses_shared_services ?? e.raw.shared);
    const subnet = str(e.raw.subnet);
    let validSubnet: string | undefined;
    try {
      validSubnet = subnet ? formatCidr(parseCidr(subnet)) : undefined;
      if (validSubnet && !validSubnet.endsWith('/24')) validSubnet = undefined;
    } catch {
      validSubnet = undefined;
    }
    const services: Record<string, ServiceState> = {};
    let ingress: string | null = null;
    const hostnames: string[] = [];
    const rawServices = isObj(e.raw.services) ? e.raw.services : {};
    for (const [svcName, svc] of Object.entries(rawServices).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!isObj(svc)) continue;
      const ip = firstIp(svc.ip);
      // The original marked every service with hostnames as an ingress: the first is the
      // environment's; the others answer their own names.
      const own = strList(svc.hostnames).map((h) => h.toLowerCase());
      if (svc.is_ingress === true && ingress === null) ingress = svcName;
      if (svcName === ingress) hostnames.push(...own);
      if (!ip || (validSubnet && !inSubnet(ip, validSubnet))) continue; // `up` assigns a fresh one
      services[svcName] = { ip, type: sharedNames.includes(svcName) ? 'shared' : 'isolated', ...(svcName !== ingress && own.length > 0 ? { hostnames: own } : {}) };
    }
    const created = time(e.raw.created_at) ?? now;
    const suffix = str(e.raw.dns_suffix) ?? DEFAULT_DNS_SUFFIX;
    const rec: EnvironmentState = {
      name,
      project: e.project,
      source: str(e.raw.source) ?? '',
      // Where the original put it: a renamed environment keeps its directory.
      workspace: str(e.raw.workspace) ?? `${opts.envsDir}/${e.dir}`,
      subnet: validSubnet ?? '',
      dns_suffix: suffix.startsWith('.') ? suffix : `.${suffix}`,
      status: status(e.raw.status),
      created_at: created,
      updated_at: now,
      services,
      ingress,
      hostnames: [...new Set(hostnames)],
      // References are re-taken by the next `up`; the original's containers are not ours.
      shared: [],
    };
    if (!validSubnet) pendingSubnet.push(rec);
    state.environments[name] = rec;
  }

  // Environments whose subnet was missing or malformed get the lowest free one.
  for (const rec of pendingSubnet) {
    const taken = Object.values(state.environments).map((x) => x.subnet).filter((s) => s !== '');
    rec.subnet = allocateSubnet(state.base_subnets, taken);
    rec.services = {};
    notes.push(`environment "${rec.name}" had no valid subnet and was given ${rec.subnet}`);
  }

  const rawShared = isObj(src.shared_services) ? src.shared_services : {};
  for (const [key, raw] of Object.entries(rawShared)) {
    if (!isObj(raw)) continue;
    const slash = key.indexOf('/');
    const project = validName(str(raw.project) ?? (slash > 0 ? key.slice(0, slash) : undefined));
    const service = str(raw.name) ?? (slash >= 0 ? key.slice(slash + 1) : key);
    if (!project || !service) {
      notes.push(`shared service "${key}" was dropped: no project or service name`);
      continue;
    }
    const users = strList(raw.used_by);
    // Migrated environments are stopped, and a stopped environment holds no reference (as after
    // `down`). The record stays, without users and without a grace deadline, so nothing removes
    // the original's container behind the user's back; `cilo doctor` reports it.
    if (users.length > 0) notes.push(`shared service "${key}": the references of ${users.join(', ')} were dropped; the next \`up\` of each takes them again`);
    const rec: SharedServiceState = {
      project,
      service,
      container: str(raw.container) ?? `cilo_shared_${service}`,
      config_hash: str(raw.config_hash) ?? '',
      users: [],
      ips: {},
      grace_seconds: 60,
      grace_until: null,
      created_at: time(raw.created_at) ?? now,
    };
    state.shared_services[`${project}/${service}`] = rec;
  }
  return { state, notes };
}
