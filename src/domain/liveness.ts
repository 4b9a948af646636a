/**
 * Whether an environment's services are as a running environment needs them, judged one way by
 * `status`, `list`, the manifest, the dashboard and `up`'s readiness wait: each runs (and has not
 * just been restarted), or is a one-shot job that completed (exit 0 under a restart policy that
 * lets it stop, as compose's `service_completed_successfully` expects). Any other service makes
 * a `running` environment `degraded`, named with why: "exited with code 1", "keeps restarting".
 */
import type { ContainerInspect, ContainerSummary } from './engine.js';
import { compareNames } from './names.js';
import { containersOfService, replicaNumber } from './replicas.js';
import type { EnvironmentState } from './state.js';

/** What the container list does not say and the container's inspect does. */
export interface RestartFacts {
  restartCount: number;
  /** The restart policy's name: '' or `no`, `always`, `unless-stopped`, `on-failure`. */
  policy: string;
  exitCode: number;
  /** When it last started (ms since the epoch, the engine's clock); undefined if never. */
  startedAt: number | undefined;
}

/** Restart facts by container id, for the containers whose list entry leaves a question. */
export type FactsById = ReadonlyMap<string, RestartFacts>;

/**
 * A container that was restarted counts as restarting until it has stayed up this long: a crash
 * loop runs for a moment between its restarts. `up` waits as long before it calls one ready, so
 * what `up` called ready, `status` right after does not call restarting.
 */
export const RESTART_STABLE_MS = 2000;

export function restartFacts(info: ContainerInspect): RestartFacts {
  const started = info.State.StartedAt ? Date.parse(info.State.StartedAt) : NaN;
  // A container never started says 0001-01-01T00:00:00Z.
  return { restartCount: info.RestartCount ?? 0, policy: info.HostConfig?.RestartPolicy?.Name ?? '', exitCode: info.State.ExitCode, startedAt: Number.isNaN(started) || started <= 0 ? undefined : started };
}

/** Policies that start a container again after it exits 0: under them, one that exited did not complete, it was stopped. */
export function restartsAfterSuccess(policy: string): boolean {
  return policy === 'always' || policy === 'unless-stopped';
}

/** Whether the container list leaves a question only the container's inspect answers: an exit, a restart, a start just now. */
export function needsRestartFacts(c: ContainerSummary): boolean {
  // The engine rounds down to whole seconds: "Up 2 seconds" may be 2.9 s, longer than RESTART_STABLE_MS.
  if (c.State === 'running') return /^Up (Less than a second|[12] seconds?)\b/.test(c.Status);
  return c.State === 'exited' || c.State === 'restarting';
}

/** The exit code in the list's status text (`Exited (1) 3 seconds ago`, `Restarting (1) 1 second ago`). */
function listedExitCode(c: ContainerSummary): number | undefined {
  const m = /^(?:Exited|Restarting) \((-?\d+)\)/.exec(c.Status);
  return m ? Number(m[1]) : undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function keepsRestarting(c: ContainerSummary, facts: RestartFacts | undefined): string {
  const code = c.State === 'restarting' ? (listedExitCode(c) ?? facts?.exitCode) : undefined;
  const parts = [facts ? plural(facts.restartCount, 'restart') : undefined, code !== undefined ? `last exit code ${code}` : undefined].filter((p) => p !== undefined);
  return `keeps restarting${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** Whether a container that exited completed as a one-shot job: exit 0, under a policy that lets it stop. */
export function completed(c: ContainerSummary, facts: RestartFacts | undefined): boolean {
  if (c.State !== 'exited') return false;
  const code = listedExitCode(c) ?? facts?.exitCode;
  return code === 0 && !(facts && restartsAfterSuccess(facts.policy));
}

/** Whether a running container was restarted less than RESTART_STABLE_MS ago. */
export function justRestarted(facts: RestartFacts | undefined, now: number): boolean {
  return facts !== undefined && facts.restartCount > 0 && facts.startedAt !== undefined && now - facts.startedAt < RESTART_STABLE_MS;
}

/**
 * Why a container is not as a running environment needs it (a phrase after the service's name),
 * or null when it is: running, or a one-shot job that completed.
 */
export function containerProblem(c: ContainerSummary | undefined, facts: RestartFacts | undefined, now: number): string | null {
  if (!c) return 'has no container';
  switch (c.State) {
    case 'running':
      return justRestarted(facts, now) ? keepsRestarting(c, facts) : null;
    case 'restarting':
      return keepsRestarting(c, facts);
    case 'exited': {
      if (completed(c, facts)) return null;
      const code = listedExitCode(c) ?? facts?.exitCode;
      const after = facts && facts.restartCount > 0 ? ` after ${plural(facts.restartCount, 'restart')}` : '';
      return `exited with code ${code ?? '?'}${after}`;
    }
    case 'created':
      return 'was never started';
    default:
      return `is ${c.State}`; // paused, dead, removing
  }
}

export interface ServiceProblem {
  service: string;
  /** A phrase after the service's name: `exited with code 1`, `replica 2 keeps restarting (5 restarts)`. */
  reason: string;
}

/**
 * A service's problems from its containers: one (its own or the shared one), or a scaled
 * service's replicas in order (each named by its number), or none at all.
 */
export function serviceProblems(service: string, containers: ContainerSummary[], scaled: boolean, facts: FactsById, now: number): ServiceProblem[] {
  if (containers.length === 0) return [{ service, reason: containerProblem(undefined, undefined, now) ?? '' }];
  return containers.flatMap((c) => {
    const p = containerProblem(c, facts.get(c.Id), now);
    if (p === null) return [];
    return [{ service, reason: scaled ? `replica ${replicaNumber(c)} ${p}` : p }];
  });
}

/** Every problem of an environment's services (none unless it is recorded `running`: a stopped one's exits are no problem). */
export function environmentProblems(env: Pick<EnvironmentState, 'project' | 'name' | 'status' | 'services'>, containers: ContainerSummary[], facts: FactsById, now: number): ServiceProblem[] {
  if (env.status !== 'running') return [];
  return Object.entries(env.services)
    .sort(([a], [b]) => compareNames(a, b))
    .flatMap(([name, s]) => serviceProblems(name, containersOfService(containers, env, name, s.type), s.replicas !== undefined, facts, now));
}

/** A recorded `running` is `degraded` while a service has a problem. */
export function liveStatus(recorded: string, problems: readonly ServiceProblem[]): string {
  return recorded === 'running' && problems.length > 0 ? 'degraded' : recorded;
}

/** `api exited with code 1; worker keeps restarting (4 restarts, last exit code 1)`. */
export function problemsText(problems: readonly ServiceProblem[]): string {
  return problems.map((p) => `${p.service} ${p.reason}`).join('; ');
}
