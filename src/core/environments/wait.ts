import type { Engine } from '../ports.js';
import type { ContainerInspect, ContainerSummary } from '../../domain/engine.js';
import { completed, containerProblem, justRestarted, restartFacts, type RestartFacts } from '../../domain/liveness.js';
import { CiloError } from '../../errors.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE } from '../../domain/names.js';
import type { ServicePhase } from '../../domain/progress.js';


export type ServiceReadiness = 'ready' | 'pending' | 'failed';

/** What waiting needs of the engine. */
export type WaitEngine = Pick<Engine, 'listContainers' | 'inspectContainer' | 'containerLogs'>;

/**
 * Reads a container: running (and healthy, if it has a healthcheck) and not restarted a moment
 * ago, or a finished one-shot job (domain/liveness.ts: the rule `status` judges by too).
 */
function readiness(c: ContainerSummary, oneShotOk: boolean, facts: RestartFacts | undefined, now: number): { state: ServiceReadiness; why: string } {
  const status = c.Status ?? '';
  switch (c.State) {
    case 'running':
      if (/\(unhealthy\)/.test(status)) return { state: 'failed', why: 'is unhealthy' };
      if (/\(health: starting\)/.test(status)) return { state: 'pending', why: 'is not healthy yet' };
      // A crash loop runs for a moment between restarts: one restarted just now is not up yet.
      if (facts && justRestarted(facts, now)) return { state: 'pending', why: `restarted ${facts.restartCount} time(s); waiting for it to stay up` };
      return { state: 'ready', why: 'is running' };
    case 'exited':
      if (oneShotOk && completed(c, facts)) return { state: 'ready', why: 'completed' };
      return { state: 'failed', why: containerProblem(c, facts, now) ?? 'exited' };
    case 'dead':
      return { state: 'failed', why: 'is dead' };
    case 'restarting':
      // One that restarted this often already (before this wait too: a second `up`) is a crash loop.
      if (facts && facts.restartCount >= CRASH_LOOP_RESTARTS) return { state: 'failed', why: containerProblem(c, facts, now) ?? 'keeps restarting' };
      // Otherwise judged by how often it restarts during the wait (see CRASH_LOOP_RESTARTS).
      return { state: 'pending', why: 'is restarting' };
    default:
      return { state: 'pending', why: `is ${c.State}` };
  }
}

export interface WaitSpec {
  composeProject: string;
  /** Services to wait for, and whether each may finish with exit 0 (a one-shot job; its container's restart policy must let it stop, too). */
  services: Record<string, { oneShotOk: boolean }>;
  timeoutMs: number;
  envName: string;
  /**
   * A service without a healthcheck counts as ready once seen running this long, so one that
   * crashes right after starting is reported instead of being called up.
   */
  settleMs?: number;
  /**
   * Containers thawed by this `up` (paused by `down --pause`): ready once running. They were
   * ready when paused, and Docker reports a paused container unhealthy until the first probe
   * after the thaw, up to a whole healthcheck interval later.
   */
  resumed?: ReadonlySet<string>;
  /** Told each service's phase as the polls see it change (what a person watching is shown); no polls of its own. */
  onService?: ((service: string, phase: ServicePhase, detail?: string) => void) | undefined;
}

/**
 * Restarts during one wait that make a service a crash loop. Fewer are a service whose restart
 * policy retries until what it needs is up (a common pattern): it counts as ready once it has
 * stayed up for the settle time after its last restart.
 */
export const CRASH_LOOP_RESTARTS = 3;

/** What one wait has seen of each container (by id). */
interface Watch {
  /** When it was first seen running since it last was not (or last restarted). */
  firstSeenRunning: Map<string, number>;
  /** RestartCount when first seen, and when last seen: a restart between two polls still counts. */
  restarts: Map<string, { first: number; last: number }>;
}

/**
 * Waits until every service is running (and healthy where it has a healthcheck) and none
 * restarted meanwhile. On failure or timeout, names the service and shows its last log lines.
 */
export async function waitForServices(docker: WaitEngine, spec: WaitSpec): Promise<void> {
  const deadline = Date.now() + spec.timeoutMs;
  const watch: Watch = { firstSeenRunning: new Map(), restarts: new Map() };
  const told = new Map<string, string>();
  for (;;) {
    const last = await poll(docker, spec, watch);
    if (spec.onService) tell(spec.onService, last, told);
    const failed = Object.entries(last).find(([, r]) => r.state === 'failed');
    if (failed) throw await serviceError(docker, spec, failed[0], failed[1].why, failed[1].id, 'SERVICE_FAILED');
    if (Object.values(last).every((r) => r.state === 'ready')) return;
    if (Date.now() > deadline) {
      const pending = Object.entries(last).filter(([, r]) => r.state !== 'ready');
      const [name, r] = pending[0] ?? ['?', { why: 'is not ready', id: undefined }];
      throw await serviceError(docker, spec, name, `${r.why} after ${Math.round(spec.timeoutMs / 1000)} s`, r.id, 'TIMEOUT', pending.map(([n]) => n));
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Whether every service is ready right now, judged as `waitForServices` would (no settle time). */
export async function servicesReadyNow(docker: WaitEngine, spec: WaitSpec): Promise<boolean> {
  const last = await poll(docker, { ...spec, settleMs: 0 }, { firstSeenRunning: new Map(), restarts: new Map() });
  return Object.values(last).every((r) => r.state === 'ready');
}

type Readiness = Record<string, { state: ServiceReadiness; why: string; id?: string }>;

/** A service's readiness as a phase a person reads ("waiting for health"), with the reason when no phase says it. */
function phaseOf(r: { state: ServiceReadiness; why: string }): { phase: ServicePhase; detail?: string } {
  if (r.state === 'ready') return { phase: 'ready' };
  if (r.state === 'failed') return { phase: 'failed', detail: r.why };
  if (r.why === 'is not healthy yet') return { phase: 'health' };
  if (r.why === 'has just started') return { phase: 'started' };
  if (r.why === 'has no container yet') return { phase: 'creating' };
  if (r.why === 'is restarting' || r.why.startsWith('restarted ')) return { phase: 'restarting', detail: r.why };
  return { phase: 'waiting', detail: r.why };
}

/** Tells the listener of each service whose phase changed since the last poll. */
function tell(onService: NonNullable<WaitSpec['onService']>, last: Readiness, told: Map<string, string>): void {
  for (const [service, r] of Object.entries(last)) {
    const { phase, detail } = phaseOf(r);
    const key = `${phase}\0${detail ?? ''}`;
    if (told.get(service) === key) continue;
    told.set(service, key);
    onService(service, phase, detail);
  }
}

/**
 * Follows a container's RestartCount through the wait: a crash loop fails the service; a restart
 * short of that starts its settle time again.
 */
function checkRestarts(c: ContainerSummary, info: ContainerInspect, watch: Watch, now: number): { state: ServiceReadiness; why: string } | undefined {
  const count = info.RestartCount ?? 0;
  const seen = watch.restarts.get(c.Id) ?? { first: count, last: count };
  watch.restarts.set(c.Id, { first: seen.first, last: count });
  const during = count - seen.first;
  if (during >= CRASH_LOOP_RESTARTS) return { state: 'failed', why: `keeps restarting (${during} restarts while starting, last exit code ${info.State.ExitCode})` };
  if (count > seen.last) {
    watch.firstSeenRunning.set(c.Id, now);
    return { state: 'pending', why: `restarted ${during} time(s); waiting for it to stay up` };
  }
  return undefined;
}

async function poll(docker: WaitEngine, spec: WaitSpec, watch: Watch): Promise<Readiness> {
  const { firstSeenRunning } = watch;
  const settleMs = spec.settleMs ?? 500;
  const containers = await docker.listContainers({ label: [`${COMPOSE_PROJECT}=${spec.composeProject}`] });
  const last: Readiness = {};
  for (const name of Object.keys(spec.services)) {
    const mine = containers.filter((c) => c.Labels[COMPOSE_SERVICE] === name);
    if (mine.length === 0) {
      last[name] = { state: 'pending', why: 'has no container yet' };
      continue;
    }
    const judged = [];
    for (const c of mine) {
      if (c.State === 'running' && spec.resumed?.has(c.Id)) {
        judged.push({ state: 'ready' as const, why: 'was resumed', id: c.Id });
        continue;
      }
      if (c.State !== 'running') firstSeenRunning.delete(c.Id);
      // Its restart count, policy and start time: what the list does not say.
      const info = c.State === 'created' ? null : await docker.inspectContainer(c.Id);
      const now = Date.now();
      const r: { state: ServiceReadiness; why: string; id: string } = { ...readiness(c, spec.services[name]?.oneShotOk ?? false, info ? restartFacts(info) : undefined, now), id: c.Id };
      const restarted = info && (c.State === 'running' || c.State === 'restarting') ? checkRestarts(c, info, watch, now) : undefined;
      // Restarts seen during this wait say more than the count alone ("while starting").
      if (restarted && (restarted.state === 'failed' || r.state !== 'failed')) {
        judged.push({ ...restarted, id: c.Id });
        continue;
      }
      if (r.state === 'ready' && c.State === 'running' && !/\(healthy\)/.test(c.Status) && settleMs > 0) {
        const seen = firstSeenRunning.get(c.Id) ?? now;
        firstSeenRunning.set(c.Id, seen);
        if (now - seen < settleMs) {
          r.state = 'pending';
          r.why = 'has just started';
        }
      }
      judged.push(r);
    }
    const worst = judged.sort((a, b) => rank(b.state) - rank(a.state))[0];
    if (worst) last[name] = worst;
  }
  return last;
}

/**
 * Waits until thawed containers with a healthcheck report healthy again (their status is
 * `unhealthy` from the pause until the next probe), so compose's `depends_on: service_healthy`
 * accepts them. Gives up silently at the deadline: compose then reports what is wrong.
 */
export async function awaitHealthAfterThaw(docker: WaitEngine, ids: string[], deadline: number): Promise<void> {
  if (ids.length === 0) return;
  while (Date.now() < deadline) {
    const list = await docker.listContainers({ id: ids });
    if (!list.some((c) => /\((unhealthy|health: starting)\)/.test(c.Status))) return;
    await new Promise((res) => setTimeout(res, 100));
  }
}

function rank(s: ServiceReadiness): number {
  return s === 'failed' ? 2 : s === 'pending' ? 1 : 0;
}

async function serviceError(docker: WaitEngine, spec: WaitSpec, service: string, why: string, id: string | undefined, code: 'SERVICE_FAILED' | 'TIMEOUT', pending: string[] = []): Promise<CiloError> {
  let logs = '';
  if (id) logs = await docker.containerLogs(id, 20).catch(() => '');
  const others = pending.filter((p) => p !== service);
  // The hint names no command that needs the environment: a failed first `up` removes it again,
  // so what the user needs (the last log lines) is in the error itself.
  const shown = logs.trim() ? ' (its last log lines are above)' : ' (it printed nothing)';
  return new CiloError(code, `Service "${service}" of environment "${spec.envName}" ${why}${others.length ? ` (also not ready: ${others.join(', ')})` : ''}.`, {
    service,
    logs: logs.trimEnd() === '' ? [] : logs.trimEnd().split('\n'),
    details: logs.trim() ? `last log lines of ${service}:\n${logs.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}` : undefined,
    hint: code === 'TIMEOUT' ? `Wait longer with \`cilo up ${spec.envName} --timeout SECONDS\`, or fix the service${shown}.` : `Fix the service${shown} and run \`cilo up ${spec.envName}\` again.`,
  });
}
