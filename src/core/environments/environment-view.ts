import { pauseFields } from '../../domain/idle.js';
import type { CoreContext } from '../context.js';
import { askEachSite } from '../sites/reach.js';
import { sameSite, siteKey } from '../../domain/sites.js';
import type { Clock, Engine } from '../ports.js';
import type { ContainerSummary } from '../../domain/engine.js';
import { COMPOSE_PROJECT, compareNames, composeProjectName, LABELS, networkName } from '../../domain/names.js';
import { environmentUrls, serviceUrls, urlPlan, DIRECT_PLAN, type UrlPlan, type Urls } from '../../domain/host-reach.js';
import { readState } from '../../state/store.js';
import type { EnvironmentState, ServiceState, State } from '../../domain/state.js';
import { addressOn, containersOfService } from '../../domain/replicas.js';
import { environmentProblems, liveStatus, needsRestartFacts, restartFacts, type FactsById, type RestartFacts, type ServiceProblem } from '../../domain/liveness.js';

export interface ServiceView {
  name: string;
  type: 'isolated' | 'shared';
  ip: string;
  /** Router mode: through the router (`http://web.<env>.test:8080`); direct: the name with the container port. */
  url: string;
  /** Both schemes (https only through the router; both null for a service the router does not serve). */
  urls: Urls;
  /** Live container state (running, exited, ...), or `missing` when there is no container; a scaled service's first replica's, as its `ip`. */
  state: string;
  /** Its non-HTTP ports published on 127.0.0.1: container port to loopback port. */
  host_ports?: Record<string, number>;
  /** A scaled service: each replica's address and live state, in replica order. */
  replicas?: { ip: string; state: string }[];
}

export interface EnvView {
  name: string;
  project: string;
  /** Recorded status; `running` is `degraded` while a service has exited (other than a one-shot job that completed) or keeps restarting. */
  status: string;
  /** Why it is degraded: each service (or replica) that is not as a running environment needs it; empty otherwise. */
  problems: ServiceProblem[];
  subnet: string;
  network: string;
  source: string;
  workspace: string;
  /** `in-place`: the workspace is the source directory itself (issue #28). */
  workspace_mode: 'copy' | 'in-place';
  dns_suffix: string;
  url: string | null;
  urls: Urls;
  /** How this machine reaches it: `router` (127.0.0.1) or `direct` (container addresses). */
  routing: UrlPlan['mode'];
  created_at: string;
  last_error?: string;
  /** While paused: `idle` (the supervisor, woken by its next use) or `user` (`down --pause`). */
  paused_by?: 'idle' | 'user';
  /** While paused: when (ISO 8601). */
  paused_at?: string;
  /** Paused after this many seconds unused (absent: never). */
  idle_pause_seconds?: number;
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

/** What the live views read of one engine: its containers, and the restart facts of those that need them. */
export interface LiveContainers {
  containers: ContainerSummary[];
  facts: FactsById;
  /** When they were read (ms since the epoch). */
  now: number;
}

/** The containers of an environment's services: its own compose project's, and the shared ones it uses. */
function ownedBy(c: ContainerSummary, env: Pick<EnvironmentState, 'project' | 'name' | 'shared'>): boolean {
  if (c.Labels[COMPOSE_PROJECT] === composeProjectName(env.project, env.name)) return true;
  return c.Labels[LABELS.shared] === 'true' && c.Labels[LABELS.project] === env.project && env.shared.includes(c.Labels[LABELS.service] ?? '');
}

/**
 * Every container cilo made, with the restart facts (one inspect each) of the containers of
 * running environments whose list entry leaves a question: exited, restarting, just started.
 */
export async function liveState(docker: Pick<Engine, 'listContainers' | 'inspectContainer'>, envs: Pick<EnvironmentState, 'project' | 'name' | 'shared' | 'status'>[], clock: Clock): Promise<LiveContainers> {
  const containers = await docker.listContainers({ label: [`${LABELS.managed}=true`] });
  const running = envs.filter((e) => e.status === 'running');
  const asked = containers.filter((c) => needsRestartFacts(c) && running.some((e) => ownedBy(c, e)));
  const answers = await Promise.all(asked.map(async (c) => [c.Id, await docker.inspectContainer(c.Id).catch(() => null)] as const));
  const facts = new Map<string, RestartFacts>();
  for (const [id, info] of answers) if (info) facts.set(id, restartFacts(info));
  return { containers, facts, now: clock.now() };
}

function stateText(c: ContainerSummary | undefined): string {
  if (!c) return 'missing';
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1];
  return health ? `${c.State} (${health})` : c.State;
}

function serviceView(env: EnvironmentState, mine: ContainerSummary[], name: string, s: ServiceState, plan: UrlPlan): ServiceView {
  const { url, urls } = serviceUrls(env, name, s, plan);
  const ports = s.host_ports && Object.keys(s.host_ports).length > 0 ? { host_ports: s.host_ports } : {};
  if (s.replicas === undefined) return { name, type: s.type, ip: s.ip, url, urls, state: stateText(mine[0]), ...ports };
  const replicas = mine.map((c, i) => ({ ip: addressOn(c, env) || (s.replicas?.[i] ?? ''), state: stateText(c) }));
  // One replica's fields (the first's), so that `ip` and `state` describe the same container.
  const first = replicas[0];
  return { name, type: s.type, ip: first ? first.ip : s.ip, url, urls, state: first?.state ?? 'missing', replicas };
}

/**
 * An environment as `status`, `list` and the dashboard show it, from one engine's live
 * containers read at `now` (ms since the epoch); its URLs as `plan` (its site's routing) makes them.
 */
export function viewOf(env: EnvironmentState, containers: ContainerSummary[], facts: FactsById, now: number, plan: UrlPlan = DIRECT_PLAN): EnvView {
  const services = Object.entries(env.services)
    .sort(([a], [b]) => compareNames(a, b))
    .map(([name, s]) => serviceView(env, containersOfService(containers, env, name, s.type), name, s, plan));
  const { url, urls } = environmentUrls(env, plan);
  const problems = environmentProblems(env, containers, facts, now);
  const view: EnvView = {
    name: env.name,
    project: env.project,
    status: liveStatus(env.status, problems),
    problems,
    subnet: env.subnet,
    network: networkName(env.project, env.name),
    source: env.source,
    workspace: env.workspace,
    workspace_mode: env.workspace_mode ?? 'copy',
    dns_suffix: env.dns_suffix,
    url,
    urls,
    routing: plan.mode,
    created_at: env.created_at,
    services,
  };
  if (env.last_error) view.last_error = env.last_error;
  Object.assign(view, pauseFields(env));
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
 * answer are shown `unreachable` (core/sites/reach.ts: within its deadline) instead of hanging.
 */
export async function liveViews(ctx: CoreContext, envs: EnvironmentState[], routing: Pick<State, 'routing'> = readState(ctx.paths)): Promise<EnvView[]> {
  const live = await askEachSite(ctx, envs, (site) => liveState(site.docker, envs.filter((e) => sameSite(e, site)), ctx.clock));
  return envs.map((e) => {
    const l = live.get(siteKey(e));
    const plan = urlPlan(routing, e);
    if (l?.ok) return viewOf(e, l.value.containers, l.value.facts, l.value.now, plan);
    const unknown = viewOf({ ...e, status: 'stopped' }, [], new Map(), ctx.clock.now(), plan);
    return { ...unknown, status: 'unreachable', services: unknown.services.map((s) => ({ ...s, state: 'unknown' })) };
  });
}

/** One environment's live view (`unreachable` when its host does not answer). */
export async function liveView(ctx: CoreContext, env: EnvironmentState, routing?: Pick<State, 'routing'>): Promise<EnvView> {
  const [view] = await liveViews(ctx, [env], routing);
  if (!view) throw new Error('no view of the environment');
  return view;
}
