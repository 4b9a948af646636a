import type { Engine } from './ports.js';
import type { ContainerSummary } from '../domain/engine.js';
import { CiloError } from '../errors.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE } from '../domain/names.js';


export type ServiceReadiness = 'ready' | 'pending' | 'failed';

/** Reads a container summary: running (and healthy, if it has a healthcheck), or a finished one-shot job. */
function readiness(c: ContainerSummary, oneShotOk: boolean): { state: ServiceReadiness; why: string } {
  const status = c.Status ?? '';
  switch (c.State) {
    case 'running':
      if (/\(unhealthy\)/.test(status)) return { state: 'failed', why: 'is unhealthy' };
      if (/\(health: starting\)/.test(status)) return { state: 'pending', why: 'is not healthy yet' };
      return { state: 'ready', why: 'is running' };
    case 'exited': {
      const code = Number(/Exited \((\d+)\)/.exec(status)?.[1] ?? NaN);
      if (code === 0 && oneShotOk) return { state: 'ready', why: 'completed' };
      return { state: 'failed', why: `exited with code ${Number.isNaN(code) ? '?' : code}` };
    }
    case 'dead':
      return { state: 'failed', why: 'is dead' };
    case 'restarting':
      return { state: 'pending', why: 'keeps restarting' };
    default:
      return { state: 'pending', why: `is ${c.State}` };
  }
}

export interface WaitSpec {
  composeProject: string;
  /** Services to wait for, and whether each may finish with exit 0 (no restart policy). */
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
}

/**
 * Waits until every service is running (and healthy where it has a healthcheck). On failure or
 * timeout, names the service and shows its last log lines.
 */
export async function waitForServices(docker: Engine, spec: WaitSpec): Promise<void> {
  const deadline = Date.now() + spec.timeoutMs;
  const firstSeenRunning = new Map<string, number>();
  for (;;) {
    const last = await poll(docker, spec, firstSeenRunning);
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
export async function servicesReadyNow(docker: Engine, spec: WaitSpec): Promise<boolean> {
  const last = await poll(docker, { ...spec, settleMs: 0 }, new Map());
  return Object.values(last).every((r) => r.state === 'ready');
}

type Readiness = Record<string, { state: ServiceReadiness; why: string; id?: string }>;

async function poll(docker: Engine, spec: WaitSpec, firstSeenRunning: Map<string, number>): Promise<Readiness> {
  const settleMs = spec.settleMs ?? 500;
  const containers = await docker.listContainers({ label: [`${COMPOSE_PROJECT}=${spec.composeProject}`] });
  const last: Readiness = {};
  for (const name of Object.keys(spec.services)) {
    const mine = containers.filter((c) => c.Labels[COMPOSE_SERVICE] === name);
    if (mine.length === 0) {
      last[name] = { state: 'pending', why: 'has no container yet' };
      continue;
    }
    const now = Date.now();
    const worst = mine
      .map((c) => {
        if (c.State === 'running' && spec.resumed?.has(c.Id)) return { state: 'ready' as const, why: 'was resumed', id: c.Id };
        const r = { ...readiness(c, spec.services[name]?.oneShotOk ?? false), id: c.Id };
        if (r.state === 'ready' && c.State === 'running' && !/\(healthy\)/.test(c.Status) && settleMs > 0) {
          const seen = firstSeenRunning.get(c.Id) ?? now;
          firstSeenRunning.set(c.Id, seen);
          if (now - seen < settleMs) return { ...r, state: 'pending' as const, why: 'has just started' };
        }
        return r;
      })
      .sort((a, b) => rank(b.state) - rank(a.state))[0];
    if (worst) last[name] = worst;
  }
  return last;
}

/**
 * Waits until thawed containers with a healthcheck report healthy again (their status is
 * `unhealthy` from the pause until the next probe), so compose's `depends_on: service_healthy`
 * accepts them. Gives up silently at the deadline: compose then reports what is wrong.
 */
export async function awaitHealthAfterThaw(docker: Engine, ids: string[], deadline: number): Promise<void> {
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

async function serviceError(docker: Engine, spec: WaitSpec, service: string, why: string, id: string | undefined, code: 'SERVICE_FAILED' | 'TIMEOUT', pending: string[] = []): Promise<CiloError> {
  let logs = '';
  if (id) logs = await docker.containerLogs(id, 20).catch(() => '');
  const others = pending.filter((p) => p !== service);
  return new CiloError(code, `Service "${service}" of environment "${spec.envName}" ${why}${others.length ? ` (also not ready: ${others.join(', ')})` : ''}.`, {
    service,
    logs: logs.trimEnd() === '' ? [] : logs.trimEnd().split('\n'),
    details: logs.trim() ? `last log lines of ${service}:\n${logs.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}` : undefined,
    hint: code === 'TIMEOUT' ? `Check \`cilo logs ${spec.envName} ${service}\`, or wait longer with \`cilo up ${spec.envName} --timeout SECONDS\`.` : `Fix the service and run \`cilo up ${spec.envName}\` again; \`cilo logs ${spec.envName} ${service}\` shows more.`,
  });
}
