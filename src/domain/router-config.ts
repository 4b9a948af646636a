/**
 * The loopback router (issue #25): one Caddy container per engine, publishing on 127.0.0.1 only,
 * that serves every routed environment's names by `Host` (HTTP) and by SNI (HTTPS). Pure: the
 * routes of the environments, the names each one's certificate covers, Caddy's JSON config, and
 * the compose model of the container. No I/O (core/router does that).
 *
 * Routes mirror the DNS zone (dns/zone.ts), first claim of a name wins:
 *   <project>.<env><suffix>              the ingress (apex)
 *   <service>.<env><suffix>              each service, at ServiceState.port (default 80)
 *   <hostname>.<env><suffix>             the ingress, for each of the environment's hostnames
 *   <hostname>.<env><suffix>             a service, for each of its own cilo.hostnames
 *   *.<project>.<env><suffix>            the ingress (one and two labels deep: Caddy's `*` is one label)
 */
import { createHash } from 'node:crypto';
import type { ComposeModel } from './compose-model.js';
import { LABELS } from './names.js';
import type { EnvironmentState, ServiceState } from './state.js';

/** Environments whose status is one of these are routed (as the DNS zone serves them). */
const ROUTED_STATUSES: readonly string[] = ['running', 'starting'];

/** The admin endpoint inside the container, reached only from inside it (`caddy reload` by exec). */
export const ROUTER_ADMIN = 'localhost:2019';
/** What users get without CILO_ROUTER_IMAGE. */
export const DEFAULT_ROUTER_IMAGE = 'caddy:2-alpine';
/** Marks the router container (besides `cilo` and `cilo.home`), by which it is found. */
export const ROUTER_LABEL = 'cilo.router';
/** The hash of the container's model: a different one (other ports, image) makes it again. */
export const ROUTER_HASH_LABEL = 'cilo.router.hash';

export type RoutedEnvironment = Pick<EnvironmentState, 'name' | 'project' | 'dns_suffix' | 'ingress' | 'hostnames' | 'services' | 'status' | 'subnet'>;

/** One name served, and where its requests go. */
export interface RouterRoute {
  /** Lower case; `*.` at the start for a wildcard. */
  host: string;
  env: string;
  service: string;
  /** `ip:port` of each address of the service (several for a scaled one). */
  upstreams: string[];
}

/** Whether the environment's names are served now. */
export function isRouted(env: Pick<EnvironmentState, 'status'>): boolean {
  return ROUTED_STATUSES.includes(env.status);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function upstreamsOf(s: ServiceState | undefined): string[] {
  if (s === undefined) return [];
  const port = s.port ?? 80;
  return (s.replicas ?? [s.ip]).filter((ip) => IPV4.test(ip)).map((ip) => `${ip}:${port}`);
}

/** `<env><suffix>` in lower case, without dots at either end. */
export function envBase(env: Pick<EnvironmentState, 'name' | 'dns_suffix'>): string {
  return `${env.name}${env.dns_suffix}`.toLowerCase().replace(/^\.+|\.+$/g, '');
}

/** The routes of one environment, in the DNS zone's order of precedence. */
export function environmentRoutes(env: RoutedEnvironment): RouterRoute[] {
  const base = envBase(env);
  const out: RouterRoute[] = [];
  const taken = new Set<string>();
  const put = (label: string, service: string | null): void => {
    if (service === null) return;
    const upstreams = upstreamsOf(env.services[service]);
    const host = `${label.toLowerCase()}.${base}`;
    if (upstreams.length === 0 || taken.has(host)) return;
    taken.add(host);
    out.push({ host, env: env.name, service, upstreams });
  };
  put(env.project, env.ingress);
  const services = Object.keys(env.services).sort();
  for (const s of services) put(s, s);
  for (const h of env.hostnames) put(h, env.ingress);
  for (const s of services) for (const h of env.services[s]?.hostnames ?? []) put(h, s);
  if (env.ingress !== null && taken.has(`${env.project.toLowerCase()}.${base}`)) {
    put(`*.${env.project}`, env.ingress);
    put(`*.*.${env.project}`, env.ingress);
  }
  return out;
}

/** Every route of the routed environments, by environment name. */
export function routerRoutes(envs: readonly RoutedEnvironment[]): RouterRoute[] {
  return [...envs]
    .filter(isRouted)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap(environmentRoutes);
}

/**
 * The names an environment's certificate covers: `<env><suffix>`, `*.<env><suffix>` (services,
 * the apex, one-label hostnames), and a wildcard for the parent of every deeper name (an X.509
 * wildcard covers one label: `*.agent-1.test` does not cover `docs.v2.agent-1.test`).
 */
export function certificateNames(env: Pick<EnvironmentState, 'name' | 'dns_suffix'>, routes: readonly RouterRoute[]): string[] {
  const base = envBase(env);
  const names = new Set<string>([base, `*.${base}`]);
  for (const r of routes) {
    if (r.env !== env.name) continue;
    const parent = r.host.slice(r.host.indexOf('.') + 1);
    if (parent !== base && !parent.startsWith('*.')) names.add(`*.${parent}`);
  }
  return [...names].sort();
}

/** A certificate and its key (PEM), for one environment's names. */
export interface RouterCertificate {
  env: string;
  cert: string;
  key: string;
}

export interface RouterConfigInput {
  routes: readonly RouterRoute[];
  /** Without any, no HTTPS server is configured (the CA could not issue). */
  certificates: readonly RouterCertificate[];
}

/** The part of Caddy's JSON config cilo writes (https://caddyserver.com/docs/json/). */
export interface CaddyConfig {
  admin: { listen: string };
  apps: {
    http: { servers: Record<string, CaddyServer> };
    tls?: { certificates: { load_pem: { certificate: string; key: string; tags: string[] }[] } };
  };
}

export interface CaddyServer {
  listen: string[];
  routes: CaddyRoute[];
  automatic_https: { disable: true };
  tls_connection_policies?: Record<string, never>[];
}

export type CaddyRoute =
  | { match: { host: string[] }[]; handle: { handler: 'reverse_proxy'; upstreams: { dial: string }[] }[]; terminal: true }
  | { handle: { handler: 'static_response'; status_code: number; body: string }[]; terminal: true };

/** The last route: a name no running environment serves gets a 404 that says so (Caddy's own answer is an empty 200). */
const NOT_SERVED: CaddyRoute = { handle: [{ handler: 'static_response', status_code: 404, body: 'cilo: no running environment serves {http.request.host}\n' }], terminal: true };

/**
 * Caddy's config: an HTTP server on :80 and, with certificates, an HTTPS server on :443 (inside
 * the container), both routing by host; automatic HTTPS off (no redirects, no ACME). Names with
 * the same upstreams share one route; exact names come before wildcards.
 */
export function caddyConfig(input: RouterConfigInput): CaddyConfig {
  const routes = caddyRoutes(input.routes);
  const servers: Record<string, CaddyServer> = {
    http: { listen: [':80'], routes, automatic_https: { disable: true } },
  };
  const config: CaddyConfig = { admin: { listen: ROUTER_ADMIN }, apps: { http: { servers } } };
  if (input.certificates.length > 0) {
    servers.https = { listen: [':443'], routes, automatic_https: { disable: true }, tls_connection_policies: [{}] };
    config.apps.tls = {
      certificates: { load_pem: [...input.certificates].sort((a, b) => (a.env < b.env ? -1 : 1)).map((c) => ({ certificate: c.cert, key: c.key, tags: [`cilo-env-${c.env}`] })) },
    };
  }
  return config;
}

function caddyRoutes(routes: readonly RouterRoute[]): CaddyRoute[] {
  const exact = routes.filter((r) => !r.host.startsWith('*.'));
  const wild = routes.filter((r) => r.host.startsWith('*.'));
  const out: CaddyRoute[] = [];
  for (const group of [exact, wild]) {
    const byUpstreams = new Map<string, string[]>();
    for (const r of group) {
      const key = r.upstreams.join(' ');
      byUpstreams.set(key, [...(byUpstreams.get(key) ?? []), r.host]);
    }
    for (const [key, hosts] of byUpstreams) {
      out.push({ match: [{ host: hosts }], handle: [{ handler: 'reverse_proxy', upstreams: key.split(' ').map((dial) => ({ dial })) }], terminal: true });
    }
  }
  out.push(NOT_SERVED);
  return out;
}

/** The router container's name and compose project for one CILO_HOME. */
export function routerContainerName(homeId: string): string {
  return `cilo-router-${homeId}`;
}

export function routerLabels(homeId: string): Record<string, string> {
  return { [LABELS.managed]: 'true', [LABELS.home]: homeId, [ROUTER_LABEL]: 'true' };
}

export interface RouterModelInput {
  homeId: string;
  image: string;
  httpPort: number;
  httpsPort: number;
}

/**
 * The compose model of the router container: published on 127.0.0.1 only, on the engine's
 * default bridge (each environment's network is connected to it by cilo, at its router
 * address); `caddy run --resume` starts from the last config pushed (an engine restart keeps
 * its routes) or none. Carries the hash of what it is made from.
 */
export function renderRouterModel(input: RouterModelInput): ComposeModel {
  const name = routerContainerName(input.homeId);
  const service = {
    image: input.image,
    container_name: name,
    command: ['caddy', 'run', '--resume'],
    network_mode: 'bridge',
    restart: 'unless-stopped',
    ports: [
      { target: 80, published: String(input.httpPort), host_ip: '127.0.0.1', protocol: 'tcp' },
      { target: 443, published: String(input.httpsPort), host_ip: '127.0.0.1', protocol: 'tcp' },
    ],
  };
  const hash = createHash('sha256').update(JSON.stringify(service)).digest('hex').slice(0, 16);
  return { name, services: { router: { ...service, labels: { ...routerLabels(input.homeId), [ROUTER_HASH_LABEL]: hash } } } };
}

/** The hash a router container made from this input carries. */
export function routerModelHash(input: RouterModelInput): string {
  return renderRouterModel(input).services.router?.labels?.[ROUTER_HASH_LABEL] ?? '';
}
