/**
 * The manifest (`cilo.manifest/1`): one JSON document that tells an agent everything about a
 * running environment — where it is, how to reach each service, what each was given, how long
 * the `up` took. `up --json`, `status --json`, `cilo run` (CILO_MANIFEST) and the MCP server
 * print the same shape; docs/manifest.schema.json documents it. Pure shaping: core gathers the
 * facts (state, live containers, generated model, DNS) and hands them in.
 */
import { addressOn, containersOfService } from './replicas.js';
import { completed, environmentProblems, justRestarted, liveStatus, type FactsById, type RestartFacts, type ServiceProblem } from './liveness.js';
import type { ContainerSummary } from './engine.js';
import { DIRECT_PLAN, environmentUrls, serviceUrls, type UrlPlan, type Urls } from './host-reach.js';
import { serviceUrl } from './env-model.js';
import { datasetDsn } from './host-ports.js';
import { maskValue } from './mask.js';
import { compareNames, networkName } from './names.js';
import { baseUrl, runVariables } from './run-vars.js';
import type { EnvironmentState } from './state.js';
import { pauseFields } from './idle.js';

export const MANIFEST_SCHEMA = 'cilo.manifest/1';
export const DNS_SERVER_ADDRESS = '127.0.0.1';

/** Why a service counts as ready: its healthcheck passed, it runs (no healthcheck), or a one-shot job exited 0. */
export type ReadyBy = 'healthcheck' | 'running' | 'completed';

/**
 * A dataset of a shared engine (a database or a redis index) that belongs to this environment.
 * Filled by the datasets work (`cilo.share.isolate`); absent until then.
 */
export interface DatasetManifest {
  engine: string;
  name: string;
  [key: string]: unknown;
}

export interface ServiceManifest {
  name: string;
  type: 'isolated' | 'shared';
  ip: string;
  /** The container port the URLs name (first `ports` target, else first `expose`), or null. */
  port: number | null;
  /**
   * By DNS name: works wherever cilo's DNS answers (the host with `cilo dns setup`, the
   * containers). Router mode: through the router (`http://web.<env>.test[:router port]`).
   */
  url: string;
  /** The service's URLs from the host by scheme: https only through the router; both null for a service the router does not serve. */
  urls: Urls;
  /** By IP: works from the host without any resolver set up. */
  ip_url: string;
  container: string | null;
  /** Live container state (running, exited, paused...), `missing` without a container. */
  state: string;
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  ready_by: ReadyBy | null;
  /** What the service was given (compose `environment`); secrets masked unless asked for. */
  environment: Record<string, string>;
  datasets?: DatasetManifest[];
  /** Its ports published on the host's 127.0.0.1: container port (`5432`, `53/udp`) -> loopback port; absent when none. */
  host_ports?: Record<string, number>;
  /** A scaled service: each replica's address, container and state (`ip`, `container`, `state`, `health` and `ready_by` above are all the first replica's). */
  replicas?: { ip: string; container: string; state: string }[];
}

export interface UpTimings {
  resolve_ms: number;
  network_ms: number;
  shared_ms: number;
  compose_up_ms: number;
  wait_ms: number;
  total_ms: number;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  ok: true;
  env: string;
  /** The same as `env`: the key `status --json` readers had before the manifest. */
  name: string;
  project: string;
  /** Recorded status; `running` becomes `degraded` while a service has exited (other than a one-shot job that completed) or keeps restarting. */
  status: string;
  /** Why it is degraded: each service (or replica) that is not as a running environment needs it; empty otherwise. */
  problems: ServiceProblem[];
  source: string;
  workspace: string;
  /** `in-place`: the workspace is the source directory itself (issue #28); `copy`: cilo's copy of it. */
  workspace_mode: 'copy' | 'in-place';
  /** The ingress's URL (`http://<project>.<env><suffix>`, through the router in router mode), null without an ingress service. */
  url: string | null;
  /** The ingress's URLs by scheme (https only through the router). */
  urls: Urls;
  /** How this machine reaches the environment: `router` (its names answer 127.0.0.1) or `direct` (container addresses). */
  routing: UrlPlan['mode'];
  base_url: string;
  dns_suffix: string;
  dns: {
    suffix: string;
    server: { address: string; port: number; running: boolean };
    /** Whether this machine's own resolver answers names under the suffix (`cilo dns setup`). */
    system_resolver: boolean;
  };
  /** cilo's CA certificate (PEM) for HTTPS through the router, once made (`cilo trust --print`). */
  ca_file?: string;
  network: string;
  subnet: string;
  created_at: string;
  last_error?: string;
  /** While paused: `idle` (the supervisor, issue #26; woken by its next use) or `user` (`down --pause`). */
  paused_by?: 'idle' | 'user';
  /** While paused: when (ISO 8601). */
  paused_at?: string;
  /** Paused after this many seconds unused (absent: never). */
  idle_pause_seconds?: number;
  services: ServiceManifest[];
  variables: Record<string, string>;
  /** Phases of the `up` that printed this manifest; null from `status`. */
  timings: UpTimings | null;
}

export interface ManifestFacts {
  env: EnvironmentState;
  /** Every container cilo made (labelled `cilo=true`). */
  containers: ContainerSummary[];
  /** Each service's compose `environment`, as resolved (values unmasked). */
  environments: Record<string, Record<string, string>>;
  dnsPort: number;
  dnsRunning: boolean;
  systemResolver: boolean;
  timings?: UpTimings | null | undefined;
  showSecrets?: boolean | undefined;
  /** cilo's CA file, when it exists. */
  caFile?: string | undefined;
  /** Each service's own datasets in a shared engine, by service (the datasets work fills it). */
  datasets?: Record<string, DatasetManifest[]> | undefined;
  /** Restart facts of the containers whose list entry leaves a question (environment-view.ts liveState). */
  facts?: FactsById | undefined;
  /** When the containers were read (ms since the epoch). */
  now?: number | undefined;
  /** The routing of the environment's site, for its URLs; direct when absent. */
  plan?: UrlPlan | undefined;
}

export function maskEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, maskValue(k, v)]));
}

/** A compose `environment` (map, or list of KEY=VALUE) as plain strings; `$$` (compose's escape) as `$`. */
export function environmentOf(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown): void => {
    if (v === null || v === undefined) return;
    out[k] = String(v).replace(/\$\$/g, '$');
  };
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const s = String(item);
      const i = s.indexOf('=');
      if (i > 0) put(s.slice(0, i), s.slice(i + 1));
    }
  } else if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) put(k, v);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => compareNames(a, b)));
}


/** Health from the Engine's status text (`Up 3 seconds (healthy)`). */
export function healthOf(status: string): ServiceManifest['health'] {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1];
  if (m === 'health: starting') return 'starting';
  return m === 'healthy' || m === 'unhealthy' ? m : 'none';
}

/**
 * What makes a container count as ready now, judged as `up` waits for it; null when it is not
 * (a container restarted a moment ago is not ready: a crash loop runs for a moment).
 */
export function readyBy(c: ContainerSummary | undefined, facts?: RestartFacts, now: number = Date.now()): ReadyBy | null {
  if (!c) return null;
  if (c.State === 'running') {
    if (justRestarted(facts, now)) return null;
    const health = healthOf(c.Status);
    if (health === 'healthy') return 'healthcheck';
    return health === 'none' ? 'running' : null;
  }
  return completed(c, facts) ? 'completed' : null;
}

/** A dataset with the `dsn` that reaches it from the host, when its engine's port is published. */
function withDsn(d: DatasetManifest, hostPorts: Record<string, number> | undefined, environment: Record<string, string>): DatasetManifest {
  const dsn = datasetDsn(d.engine, d.name, hostPorts, environment);
  return dsn === undefined ? d : { ...d, dsn };
}

const containerName = (c: ContainerSummary): string => (c.Names[0] ?? c.Id).replace(/^\//, '');

function serviceManifest(facts: ManifestFacts, name: string): ServiceManifest {
  const { env } = facts;
  const s = env.services[name];
  if (!s) throw new Error(`no service ${name}`);
  const mine = containersOfService(facts.containers, env, name, s.type);
  // A scaled service's fields are all its first replica's: `ip` and `container` name one container.
  const c = mine[0];
  const environment = facts.environments[name] ?? {};
  const port = s.port ?? null;
  const datasets = facts.datasets?.[name]?.map((d) => withDsn(d, s.host_ports, environment));
  const replicas = s.replicas === undefined ? undefined : mine.map((r, i) => ({ ip: addressOn(r, env) || (s.replicas?.[i] ?? ''), container: containerName(r), state: r.State }));
  const ip = replicas?.[0]?.ip || s.ip;
  return {
    name,
    type: s.type,
    ip,
    port,
    ...serviceUrls(env, name, s, facts.plan ?? DIRECT_PLAN),
    ip_url: port === null || port === 80 ? `http://${ip}` : `http://${ip}:${port}`,
    container: c ? containerName(c) : null,
    state: c ? c.State : 'missing',
    health: c ? healthOf(c.Status) : 'none',
    ready_by: readyBy(c, c ? facts.facts?.get(c.Id) : undefined, facts.now),
    environment: facts.showSecrets ? environment : maskEnvironment(environment),
    ...(s.host_ports && Object.keys(s.host_ports).length > 0 ? { host_ports: { ...s.host_ports } } : {}),
    ...(datasets && datasets.length > 0 ? { datasets } : {}),
    ...(replicas ? { replicas } : {}),
  };
}

/** The manifest of an environment from the facts core gathered. */
export function buildManifest(facts: ManifestFacts): Manifest {
  const { env } = facts;
  const services = Object.keys(env.services)
    .sort(compareNames)
    .map((n) => serviceManifest(facts, n));
  const problems = environmentProblems(env, facts.containers, facts.facts ?? new Map(), facts.now ?? Date.now());
  const base = baseUrl({ project: env.project, env: env.name, suffix: env.dns_suffix });
  const plan = facts.plan ?? DIRECT_PLAN;
  const { url, urls } = environmentUrls(env, plan);
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    ok: true,
    env: env.name,
    name: env.name,
    project: env.project,
    status: liveStatus(env.status, problems),
    problems,
    source: env.source,
    workspace: env.workspace,
    workspace_mode: env.workspace_mode ?? 'copy',
    url,
    urls,
    routing: plan.mode,
    base_url: base,
    dns_suffix: env.dns_suffix,
    dns: {
      suffix: env.dns_suffix,
      server: { address: DNS_SERVER_ADDRESS, port: facts.dnsPort, running: facts.dnsRunning },
      system_resolver: facts.systemResolver,
    },
    ...(facts.caFile ? { ca_file: facts.caFile } : {}),
    network: networkName(env.project, env.name),
    subnet: env.subnet,
    created_at: env.created_at,
    services,
    variables: runVariables(env),
    timings: facts.timings ?? null,
  };
  if (env.last_error) manifest.last_error = env.last_error;
  Object.assign(manifest, pauseFields(env));
  return manifest;
}
