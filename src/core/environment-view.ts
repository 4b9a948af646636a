import type { CoreContext } from './context.js';
import type { Engine } from './ports.js';
import type { ContainerSummary } from '../domain/engine.js';
import { compareNames, LABELS, networkName } from '../domain/names.js';
import { serviceUrl } from '../domain/env-model.js';
import { baseUrl } from '../domain/run-vars.js';
import type { EnvironmentState, ServiceState, State } from '../domain/state.js';
import { addressOn, findServiceContainer, serviceContainers } from '../domain/replicas.js';

export interface ServiceView {
  name: string;
  type: 'isolated' | 'shared';
  ip: string;
  url: string;
  /** Live container state (running, exited, ...), or `missing` when there is no container; a scaled service's worst replica's. */
  state: string;
  /** A scaled service: each replica's address and live state, in replica order. */
  replicas?: { ip: string; state: string }[];
}

export interface EnvView {
  name: string;
  project: string;
  /** Recorded status; `running` is downgraded to `degraded` when a service is not running. */
  status: string;
  subnet: string;
  network: string;
  source: string;
  workspace: string;
  dns_suffix: string;
  url: string | null;
  created_at: string;
  last_error?: string;
  /** The remote host whose engine runs it (absent: this machine's). */
  host?: string;
  services: ServiceView[];
  /** Private datasets in shared engines, with the values rewritten to name them (passwords masked). */
  datasets?: DatasetSummary[];
}

export interface DatasetSummary {
  service: string;
  engine: string;
  kind: string;
  name: string;
  status: string;
  rewrites: { service: string; variable: string; from: string; to: string }[];
}


/** Every container cilo made (environment services carry cilo's labels too): one Engine API call. */
export async function liveContainers(docker: Engine): Promise<ContainerSummary[]> {
  return docker.listContainers({ label: [`${LABELS.managed}=true`] });
}

function stateText(c: ContainerSummary | undefined): string {
  if (!c) return 'missing';
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1];
  return health ? `${c.State} (${health})` : c.State;
}

function containerState(containers: ContainerSummary[], env: EnvironmentState, service: string, type: 'isolated' | 'shared'): string {
  return stateText(findServiceContainer(containers, env, service, type));
}

function serviceView(env: EnvironmentState, containers: ContainerSummary[], name: string, s: ServiceState): ServiceView {
  const url = serviceUrl(name, env.name, env.dns_suffix, s.port);
  if (s.replicas === undefined) return { name, type: s.type, ip: s.ip, url, state: containerState(containers, env, name, s.type) };
  const replicas = serviceContainers(containers, env, name).map((c, i) => ({ ip: addressOn(c, env) || (s.replicas?.[i] ?? ''), state: stateText(c) }));
  const worst = replicas.find((r) => !r.state.startsWith('running')) ?? replicas[0];
  return { name, type: s.type, ip: replicas[0]?.ip ?? s.ip, url, state: worst?.state ?? 'missing', replicas };
}

export function viewOf(env: EnvironmentState, containers: ContainerSummary[]): EnvView {
  const services = Object.entries(env.services)
    .sort(([a], [b]) => compareNames(a, b))
    .map(([name, s]) => serviceView(env, containers, name, s));
  let status: string = env.status;
  if (status === 'running' && services.some((s) => !s.state.startsWith('running') && s.state !== 'exited')) status = 'degraded';
  const view: EnvView = {
    name: env.name,
    project: env.project,
    status,
    subnet: env.subnet,
    network: networkName(env.project, env.name),
    source: env.source,
    workspace: env.workspace,
    dns_suffix: env.dns_suffix,
    url: env.ingress ? baseUrl({ project: env.project, env: env.name, suffix: env.dns_suffix }) : null,
    created_at: env.created_at,
    services,
  };
  if (env.last_error) view.last_error = env.last_error;
  const datasets = Object.entries(env.datasets ?? {}).sort(([a], [b]) => compareNames(a, b));
  if (datasets.length > 0) view.datasets = datasets.map(([service, d]) => ({ service, engine: d.engine, kind: d.kind, name: d.name, status: d.status, rewrites: d.rewrites ?? [] }));
  if (env.host) view.host = env.host;
  return view;
}

export function selectEnvironments(state: State, filter: { project?: string | undefined }): EnvironmentState[] {
  return Object.values(state.environments)
    .filter((e) => filter.project === undefined || e.project === filter.project)
    .sort((a, b) => compareNames(a.project, b.project) || compareNames(a.name, b.name));
}

/**
 * Live views of environments: each engine asked once; the environments of a host that does not
 * answer are shown `unreachable` (within the SSH connect timeout) instead of hanging. The remote
 * hosts' code is loaded only when an environment runs on one.
 */
export async function liveViews(ctx: CoreContext, envs: EnvironmentState[]): Promise<EnvView[]> {
  const engines = [...new Set(envs.map((e) => e.host ?? ''))];
  const containers = new Map(
    await Promise.all(
      engines.map(async (h) => {
        if (h === '') return [h, await liveContainers(ctx.docker)] as const;
        const { hostContainers } = await import('./hosts.js');
        return [h, await hostContainers(ctx, h)] as const;
      }),
    ),
  );
  return envs.map((e) => {
    const live = containers.get(e.host ?? '');
    if (live) return viewOf(e, live);
    const unknown = viewOf(e, []);
    return { ...unknown, status: 'unreachable', services: unknown.services.map((s) => ({ ...s, state: 'unknown' })) };
  });
}

/** One environment's live view (`unreachable` when its host does not answer). */
export async function liveView(ctx: CoreContext, env: EnvironmentState): Promise<EnvView> {
  const [view] = await liveViews(ctx, [env]);
  if (!view) throw new Error('no view of the environment');
  return view;
}
