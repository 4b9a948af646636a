/**
 * The DNS zone cilo serves, built from state, and the answer to one question. Pure: no I/O,
 * so every naming rule is unit-tested with plain data (zone.test.ts).
 *
 * Names, for every environment whose status is `running`, or `paused` by the supervisor for
 * being idle (issue #26: the first query for one of its names wakes it) (SPEC, DNS):
 *   <service>.<env><suffix>             the service's IP (isolated or shared); every replica's IP for a scaled one
 *   <hostname>.<env><suffix>            the ingress IP, for each custom hostname
 *   <hostname>.<env><suffix>            a service's IP, for each of its own cilo.hostnames
 *   <project>.<env><suffix>             the ingress IP (apex)
 *   *.<project>.<env><suffix>           the ingress IP, at any depth (wildcard)
 *
 * For an environment whose site runs in router mode (issue #25) every one of those names
 * answers 127.0.0.1 instead: the host reaches it through the loopback router (and published
 * ports), not at container addresses it may have no route to. Only the host asks this server;
 * containers resolve the same names through Docker's embedded DNS (network aliases).
 */
import { DEFAULT_DNS_SUFFIX, type EnvironmentState, type ServiceState, type State } from '../domain/state.js';
import { suffixLabels } from '../domain/names.js';
import { answersWithRouter, ROUTER_ADDRESS } from '../domain/host-reach.js';
import { isIdlePaused } from '../domain/idle.js';

/** Short, so a resolver's cache never hides a change for long (state answers within 100 ms). */
export const DNS_TTL = 5;

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'REFUSED';

export interface Zone {
  /** Suffixes served, lower case without leading or trailing dot (`test`, `dev.local`), longest first. */
  readonly suffixes: readonly string[];
  /** Exact names (lower case, no trailing dot) and their IPv4 addresses (several for a scaled service). */
  readonly records: ReadonlyMap<string, readonly string[]>;
  /** Apex names whose every descendant answers with the apex's addresses. */
  readonly wildcards: ReadonlyMap<string, readonly string[]>;
  /**
   * Names that own no record but have names below them (`<env><suffix>`, the suffix itself).
   * RFC 8020: NXDOMAIN means "nothing below exists either", and resolvers that minimise query
   * names would then never ask for `api.<env><suffix>`; such names answer NOERROR, no data.
   */
  readonly nonTerminals: ReadonlySet<string>;
  /** The environment each name of `records` belongs to, and each apex of `wildcards`. */
  readonly owners: ReadonlyMap<string, string>;
  readonly wildcardOwners: ReadonlyMap<string, string>;
  /** Environments paused for being idle: an answer for one of their names waits for its wake. */
  readonly sleeping: ReadonlySet<string>;
  readonly ttl: number;
}

export interface ZoneAnswerRecord {
  name: string;
  type: 'A';
  ttl: number;
  data: string;
}

export interface ZoneAnswer {
  rcode: Rcode;
  answers: ZoneAnswerRecord[];
  authoritative: boolean;
  /** The environment whose name was asked (any record type): a use of it. */
  env?: string;
  /** Set (to `env`) when that environment is idle-paused: wake it before answering. */
  wake?: string;
}

/** A query name in zone-key form: ASCII lower case (DNS case rules, RFC 4343), no trailing dot. */
function zoneKey(name: string): string {
  return name.replace(/\.$/, '').replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * A service's addresses: its fixed IP, or each replica's. State written by older versions may
 * hold junk (the original concatenated several IPs), and a replicated service that never ran has none.
 */
function containerAddresses(s: ServiceState | undefined): string[] {
  if (s === undefined) return [];
  return (s.replicas ?? [s.ip]).filter((ip) => IPV4.test(ip));
}

/** A relative label sequence (`admin`, `api.v2`) under `base`; a full name already under it is kept. */
function under(label: string, base: string): string | undefined {
  const l = zoneKey(label.trim());
  if (l === '' || l.startsWith('.') || l.includes('..')) return undefined;
  if (l === base || l.endsWith(`.${base}`)) return l;
  return `${l}.${base}`;
}

interface ZoneMaps {
  records: Map<string, readonly string[]>;
  wildcards: Map<string, readonly string[]>;
  owners: Map<string, string>;
  wildcardOwners: Map<string, string>;
}

function addRecords(env: EnvironmentState, viaRouter: boolean, { records, wildcards, owners, wildcardOwners }: ZoneMaps): void {
  const suffix = suffixLabels(env.dns_suffix || DEFAULT_DNS_SUFFIX);
  const base = zoneKey(suffix === '' ? env.name : `${env.name}.${suffix}`);
  // A name with no address (a scaled service with no replica) stays absent in router mode too.
  const addressesOf = (s: ServiceState | undefined): string[] => {
    const ips = containerAddresses(s);
    return viaRouter && ips.length > 0 ? [ROUTER_ADDRESS] : ips;
  };
  const ingressIps = env.ingress === null ? [] : addressesOf(env.services[env.ingress]);
  // Only the first record set for a name counts (one answer per name). Precedence, deterministic:
  // apex (CILO_BASE_URL must reach the ingress), then services, then custom hostnames, then
  // hostnames of other services.
  const put = (name: string | undefined, ips: string[]): void => {
    if (name !== undefined && ips.length > 0 && !records.has(name)) {
      records.set(name, ips);
      owners.set(name, env.name);
    }
  };
  const apex = under(env.project, base);
  put(apex, ingressIps);
  if (apex !== undefined && ingressIps.length > 0) {
    wildcards.set(apex, ingressIps);
    wildcardOwners.set(apex, env.name);
  }
  for (const service of Object.keys(env.services).sort()) put(under(service, base), addressesOf(env.services[service]));
  for (const host of env.hostnames) put(under(host, base), ingressIps);
  for (const service of Object.keys(env.services).sort()) {
    const s = env.services[service];
    for (const host of s?.hostnames ?? []) put(under(host, base), addressesOf(s));
  }
}

/** Every proper ancestor of `name` down to (and including) its suffix. */
function ancestors(name: string, suffix: string): string[] {
  const out: string[] = [];
  let n = name;
  while (n !== suffix) {
    const dot = n.indexOf('.');
    if (dot < 0) break;
    n = n.slice(dot + 1);
    out.push(n);
  }
  return out;
}

export function buildZone(state: State): Zone {
  // The home's default suffix (`cilo init --dns-suffix`) is served from the start, as `.test` is.
  const suffixSet = new Set<string>([suffixLabels(DEFAULT_DNS_SUFFIX), ...(state.dns_suffix ? [suffixLabels(state.dns_suffix)] : [])].filter((x) => x !== ''));
  const maps: ZoneMaps = { records: new Map(), wildcards: new Map(), owners: new Map(), wildcardOwners: new Map() };
  const { records, wildcards, owners, wildcardOwners } = maps;
  const sleeping = new Set<string>();
  // Sorted so that, should two environments ever claim one name, the same one always wins.
  const envs = Object.values(state.environments).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const env of envs) {
    const s = suffixLabels(env.dns_suffix || DEFAULT_DNS_SUFFIX);
    if (s !== '') suffixSet.add(s);
    // A running environment that is being up'ped again keeps its (fixed) addresses: its names
    // must not flicker to NXDOMAIN while compose works. One paused for being idle keeps them too
    // (its first query wakes it); one paused by `down --pause` or stopped has none.
    const idle = isIdlePaused(env);
    if (idle) sleeping.add(env.name);
    if (env.status === 'running' || env.status === 'starting' || idle) addRecords(env, answersWithRouter(state, env), maps);
  }
  const suffixes = [...suffixSet].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const nonTerminals = new Set<string>();
  for (const name of [...records.keys(), ...wildcards.keys()]) {
    const suffix = suffixOf(suffixes, name);
    if (suffix === undefined) continue;
    for (const a of ancestors(name, suffix)) if (!records.has(a)) nonTerminals.add(a);
  }
  return { suffixes, records, wildcards, nonTerminals, owners, wildcardOwners, sleeping, ttl: DNS_TTL };
}

function suffixOf(suffixes: readonly string[], name: string): string | undefined {
  return suffixes.find((s) => name === s || name.endsWith(`.${s}`));
}

/**
 * The addresses a name resolves to and the environment it belongs to: an exact record, else the
 * nearest enclosing wildcard apex.
 */
function lookup(zone: Zone, name: string, suffix: string): { ips: readonly string[]; env: string | undefined } | undefined {
  const exact = zone.records.get(name);
  if (exact !== undefined) return { ips: exact, env: zone.owners.get(name) };
  let n = name;
  while (n !== suffix) {
    const dot = n.indexOf('.');
    if (dot < 0) return undefined;
    n = n.slice(dot + 1);
    const ip = zone.wildcards.get(n);
    if (ip !== undefined) return { ips: ip, env: zone.wildcardOwners.get(n) };
  }
  return undefined;
}

/** Marks an answer about one of `env`'s names with it and, when it sleeps, as needing its wake. */
function marked(zone: Zone, out: ZoneAnswer, env: string | undefined): ZoneAnswer {
  if (env === undefined) return out;
  out.env = env;
  if (zone.sleeping.has(env)) out.wake = env;
  return out;
}

/**
 * Answers one question. `name` as asked (any case, trailing dot optional); answers carry that
 * same spelling. `type` is a record type name (`A`, `AAAA`, `ANY`, `TYPE65`...).
 */
export function answer(zone: Zone, name: string, type: string): ZoneAnswer {
  const q = zoneKey(name);
  const suffix = suffixOf(zone.suffixes, q);
  if (suffix === undefined) return { rcode: 'REFUSED', answers: [], authoritative: false };
  const found = lookup(zone, q, suffix);
  if (found === undefined) {
    return { rcode: zone.nonTerminals.has(q) ? 'NOERROR' : 'NXDOMAIN', answers: [], authoritative: true };
  }
  // ANY is answered with what we have (RFC 8482 allows a subset); other types: NOERROR, no data.
  // Either way the name is the environment's: asking for its AAAA is a use too (and a resolver
  // asks for both at once, so the no-data answer waits for the wake as the address does).
  if (type !== 'A' && type !== 'ANY') return marked(zone, { rcode: 'NOERROR', answers: [], authoritative: true }, found.env);
  const answers: ZoneAnswerRecord[] = found.ips.map((ip) => ({ name: name.replace(/\.$/, ''), type: 'A', ttl: zone.ttl, data: ip }));
  return marked(zone, { rcode: 'NOERROR', answers, authoritative: true }, found.env);
}

/** How many names the zone answers (for logs). */
export function zoneSize(zone: Zone): number {
  return zone.records.size;
}
