/**
 * Ports published on the host's 127.0.0.1 (issue #25): every port a service exposes that is not
 * its HTTP port (the router serves that one by name) gets a loopback port chosen by cilo, so a
 * database or a queue answers from the host on any Docker (Desktop, Colima, rootless, a remote
 * host through SSH). Pure: which ports, the compose entries, what is taken; core chooses.
 */
import type { ComposeService } from './compose-model.js';
import { servicePort } from './env-model.js';
import type { EnvironmentState, State } from './state.js';

/** Where cilo starts looking for loopback ports; above the usual ephemeral-free ranges of dev servers. */
export const HOST_PORT_FIRST = 42000;
export const HOST_PORT_LAST = 48999;

/**
 * Well-known ports that are never HTTP: a service whose first port is one of these (a database
 * alone in its service) has no HTTP port, so that port is published too.
 */
export const NON_HTTP_PORTS: readonly number[] = [
  21, 22, 25, 53, 110, 143, 389, 465, 587, 636, 993, 995, 1433, 1521, 1883, 2181, 3306, 4222, 5432, 5433, 5672, 6379, 6380, 7000, 7001, 8086, 8883, 9000, 9042, 9092, 9093, 9200, 9300, 11211, 26257, 27017, 27018, 28015, 61613, 61616,
];

/** A container port's key in `host_ports`: `5432` (TCP), `53/udp`. */
export function portKey(port: number, protocol: string | undefined): string {
  const p = (protocol ?? 'tcp').toLowerCase();
  return p === 'tcp' ? String(port) : `${port}/${p}`;
}

export function parsePortKey(key: string): { target: number; protocol: string } {
  const [n, p] = key.split('/');
  return { target: Number(n), protocol: p ?? 'tcp' };
}

/**
 * The ports a service exposes (compose `ports` targets, `expose`), as keys. A range (`8000-8010`)
 * is left out: cilo publishes single ports only.
 */
export function exposedPortKeys(svc: ComposeService): string[] {
  const out = new Set<string>();
  for (const p of svc.ports ?? []) if (typeof p.target === 'number') out.add(portKey(p.target, p.protocol));
  for (const e of svc.expose ?? []) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(String(e).trim());
    if (m) out.add(portKey(Number(m[1]), m[2]));
  }
  return [...out];
}

/** The service's ports to publish on 127.0.0.1: all it exposes but its HTTP port (unless that is a well-known non-HTTP port). */
export function portsToPublish(svc: ComposeService): string[] {
  const http = servicePort(svc);
  const skip = http === undefined || NON_HTTP_PORTS.includes(http) ? undefined : String(http);
  return exposedPortKeys(svc)
    .filter((k) => k !== skip)
    .sort((a, b) => parsePortKey(a).target - parsePortKey(b).target || a.localeCompare(b));
}

/**
 * Every loopback port this home has given out: environments' own services and shared services
 * (an environment's copy of a shared service's ports mirrors the shared record, which holds them).
 */
export function takenHostPorts(state: State): Set<number> {
  const out = new Set<number>();
  for (const env of Object.values(state.environments)) for (const s of Object.values(env.services)) if (s.type === 'isolated') for (const p of Object.values(s.host_ports ?? {})) out.add(p);
  for (const rec of Object.values(state.shared_services)) for (const p of Object.values(rec.host_ports ?? {})) out.add(p);
  return out;
}

/** Long-syntax compose `ports` entries publishing each container port on 127.0.0.1 only. */
export function publishedPorts(hostPorts: Record<string, number>): { target: number; published: string; host_ip: string; protocol: string }[] {
  return Object.entries(hostPorts)
    .sort(([a], [b]) => parsePortKey(a).target - parsePortKey(b).target || a.localeCompare(b))
    .map(([key, published]) => {
      const { target, protocol } = parsePortKey(key);
      return { target, published: String(published), host_ip: '127.0.0.1', protocol };
    });
}

/** `53/udp:42001,5432:42000`: what a container publishes, as a label (a change recreates a shared container). */
export function hostPortsLabel(hostPorts: Record<string, number>): string {
  return Object.entries(hostPorts)
    .map(([k, v]) => `${k}:${v}`)
    .sort()
    .join(',');
}

/** `CILO_SERVICE_<NAME>_PORT_<N>` suffix of a container port: `5432` -> `5432`, `53/udp` -> `53_UDP`. */
export function portVarSuffix(key: string): string {
  const { target, protocol } = parsePortKey(key);
  return protocol === 'tcp' ? String(target) : `${target}_${protocol.toUpperCase()}`;
}

/** Every loopback port an environment's services publish (its own and its shared services'), sorted. */
export function allHostPorts(env: Pick<EnvironmentState, 'services'>): number[] {
  return [...new Set(Object.values(env.services).flatMap((s) => Object.values(s.host_ports ?? {})))].sort((a, b) => a - b);
}

/** The loopback ports of the environment's own (isolated) services, which go with it. */
export function ownHostPorts(env: Pick<EnvironmentState, 'services'>): number[] {
  return [...new Set(Object.values(env.services).flatMap((s) => (s.type === 'isolated' ? Object.values(s.host_ports ?? {}) : [])))].sort((a, b) => a - b);
}

/** The port each engine of a private dataset listens on in its container. */
const ENGINE_PORTS: Record<string, string> = { postgres: '5432', mariadb: '3306', mysql: '3306', redis: '6379', valkey: '6379' };

/**
 * A URL that reaches a private dataset from the host through its published loopback port:
 * `postgres://<user>@127.0.0.1:P/<db>`, `mysql://<user>@127.0.0.1:P/<db>`, `redis://127.0.0.1:P/<index>`.
 * The user is the service's own (POSTGRES_USER, MARIADB_USER/MYSQL_USER), else the engine's
 * administrator; a password is never part of it. Undefined when the port is not published.
 */
export function datasetDsn(engine: string, name: string, hostPorts: Record<string, number> | undefined, environment: Record<string, string>): string | undefined {
  const key = ENGINE_PORTS[engine];
  if (key === undefined) return undefined;
  const port = hostPorts?.[key];
  if (port === undefined) return undefined;
  const at = `127.0.0.1:${port}`;
  const user = (u: string): string => encodeURIComponent(u);
  switch (engine) {
    case 'postgres':
      return `postgres://${user(environment.POSTGRES_USER || 'postgres')}@${at}/${encodeURIComponent(name)}`;
    case 'mariadb':
    case 'mysql':
      return `mysql://${user(environment.MARIADB_USER || environment.MYSQL_USER || 'root')}@${at}/${encodeURIComponent(name)}`;
    default:
      return `redis://${at}/${name}`;
  }
}

/**
 * A shared service's ports to publish: as any service's, and the engine's own port when it gives
 * environments datasets (an image's EXPOSE is not in the compose model, and each dataset's `dsn` needs it).
 */
export function sharedPortsToPublish(svc: ComposeService, datasetEngine: string | undefined): string[] {
  const ports = portsToPublish(svc);
  const own = datasetEngine === undefined ? undefined : ENGINE_PORTS[datasetEngine];
  return own === undefined || ports.includes(own) ? ports : [...ports, own].sort((a, b) => parsePortKey(a).target - parsePortKey(b).target || a.localeCompare(b));
}

/**
 * The order a home tries loopback ports in: the whole range, starting at a block of 100 that
 * depends on the home's id (wrapping around), so two homes on one machine (test suites, a second
 * CILO_HOME) rarely reach for the same port while one of them is down and not listening on it.
 */
export function hostPortCandidates(homeId: string): number[] {
  const size = HOST_PORT_LAST - HOST_PORT_FIRST + 1;
  const start = (parseInt(homeId.slice(0, 8), 16) % Math.floor(size / 100)) * 100;
  return Array.from({ length: size }, (_, i) => HOST_PORT_FIRST + ((start + i) % size));
}
