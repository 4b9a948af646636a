/**
 * The loopback router (issue #25): one Caddy container per engine, publishing on 127.0.0.1 only,
 * that serves every routed environment's names by `Host` (HTTP) and by SNI (HTTPS). Pure: the
 * names of the environments, Caddy's JSON config, and the compose model of the container. No
 * I/O (core/router does that).
 *
 * Names mirror the DNS zone (dns/zone.ts), first claim of a name wins:
 *   <project>.<env><suffix>              the ingress (apex)
 *   <service>.<env><suffix>              each service, at ServiceState.port (default 80)
 *   <hostname>.<env><suffix>             the ingress, for each of the environment's hostnames
 *   <hostname>.<env><suffix>             a service, for each of its own cilo.hostnames
 *   *.<project>.<env><suffix>            the ingress (one and two labels deep: Caddy's `*` is one label)
 *
 * No environment is in the config: an environment coming or going is no config change (a
 * config load makes Caddy 2.6 reset connections of every environment). The router is on every
 * routed environment's network, where each container has the aliases `<name>.<env><suffix>`
 * (env-model.ts serviceAliases); Caddy dials `{host}:{port}` and Docker's DNS inside the router
 * answers with the container's address. The config holds per suffix the port of each first label
 * (a project's, not an environment's: it changes only when a name first appears on the router),
 * and explicit routes only where no alias can answer: a name whose first label has two ports
 * across environments (exact routes, they follow those environments), hostnames added live with
 * `cilo hostnames` (aliases from the next `up`) and deeper hostnames (to `ip:port`). HTTPS: Caddy
 * issues each name's certificate on demand (at its first handshake) from cilo's CA.
 *
 * Requests wake idle-paused environments (issue #26): an environment the supervisor paused for
 * being idle stays routed (the router stays on its network, so a request reaches its frozen
 * container: the kernel completes the connection and the request waits in the socket until the
 * thaw). Every request first makes a subrequest to a server of Caddy's own on the container's
 * loopback (ROUTER_REQUESTS, as Caddyfile's forward_auth does), whose access log line goes to the
 * container's stdout as the request starts (the main servers' access logs come at its end, which
 * for a frozen container is never); cilo's DNS server follows that log (core/router/requests.ts),
 * marks the environment used and wakes it. The config holds no environment for this either.
 */
import { createHash } from 'node:crypto';
import type { ComposeModel } from './compose-model.js';
import { isIdlePaused } from './idle.js';
import { LABELS } from './names.js';
import type { EnvironmentState, ServiceState } from './state.js';

/** Environments whose status is one of these are routed (as the DNS zone serves them), and idle-paused ones (isRouted). */
const ROUTED_STATUSES: readonly string[] = ['running', 'starting'];

/** The admin endpoint inside the container, reached only from inside it (`caddy reload` by exec). */
export const ROUTER_ADMIN = 'localhost:2019';
/** Caddy's on-demand TLS asks here, on the container's loopback, whether a name may get a certificate. */
export const ROUTER_ASK = '127.0.0.1:2020';
/** Every request's subrequest goes here, on the container's loopback: its access log tells cilo of the request as it starts. */
export const ROUTER_REQUESTS = '127.0.0.1:2021';
/** The logger of those access log lines (Caddy's `http.log.access.<default_logger_name>`), written to stdout. */
export const ROUTER_REQUEST_LOGGER = 'http.log.access.cilo_request';
/**
 * Where the router's intermediate CA (certificate and key, PEM) is copied inside the container.
 * cilo's root key never is.
 */
export const ROUTER_CA_DIR = '/data/cilo-ca';
export const ROUTER_INTERMEDIATE_CERT = `${ROUTER_CA_DIR}/intermediate.crt`;
export const ROUTER_INTERMEDIATE_KEY = `${ROUTER_CA_DIR}/intermediate.key`;
/** Where an older cilo copied the root's certificate and key: removed from a router that has them. */
export const ROUTER_LEGACY_CA_FILES = [`${ROUTER_CA_DIR}/ca.crt`, `${ROUTER_CA_DIR}/ca.key`] as const;
/** What users get without CILO_ROUTER_IMAGE. */
export const DEFAULT_ROUTER_IMAGE = 'caddy:2-alpine';
/** Marks the router container (besides `cilo` and `cilo.home`), by which it is found. */
export const ROUTER_LABEL = 'cilo.router';
/** The hash of the container's model: a different one (other ports, image) makes it again. */
export const ROUTER_HASH_LABEL = 'cilo.router.hash';

export type RoutedEnvironment = Pick<EnvironmentState, 'name' | 'project' | 'dns_suffix' | 'ingress' | 'hostnames' | 'services' | 'status' | 'subnet'> & Partial<Pick<EnvironmentState, 'paused_by'>>;

/** One name served, and where its requests go. */
export interface RouterRoute {
  /** Lower case; `*.` at the start for a wildcard. */
  host: string;
  env: string;
  service: string;
  /** `ip:port` of each address of the service (several for a scaled one). */
  upstreams: string[];
  /** The service's HTTP port. */
  port: number;
  /** The name's part left of `<env><suffix>` (`web`, `docs.v2`, `*.shop`). */
  label: string;
  /** `name`: the apex or a service's name; `hostname`: a custom one; `wildcard`: below the apex. */
  kind: 'name' | 'hostname' | 'wildcard';
  /** The environment's suffix (suffixOf). */
  suffix: string;
}

/**
 * Whether the environment's names are served now: running, starting, or paused for being idle
 * (a request wakes it: the router stays on its network and the request waits for the thaw).
 */
export function isRouted(env: Pick<EnvironmentState, 'status'> & Partial<Pick<EnvironmentState, 'paused_by'>>): boolean {
  return ROUTED_STATUSES.includes(env.status) || isIdlePaused({ status: env.status, paused_by: env.paused_by });
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

/** The suffix in lower case with one leading dot (`.test`). */
export function suffixOf(env: Pick<EnvironmentState, 'dns_suffix'>): string {
  return `.${env.dns_suffix.toLowerCase().replace(/^\.+|\.+$/g, '')}`;
}

/** The names of one environment, in the DNS zone's order of precedence. */
export function environmentRoutes(env: RoutedEnvironment): RouterRoute[] {
  const base = envBase(env);
  const suffix = suffixOf(env);
  const out: RouterRoute[] = [];
  const taken = new Set<string>();
  const put = (label: string, service: string | null, kind: RouterRoute['kind']): void => {
    if (service === null) return;
    const s = env.services[service];
    const upstreams = upstreamsOf(s);
    const host = `${label.toLowerCase()}.${base}`;
    if (upstreams.length === 0 || taken.has(host)) return;
    taken.add(host);
    out.push({ host, env: env.name, service, upstreams, port: s?.port ?? 80, label: label.toLowerCase(), kind, suffix });
  };
  put(env.project, env.ingress, 'name');
  const services = Object.keys(env.services).sort();
  for (const s of services) put(s, s, 'name');
  for (const h of env.hostnames) put(h, env.ingress, 'hostname');
  for (const s of services) for (const h of env.services[s]?.hostnames ?? []) put(h, s, 'hostname');
  if (env.ingress !== null && taken.has(`${env.project.toLowerCase()}.${base}`)) {
    put(`*.${env.project}`, env.ingress, 'wildcard');
    put(`*.*.${env.project}`, env.ingress, 'wildcard');
  }
  return out;
}

/** Every name of the routed environments, by environment name. */
export function routerRoutes(envs: readonly RoutedEnvironment[]): RouterRoute[] {
  return [...envs]
    .filter(isRouted)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap(environmentRoutes);
}

/** Explicit routes: these exact names (or wildcards) to these dial addresses. */
export interface ExplicitRoute {
  hosts: string[];
  /** `name:port` (resolved by Docker's DNS at request time) or `ip:port`. */
  dials: string[];
}

/** What Caddy needs for the names under one suffix that Docker's DNS resolves. */
export interface SuffixPlan {
  /** `.test`, `.localhost`. */
  suffix: string;
  /** First label (service, project, hostname) -> its port. */
  ports: Record<string, number>;
  /** Project -> its ingress's port, for the names below an apex. */
  apexPorts: Record<string, number>;
}

export interface RouterPlan {
  suffixes: SuffixPlan[];
  /** Ahead of the general routes: names two ports claim, live and deeper hostnames. */
  explicit: ExplicitRoute[];
  /** Names still a container's alias that are no longer served (a hostname removed live): a 404 ahead of all. */
  removed: string[];
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * What the config needs for these names. `aliases`: the environments' containers' aliases now
 * (without it, every hostname counts as one). A custom hostname is an alias of its container from
 * the `up` after it was added: one that is not yet, and every deeper one (`docs.v2`), gets an
 * explicit route to its addresses; an alias that is no longer a name (removed live) a 404. A first
 * label that has two ports among the routed environments is left out of the port map: each of its
 * names gets an exact route to `<name>:<port>` (those routes follow those environments, a config
 * change each).
 */
export function routerPlan(routes: readonly RouterRoute[], aliases?: ReadonlySet<string>): RouterPlan {
  const aliased = (r: RouterRoute): boolean => aliases === undefined || aliases.has(r.host);
  const general = new Map<string, { ports: Map<string, RouterRoute[]>; apex: Map<string, RouterRoute[]> }>();
  const byIp: RouterRoute[] = [];
  for (const r of routes) {
    let g = general.get(r.suffix);
    if (!g) general.set(r.suffix, (g = { ports: new Map(), apex: new Map() }));
    if (r.kind === 'wildcard') {
      const project = r.label.replace(/^(\*\.)+/, '');
      g.apex.set(project, [...(g.apex.get(project) ?? []), r]);
    } else if (r.label.includes('.') || (r.kind === 'hostname' && !aliased(r))) byIp.push(r);
    else g.ports.set(r.label, [...(g.ports.get(r.label) ?? []), r]);
  }
  const byName: ExplicitRoute[] = [];
  const portsOf = (m: Map<string, RouterRoute[]>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const [label, rs] of [...m].sort(([a], [b]) => byString(a, b))) {
      const ports = new Set(rs.map((r) => r.port));
      const [only] = ports;
      if (ports.size === 1 && only !== undefined) out[label] = only;
      else for (const r of rs) byName.push({ hosts: [r.host], dials: [`${r.host.replace(/^(\*\.)+/, '')}:${r.port}`] });
    }
    return out;
  };
  const suffixes = [...general]
    .sort(([a], [b]) => byString(a, b))
    .map(([suffix, g]) => ({ suffix, ports: portsOf(g.ports), apexPorts: portsOf(g.apex) }));
  const served = new Set(routes.map((r) => r.host));
  const removed = [...(aliases ?? [])].filter((a) => !served.has(a) && routes.some((r) => a.endsWith(`.${r.env}${r.suffix}`) && !a.slice(0, -`.${r.env}${r.suffix}`.length).includes('.'))).sort(byString);
  return { suffixes, explicit: groupByDials([...byName, ...byIp.map((r) => ({ hosts: [r.host], dials: r.upstreams }))]), removed };
}

/** Names with the same dials share one route; exact names before wildcards. */
function groupByDials(routes: ExplicitRoute[]): ExplicitRoute[] {
  const out: ExplicitRoute[] = [];
  for (const wild of [false, true]) {
    const m = new Map<string, string[]>();
    for (const r of routes) {
      for (const h of r.hosts) {
        if (h.startsWith('*.') !== wild) continue;
        const key = r.dials.join(' ');
        m.set(key, [...(m.get(key) ?? []), h]);
      }
    }
    for (const [key, hosts] of m) out.push({ hosts, dials: key.split(' ') });
  }
  return out;
}

export interface RouterConfigInput {
  plan: RouterPlan;
  /** With cilo's CA copied into the container (ROUTER_CA_*): HTTPS, certificates issued on demand. */
  https: boolean;
  /**
   * Tell cilo of every request as it starts (TELL_CILO): only while an environment served has an
   * idle pause (issue #26), whose wake and use need it; it costs every request a subrequest.
   */
  tellCilo?: boolean | undefined;
}

/** Whether the router must tell cilo of its requests for these environments: one of them has an idle pause. */
export function needsRequestLog(envs: readonly Pick<EnvironmentState, 'name' | 'idle_pause_seconds'>[]): boolean {
  return envs.some((e) => (e.idle_pause_seconds ?? 0) > 0);
}

/** A Caddy handler (https://caddyserver.com/docs/json/apps/http/servers/routes/handle/). */
export type CaddyHandler = { handler: string } & Record<string, unknown>;
export type CaddyMatcher = Record<string, unknown>;
export interface CaddyRoute {
  match?: CaddyMatcher[];
  handle: CaddyHandler[];
  terminal?: boolean;
}

/** The part of Caddy's JSON config cilo writes (https://caddyserver.com/docs/json/). */
export interface CaddyConfig {
  admin: { listen: string };
  logging?: { logs: Record<string, Record<string, unknown>> };
  apps: {
    http: { servers: Record<string, CaddyServer> };
    pki?: Record<string, unknown>;
    tls?: Record<string, unknown>;
  };
}

export interface CaddyServer {
  listen: string[];
  routes: CaddyRoute[];
  errors?: { routes: CaddyRoute[] };
  automatic_https: { disable: true };
  tls_connection_policies?: Record<string, never>[];
  logs?: { default_logger_name: string };
}

const notServed = (status: number): CaddyHandler => ({ handler: 'static_response', status_code: status, body: 'cilo: no running environment serves {http.request.host}\n' });

/** The last route: a name no environment's suffix covers gets a 404 that says so (Caddy's own answer is an empty 200). */
const NOT_SERVED: CaddyRoute = { handle: [notServed(404)], terminal: true };
/** A name under a suffix whose lookup or dial failed (no running container has it): a 502 that says so, not an empty body. */
const NOT_RUNNING: CaddyRoute = { handle: [notServed(502)] };

const proxy = (dials: string[]): CaddyHandler => ({ handler: 'reverse_proxy', upstreams: dials.map((dial) => ({ dial })) });

function portMap(source: string, ports: Record<string, number>, fallback: string): CaddyHandler {
  return {
    handler: 'map',
    source,
    destinations: ['{cilo.port}'],
    mappings: Object.entries(ports).map(([input, port]) => ({ input, outputs: [String(port)] })),
    defaults: [fallback],
  };
}

/** The general routes of one suffix: `<name>.<env><suffix>`, and the names one and two labels below an apex. */
function suffixRoutes(s: SuffixPlan): CaddyRoute[] {
  // Caddy numbers a host's labels from the right: in `web.agent-1.test`, `test` is 0 and `web`
  // is 2, one more than the suffix has labels (`.test`.split('.') is ['', 'test']).
  const n = s.suffix.split('.').length;
  const label = (i: number): string => `{http.request.host.labels.${i}}`;
  const out: CaddyRoute[] = [{ match: [{ host: [`*.*${s.suffix}`] }], handle: [portMap(label(n), s.ports, '80'), proxy([`{http.request.host}:{cilo.port}`])], terminal: true }];
  if (Object.keys(s.apexPorts).length > 0) {
    out.push({
      match: [{ host: [`*.*.*${s.suffix}`, `*.*.*.*${s.suffix}`] }],
      handle: [
        portMap(label(n), s.apexPorts, 'none'),
        {
          handler: 'subroute',
          routes: [
            { match: [{ vars: { '{cilo.port}': ['none'] } }], handle: [notServed(404)], terminal: true },
            { handle: [proxy([`${label(n)}.${label(n - 1)}${s.suffix}:{cilo.port}`])] },
          ],
        },
      ],
      terminal: true,
    });
  }
  return out;
}

const REQUEST_LOGGER_NAME = ROUTER_REQUEST_LOGGER.slice('http.log.access.'.length);

/**
 * First on every request (not terminal): a GET with the request's Host to ROUTER_REQUESTS, as
 * forward_auth does it (its 2xx answer runs the routes of `handle_response`, which go on to the
 * request's own routes; the request's body is left for them). That server's access log line is
 * how cilo learns of the request while it starts (a frozen container answers only once woken).
 */
const TELL_CILO: CaddyRoute = {
  handle: [
    {
      handler: 'reverse_proxy',
      upstreams: [{ dial: ROUTER_REQUESTS }],
      rewrite: { method: 'GET', uri: '/' },
      handle_response: [{ match: { status_code: [2] }, routes: [{ handle: [{ handler: 'vars' }] }] }],
    },
  ],
};

/**
 * Those lines, and only those, go to stdout as JSON with the fields cilo reads (the request's
 * headers, addresses and the like left out); Caddy's own log stays on stderr.
 */
const REQUEST_LOGGING: NonNullable<CaddyConfig['logging']> = {
  logs: {
    default: { exclude: [ROUTER_REQUEST_LOGGER] },
    [REQUEST_LOGGER_NAME]: {
      writer: { output: 'stdout' },
      encoder: {
        format: 'filter',
        wrap: { format: 'json' },
        fields: Object.fromEntries(['request>headers', 'request>remote_ip', 'request>remote_port', 'request>proto', 'request>uri', 'resp_headers', 'user_id', 'size', 'duration'].map((f) => [f, { filter: 'delete' }])),
      },
      include: [ROUTER_REQUEST_LOGGER],
    },
  },
};

/** A request the router began, from one line of its stdout; null for anything else. */
export interface RouterRequest {
  /** The requested name: lower case, without port or trailing dot. */
  host: string;
  /** When Caddy logged it (ms since the epoch). */
  at: number;
}

/**
 * One line of the router container's log as ROUTER_REQUEST_LOGGER writes it
 * (`{"level":"info","ts":1796617747.34,"logger":"http.log.access.cilo_request","msg":"handled request","request":{"method":"GET","host":"web.a1.test:8080"},"status":204}`),
 * checked field by field; any other line (Caddy's own, a partial one) is null.
 */
export function parseRouterRequestLine(line: string): RouterRequest | null {
  if (!line.includes(ROUTER_REQUEST_LOGGER)) return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.logger !== ROUTER_REQUEST_LOGGER || typeof o.ts !== 'number' || !Number.isFinite(o.ts)) return null;
  const req = o.request;
  if (typeof req !== 'object' || req === null) return null;
  const raw = (req as Record<string, unknown>).host;
  if (typeof raw !== 'string') return null;
  const host = hostOnly(raw);
  return host === null ? null : { host, at: Math.round(o.ts * 1000) };
}

const HOST_NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/** `Web.A1.test:8080` -> `web.a1.test`; null for an address in brackets (IPv6) or what is no name. */
function hostOnly(raw: string): string | null {
  const name = raw.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return name.length > 0 && name.length <= 253 && HOST_NAME.test(name) ? name : null;
}

/**
 * The environment a requested name belongs to: the one whose `<env><suffix>` it is or ends in
 * (the longest such, should one environment's base end another's). Null for other names.
 */
export function environmentOfHost<E extends Pick<EnvironmentState, 'name' | 'dns_suffix'>>(host: string, envs: readonly E[]): E | null {
  let best: E | null = null;
  let bestLength = 0;
  for (const e of envs) {
    const base = envBase(e);
    if (base.length > bestLength && (host === base || host.endsWith(`.${base}`))) {
      best = e;
      bestLength = base.length;
    }
  }
  return best;
}

/** How often cilo records a request to one environment as its activity (a file's mtime): often enough for any idle pause. */
export const REQUEST_TOUCH_MS = 1000;

/**
 * Whether a request begun at `at` (ms) must wake the environment: it is idle-paused and the
 * request came after the supervisor judged it idle. The supervisor judges under the
 * environment's lock, from activity at most REQUEST_TOUCH_MS late, then freezes the containers and
 * records `paused_at`; a request in between reached a container about to freeze and waits in it,
 * so requests from a little before `paused_at` count too (never from before the judgement: any
 * such would have kept the environment running). Later requests always wake it.
 */
export function requestWakes(env: Pick<EnvironmentState, 'status' | 'paused_by' | 'paused_at' | 'idle_pause_seconds'>, at: number): boolean {
  if (!isIdlePaused(env)) return false;
  const pausedAt = Date.parse(env.paused_at ?? '');
  if (!Number.isFinite(pausedAt)) return true;
  const before = Math.max(500, (env.idle_pause_seconds ?? 0) * 1000 - REQUEST_TOUCH_MS - 500);
  return at > pausedAt - before;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Caddy's config: an HTTP server on :80 and, with the CA, an HTTPS server on :443 (inside the
 * container), both routing by host; automatic HTTPS off (no redirects, no ACME). With the CA,
 * certificates are issued at a name's first handshake by Caddy's internal issuer, signed by the
 * router's intermediate CA (its own key, name-constrained to the routed suffixes) and served with
 * it, only for names under a routed suffix (the `ask` server on the container's loopback says
 * which). The intermediate is given as the CA's root too: Caddy 2.6 reads a root's key
 * unconditionally (later versions check that a key given matches), uses the root only to make
 * or renew an intermediate, which it does not when one is given, and sends no root in the chain;
 * clients anchor the chain at cilo's root, which they trust and the router never holds.
 */
export function caddyConfig(input: RouterConfigInput): CaddyConfig {
  const routes: CaddyRoute[] = [
    ...(input.tellCilo === true ? [TELL_CILO] : []),
    ...(input.plan.removed.length > 0 ? [{ match: [{ host: input.plan.removed }], handle: [notServed(404)], terminal: true }] : []),
    ...input.plan.explicit.map((r): CaddyRoute => ({ match: [{ host: r.hosts }], handle: [proxy(r.dials)], terminal: true })),
    ...input.plan.suffixes.flatMap(suffixRoutes),
    NOT_SERVED,
  ];
  const errors = { routes: [NOT_RUNNING] };
  const servers: Record<string, CaddyServer> = {
    http: { listen: [':80'], routes, errors, automatic_https: { disable: true } },
  };
  servers.requests = { listen: [ROUTER_REQUESTS], routes: [{ handle: [{ handler: 'static_response', status_code: 204 }], terminal: true }], automatic_https: { disable: true }, logs: { default_logger_name: REQUEST_LOGGER_NAME } };
  const config: CaddyConfig = { admin: { listen: ROUTER_ADMIN }, logging: REQUEST_LOGGING, apps: { http: { servers } } };
  if (input.https) {
    servers.https = { listen: [':443'], routes, errors, automatic_https: { disable: true }, tls_connection_policies: [{}] };
    const under = input.plan.suffixes.map((s) => escapeRegExp(s.suffix)).join('|');
    servers.ask = {
      listen: [ROUTER_ASK],
      routes: [
        ...(under === '' ? [] : [{ match: [{ vars_regexp: { '{http.request.uri.query.domain}': { pattern: `(?i)^[a-z0-9-]+(\\.[a-z0-9-]+)*(${under})$` } } }], handle: [{ handler: 'static_response', status_code: 200 }], terminal: true }]),
        { handle: [{ handler: 'static_response', status_code: 404 }], terminal: true },
      ],
      automatic_https: { disable: true },
    };
    const intermediate = { certificate: ROUTER_INTERMEDIATE_CERT, private_key: ROUTER_INTERMEDIATE_KEY, format: 'pem_file' };
    config.apps.pki = { certificate_authorities: { cilo: { name: 'cilo', root: intermediate, intermediate, install_trust: false } } };
    config.apps.tls = {
      automation: {
        on_demand: { ask: `http://${ROUTER_ASK}/ask` },
        policies: [{ issuers: [{ module: 'internal', ca: 'cilo' }], on_demand: true }],
      },
    };
  }
  return config;
}

/** The router container's name and compose project for one CILO_HOME. */
export function routerContainerName(homeId: string): string {
  return `cilo-router-${homeId}`;
}

/** The router's own network: a user-defined one from its start, so Docker's DNS (127.0.0.11) answers inside it. */
export function routerNetworkName(homeId: string): string {
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
 * The compose model of the router container: published on 127.0.0.1 only, on a network of its
 * own (user-defined from the start: Go reads resolv.conf, which then names Docker's DNS; each
 * environment's network is connected to it by cilo, at its router address); `caddy run --resume` starts from the last config pushed (an engine restart keeps
 * its routes) or none. Carries the hash of what it is made from.
 */
export function renderRouterModel(input: RouterModelInput): ComposeModel {
  const name = routerContainerName(input.homeId);
  const service = {
    image: input.image,
    container_name: name,
    command: ['caddy', 'run', '--resume'],
    networks: { default: null },
    restart: 'unless-stopped',
    // A line per request (ROUTER_REQUEST_LOGGER): Docker's `local` driver rotates it (and
    // `docker logs` and the Engine's follow still read it), where json-file, the usual default, keeps all.
    logging: { driver: 'local', options: { 'max-size': '10m', 'max-file': '3' } },
    ports: [
      { target: 80, published: String(input.httpPort), host_ip: '127.0.0.1', protocol: 'tcp' },
      { target: 443, published: String(input.httpsPort), host_ip: '127.0.0.1', protocol: 'tcp' },
    ],
  };
  const hash = createHash('sha256').update(JSON.stringify(service)).digest('hex').slice(0, 16);
  return {
    name,
    services: { router: { ...service, labels: { ...routerLabels(input.homeId), [ROUTER_HASH_LABEL]: hash } } },
    networks: { default: { name: routerNetworkName(input.homeId), labels: routerLabels(input.homeId) } },
  };
}

/** The hash a router container made from this input carries. */
export function routerModelHash(input: RouterModelInput): string {
  return renderRouterModel(input).services.router?.labels?.[ROUTER_HASH_LABEL] ?? '';
}
