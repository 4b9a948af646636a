/**
 * The use-cases behind `cilo ui`: what its pages show (built from the same views as `list`,
 * `status`, `shared list` and `doctor`), the actions its buttons run (the very core functions
 * the CLI runs, with their locks), live change notices, and log streams. The HTTP server
 * (src/ui/) gets these as plain functions from the CLI command that wires them; it never
 * imports core.
 */
import { siteOf, hostSites } from '../sites/reach.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, composeProjectName, LABELS, toValidName } from '../../domain/names.js';
import type { ServiceProblem } from '../../domain/liveness.js';
import type { Urls } from '../../domain/host-reach.js';
import { maskConnectionValue } from '../../domain/mask.js';
import { runVariables } from '../../domain/run-vars.js';
import type { ContainerSummary } from '../../domain/engine.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { watchStateFile } from '../../state/watch.js';
import { isoNow, type CoreContext } from '../context.js';
import type { Engine } from '../ports.js';
import { destroyLocked, destroyPlan, type DestroyPlan } from '../environments/destroy.js';
import { runDoctor, type DoctorReport } from '../doctor/doctor.js';
import { downEnvironment } from '../environments/down.js';
import { liveContainers, liveView, liveViews, selectEnvironments, type ServiceView } from '../environments/environment-view.js';
import { cwdProject } from '../environments/list.js';
import { findEnv } from '../environments/lookup.js';
import { sharedViews, type SharedView } from '../shared/shared-view.js';
import { DatasetSizeCache } from './dataset-sizes.js';
import { DashboardUsageReader } from './usage.js';
import { upEnvironment } from '../environments/up.js';

/** Which environments the dashboard shows: one project, or all (`project` undefined). */
export interface DashboardScope {
  project: string | undefined;
}

/** `--project P`, `--all`, else the current directory's project, else all (as `cilo list`). */
export async function dashboardScope(input: { project?: string | undefined; all?: boolean | undefined; cwd: string }): Promise<DashboardScope> {
  if (input.all) return { project: undefined };
  if (input.project !== undefined) return { project: toValidName(input.project, 'project') };
  return { project: await cwdProject(input.cwd) };
}

export interface HealthRollup {
  /** ok: all running (and healthy); starting: health checks pending; warn: some not running; bad: unhealthy; idle: nothing runs. */
  level: 'ok' | 'starting' | 'warn' | 'bad' | 'idle';
  text: string;
}

/** The health of an environment in a few words, from its services' live states. */
export function healthRollup(status: string, all: Pick<ServiceView, 'state' | 'type'>[], completed = 0): HealthRollup {
  // One-shot jobs that completed (exited 0, no problem) are done, not down: they count in no total.
  const services = completed > 0 && (status === 'running' || status === 'degraded') ? dropCompleted(all, completed) : all;
  const total = services.length;
  if (total === 0) return { level: 'idle', text: 'no services' };
  // On a host that does not answer: its services' states are unknown, not stopped.
  if (status === 'unreachable') return { level: 'bad', text: 'host does not answer' };
  const count = (p: (s: string) => boolean, among = services): number => among.filter((s) => p(s.state)).length;
  const running = count((s) => s.startsWith('running'));
  const unhealthy = count((s) => s.includes('(unhealthy)'));
  const starting = count((s) => s.includes('(health: starting)'));
  const healthy = count((s) => s.includes('(healthy)'));
  if (status !== 'running' && status !== 'degraded' && status !== 'starting') {
    // A shared service keeps running for other environments: only the environment's own count.
    const own = count((s) => s.startsWith('running'), services.filter((s) => s.type === 'isolated'));
    if (own > 0) return { level: 'warn', text: `${own} still running` };
    return { level: 'idle', text: status === 'paused' ? 'frozen' : 'not running' };
  }
  if (unhealthy > 0) return { level: 'bad', text: `${unhealthy} unhealthy` };
  if (running === 0) return { level: 'bad', text: `0/${total} running` };
  if (running < total) return { level: 'warn', text: `${running}/${total} running` };
  if (starting > 0) return { level: 'starting', text: `${starting} starting` };
  return { level: 'ok', text: healthy > 0 ? `${running}/${total} running, ${healthy} healthy` : `${running}/${total} running` };
}

function dropCompleted<T extends Pick<ServiceView, 'state'>>(services: T[], n: number): T[] {
  let left = n;
  return services.filter((s) => !(s.state === 'exited' && left-- > 0));
}

/** How many of a view's services are one-shot jobs that completed: exited, and no problem of it. */
function completedJobs(v: { services: Pick<ServiceView, 'name' | 'state'>[]; problems: ServiceProblem[] }): number {
  return v.services.filter((s) => s.state === 'exited' && !v.problems.some((p) => p.service === s.name)).length;
}

export interface EnvironmentRow {
  name: string;
  project: string;
  status: string;
  /** Why it is degraded (as `status` says it): each service that has exited or keeps restarting. */
  problems: ServiceProblem[];
  health: HealthRollup;
  url: string | null;
  /** http and https through the router (https null in direct mode). */
  urls: Urls;
  created_at: string;
  services: number;
  /** While paused: `idle` (the supervisor; its next use wakes it) or `user` (`down --pause`); null otherwise. */
  paused_by: 'idle' | 'user' | null;
  /** While paused: since when (ISO 8601); null otherwise. */
  paused_at: string | null;
}

/** An environment's private dataset in a shared engine (cilo.share.isolate): a database or a redis index. */
export interface DatasetInfo {
  env: string;
  name: string;
  /** Bytes for databases, keys for redis indexes: the last known (null: not measured yet, or its engine never ran). */
  size: number | null;
  unit: 'bytes' | 'keys';
  /** When `size` was measured: the dashboard measures sizes on its own clock (dataset-sizes.ts), never while a page waits. */
  measured_at: string | null;
}

export type SharedRow = SharedView;

export interface DoctorRecord {
  at: string;
  report: DoctorReport;
}

export interface DashboardSnapshot {
  scope: { project: string | null };
  environments: EnvironmentRow[];
  shared: SharedRow[];
  doctor: DoctorRecord | null;
  generated_at: string;
}

function doctorFile(ctx: CoreContext): string {
  return join(ctx.paths.home, 'ui', 'doctor.json');
}

function lastDoctor(ctx: CoreContext): DoctorRecord | null {
  try {
    return JSON.parse(readFileSync(doctorFile(ctx), 'utf8')) as DoctorRecord;
  } catch {
    return null;
  }
}

/** Everything the main page shows, at once: datasets with their last known sizes, never waiting for a measurement. */
export async function dashboardSnapshot(ctx: CoreContext, scope: DashboardScope, sizes: DatasetSizeCache): Promise<DashboardSnapshot> {
  const state = readState(ctx.paths);
  const envs = selectEnvironments(state, scope);
  // Each from its own engine (a host's, `unreachable` when it does not answer), as `cilo list` shows them.
  const environments = (await liveViews(ctx, envs, state)).map((v) => ({ name: v.name, project: v.project, status: v.status, problems: v.problems, health: healthRollup(v.status, v.services, completedJobs(v)), url: v.url, urls: v.urls, created_at: v.created_at, services: v.services.length, paused_by: v.paused_by ?? null, paused_at: v.paused_at ?? null }));
  const shared = await sharedViews(ctx, scope.project, sizes.read());
  return { scope: { project: scope.project ?? null }, environments, shared, doctor: lastDoctor(ctx), generated_at: isoNow(ctx) };
}

export interface ServiceDetail {
  name: string;
  type: 'isolated' | 'shared';
  ip: string;
  url: string;
  urls: Urls;
  /** The container's state (running, exited, paused...), or `missing`. */
  state: string;
  /** healthy, unhealthy, starting; null without a health check. */
  health: string | null;
}

export interface ConnectionValue {
  name: string;
  value: string;
  masked: boolean;
}

/**
 * One environment as its page shows it. The one source of that page's data: when the agent
 * manifest (`cilo.manifest/1`, issue 16) lands, this is where it is switched to it.
 */
export interface EnvironmentDetail {
  name: string;
  project: string;
  status: string;
  problems: ServiceProblem[];
  health: HealthRollup;
  subnet: string;
  network: string;
  url: string | null;
  urls: Urls;
  source: string;
  workspace: string;
  created_at: string;
  last_error: string | null;
  /** As in EnvironmentRow. */
  paused_by: 'idle' | 'user' | null;
  paused_at: string | null;
  hostnames: string[];
  services: ServiceDetail[];
  connection: ConnectionValue[];
  datasets: DatasetInfo[];
}

export async function environmentDetail(ctx: CoreContext, name: string, scope: DashboardScope, sizes: DatasetSizeCache): Promise<EnvironmentDetail> {
  const state = readState(ctx.paths);
  const env = findEnv(state, name, scope.project);
  const v = await liveView(ctx, env, state);
  const services = v.services.map((s) => {
    const m = /^(\S+)(?: \((?:health: )?([a-z]+)\))?$/.exec(s.state);
    return { name: s.name, type: s.type, ip: s.ip, url: s.url, urls: s.urls, state: m?.[1] ?? s.state, health: m?.[2] ?? null };
  });
  const connection = Object.entries(runVariables(env)).map(([k, value]) => ({ name: k, ...maskConnectionValue(k, value) }));
  return {
    name: v.name,
    project: v.project,
    status: v.status,
    problems: v.problems,
    health: healthRollup(v.status, v.services, completedJobs(v)),
    subnet: v.subnet,
    network: v.network,
    url: v.url,
    urls: v.urls,
    source: v.source,
    workspace: v.workspace,
    created_at: v.created_at,
    last_error: v.last_error ?? null,
    paused_by: v.paused_by ?? null,
    paused_at: v.paused_at ?? null,
    hostnames: env.hostnames,
    services,
    connection,
    datasets: sizes.read({ env: env.name }).map((d) => ({ env: d.env, name: `${d.service}: ${d.name}`, size: d.size, unit: d.unit, measured_at: d.measured_at })),
  };
}

export type DashboardAction = 'up' | 'down' | 'pause' | 'destroy';

export interface ActionResult {
  ok: true;
  message: string;
}

/** A button's action: the core function the CLI command runs. Destroy needs the name typed again. */
export async function runDashboardAction(ctx: CoreContext, scope: DashboardScope, action: DashboardAction, name: string, body: { confirm?: unknown }): Promise<ActionResult> {
  const env = findEnv(readState(ctx.paths), name, scope.project);
  switch (action) {
    case 'up': {
      const r = await upEnvironment(ctx, { env: env.name, project: env.project });
      return { ok: true, message: `Environment ${r.env.name} is up.` };
    }
    case 'down':
    case 'pause': {
      const r = await downEnvironment(ctx, { env: env.name, project: env.project, pause: action === 'pause' });
      return { ok: true, message: `Environment ${r.name} is ${r.status}.` };
    }
    case 'destroy': {
      if (body.confirm !== env.name) {
        throw new CiloError('NOT_CONFIRMED', `Type the environment's name (${env.name}) to destroy it.`, { exitCode: 2 });
      }
      await destroyLocked(ctx, env);
      return { ok: true, message: `Environment ${env.name} was destroyed.` };
    }
  }
}

/** What the destroy button would remove, drop and release: the dialog says it before asking for the name. */
export async function dashboardDestroyPlan(ctx: CoreContext, scope: DashboardScope, name: string): Promise<DestroyPlan> {
  return destroyPlan(ctx, findEnv(readState(ctx.paths), name, scope.project));
}

/** Runs the doctor (without repairs) and keeps its report for the page. */
export async function runDashboardDoctor(ctx: CoreContext): Promise<DoctorRecord> {
  const record = { at: isoNow(ctx), report: await runDoctor(ctx) };
  mkdirSync(join(ctx.paths.home, 'ui'), { recursive: true, mode: 0o700 });
  writeFileAtomic(doctorFile(ctx), `${JSON.stringify(record)}\n`);
  return record;
}

export interface LogRequest {
  /** Only this service (an environment's own or a shared one it uses). */
  service?: string | undefined;
  tail?: number | undefined;
  /** Only lines from this time on (Unix seconds): the page resumes a stream that ended. */
  since?: number | undefined;
  follow: boolean;
}

function containersOfEnv(all: ContainerSummary[], env: { name: string; project: string; shared: string[] }): { service: string; id: string }[] {
  const own = all.filter((c) => c.Labels[COMPOSE_PROJECT] === composeProjectName(env.project, env.name)).map((c) => ({ service: c.Labels[COMPOSE_SERVICE] ?? '?', id: c.Id }));
  const shared = all
    .filter((c) => c.Labels[LABELS.shared] === 'true' && c.Labels[LABELS.project] === env.project && env.shared.includes(c.Labels[LABELS.service] ?? ''))
    .map((c) => ({ service: c.Labels[LABELS.service] ?? '?', id: c.Id }));
  return [...own, ...shared];
}

/**
 * The logs of an environment's containers (or one service's), line by line, until every
 * stream ends or `signal` aborts (the page closed).
 */
export async function streamEnvironmentLogs(
  ctx: CoreContext,
  scope: DashboardScope,
  name: string,
  req: LogRequest,
  onLine: (l: { service: string; line: string }) => void,
  signal: AbortSignal,
): Promise<void> {
  const env = findEnv(readState(ctx.paths), name, scope.project);
  // From the environment's own engine: a host's, for one on a host.
  const engine = (await siteOf(ctx, env)).docker;
  const targets = containersOfEnv(await liveContainers(engine), env).filter((t) => req.service === undefined || t.service === req.service);
  if (req.service !== undefined && targets.length === 0) {
    throw new CiloError('SERVICE_NOT_FOUND', `Environment ${env.name} has no container for a service "${req.service}".`, { exitCode: 2 });
  }
  await Promise.all(targets.map((t) => engine.streamLogs(t.id, { tail: req.since === undefined ? (req.tail ?? 200) : undefined, since: req.since, follow: req.follow }, (line) => onLine({ service: t.service, line }), signal)));
}

const EVENTS_RETRY_MS = 1000;
/** A host that does not answer is asked again this much later (each try takes seconds to fail). */
const HOST_EVENTS_RETRY_MS = 5000;

/**
 * What changed: the state file, a container or a network of cilo's (an Engine event), or an
 * event stream that ended and may have missed some (`stream`).
 */
export type DashboardChange = 'state' | 'container' | 'network' | 'stream';

/**
 * Calls `onChange` whenever what the pages show may have changed: the state file was
 * rewritten, or one of cilo's containers changed (Engine events of this machine and of each
 * remote host the state knows when the page starts; health-check execs are not changes). Runs
 * until `signal` aborts; a dropped event stream is reopened.
 */
export function watchDashboard(ctx: CoreContext, onChange: (what: DashboardChange) => void, signal: AbortSignal): void {
  const stopWatching = watchStateFile(ctx.paths, () => onChange('state'));
  signal.addEventListener('abort', stopWatching, { once: true });
  const follow = async (engine: () => Promise<Engine>, retryMs: number): Promise<void> => {
    while (!signal.aborted) {
      let reached = false;
      try {
        const docker = await engine();
        reached = true;
        await docker.watchEvents(
          { label: [`${LABELS.managed}=true`], type: ['container', 'network'] },
          (e) => {
            // Health checks and the dataset engines' own queries (the size measurements among them) are execs.
            if (!e.Action.startsWith('exec_')) onChange(e.Type === 'network' ? 'network' : 'container');
          },
          signal,
        );
      } catch {
        // Engine gone for a moment: try again below.
      }
      if (signal.aborted) return;
      // A stream that ended may have missed changes; a host that was never reached changed nothing the page shows.
      if (reached) onChange('stream');
      await new Promise((r) => setTimeout(r, retryMs));
    }
  };
  void follow(async () => (await siteOf(ctx, {})).docker, EVENTS_RETRY_MS);
  for (const at of hostSites(ctx)) void follow(async () => (await siteOf(ctx, at)).docker, HOST_EVENTS_RETRY_MS);
}

/** How often the dashboard looks whether its dataset sizes are due for a measurement (dataset-sizes.ts decides). */
const SIZES_TICK_MS = 1000;

/**
 * The functions `cilo ui`'s server calls, bound to one context and scope. The datasets' sizes
 * are kept here, measured in the background (dataset-sizes.ts): after a change to a container
 * or to state (a network's, such as the doctor's probe, changes no size), and every so often
 * while a page is open, but not while the doctor runs; each measurement is announced as a
 * change, so open pages get it. What the containers use (usage.ts) is read only when a page
 * asks for it, apart from the snapshot.
 */
export function dashboard(ctx: CoreContext, scope: DashboardScope) {
  let announce: () => void = () => undefined;
  const sizes = new DatasetSizeCache(ctx, { project: scope.project, onMeasured: () => announce() });
  const usage = new DashboardUsageReader(ctx, scope);
  return {
    sizes,
    snapshot: () => dashboardSnapshot(ctx, scope, sizes),
    usage: () => usage.read(),
    environment: (name: string) => environmentDetail(ctx, name, scope, sizes),
    action: (action: DashboardAction, name: string, body: { confirm?: unknown }) => runDashboardAction(ctx, scope, action, name, body),
    destroyPlan: (name: string) => dashboardDestroyPlan(ctx, scope, name),
    doctor: () => sizes.pausedWhile(() => runDashboardDoctor(ctx)),
    logs: (name: string, req: LogRequest, onLine: (l: { service: string; line: string }) => void, signal: AbortSignal) => streamEnvironmentLogs(ctx, scope, name, req, onLine, signal),
    watch: (onChange: () => void, signal: AbortSignal) => {
      announce = onChange;
      watchDashboard(
        ctx,
        (what) => {
          if (what !== 'network') sizes.changed();
          onChange();
        },
        signal,
      );
      const tick = setInterval(() => sizes.measureIfDue(), SIZES_TICK_MS);
      tick.unref();
      signal.addEventListener('abort', () => clearInterval(tick), { once: true });
    },
  };
}
