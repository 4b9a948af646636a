/**
 * `cilo top` (issue #26): what each environment and each shared service costs now, summed from
 * the Engine's stats of its containers (a shared service once, with its users). Every engine is
 * asked once (core/sites/reach.ts), its containers' stats read in parallel; CPU needs two samples,
 * so a sampler keeps each container's last one between refreshes.
 */
import { lastUsed, pauseFields } from '../../domain/idle.js';
import type { ContainerStats, ContainerSummary } from '../../domain/engine.js';
import { LABELS } from '../../domain/names.js';
import { siteKey } from '../../domain/sites.js';
import type { EnvironmentState, EnvStatus } from '../../domain/state.js';
import { containerUsage, NO_USAGE, sumUsage, type Usage } from '../../domain/usage.js';
import { toValidName } from '../../domain/names.js';
import { homeId } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import type { Engine } from '../ports.js';
import { askEachSite } from '../sites/reach.js';
import { selectEnvironments } from './environment-view.js';
import { cwdProject } from './list.js';

export interface TopInput {
  all?: boolean | undefined;
  project?: string | undefined;
  cwd?: string | undefined;
}

export interface EnvironmentUsage {
  name: string;
  project: string;
  host: string | null;
  /** The recorded status; `unreachable` when its engine did not answer. */
  status: EnvStatus | 'unreachable';
  /** Its own containers that run (or are paused) now. */
  containers: number;
  usage: Usage;
  /** The shared services it uses (their cost is counted once, under `shared`). */
  shared: string[];
  /** Seconds since its last use (a DNS query, request, exec, run, MCP call, or change of state), while it runs or is paused; else null. */
  idle_seconds: number | null;
  /** While paused: `idle` (the supervisor; its next use wakes it) or `user` (`down --pause`). */
  paused_by?: 'idle' | 'user';
  /** Paused after this many seconds unused (absent: never). */
  idle_pause_seconds?: number;
}

export interface SharedUsage {
  project: string;
  service: string;
  host: string | null;
  container: string;
  state: string;
  users: string[];
  usage: Usage;
}

export interface TopSnapshot {
  at: string;
  environments: EnvironmentUsage[];
  shared: SharedUsage[];
  /** What cilo's containers shown here use together (shared services once). */
  total: Usage;
  /** Engines that did not answer, each with why. */
  unreachable: { site: string; problem: string }[];
}

/**
 * At most this many stats requests at once per engine. The Engine answers a one-shot stats request
 * at its stats collector's next tick (about once a second, one tick serving every request waiting
 * then), so each batch costs a tick: 48 containers read 24 at a time took 2.7 s, all at once 1.5 s,
 * and 64 environments (129 containers) would wait six ticks per sample, twice for `top --once`.
 * The cap only bounds the sockets of an engine with more containers than this.
 */
const PARALLEL_STATS = 256;

/** Keeps each container's last sample, so the next read has a CPU delta. */
export class UsageSampler {
  private readonly last = new Map<string, ContainerStats>();

  /** Reads the containers' stats; returns each one's use (CPU against its previous sample). */
  async read(docker: Engine, containers: ContainerSummary[]): Promise<Map<string, Usage>> {
    const out = new Map<string, Usage>();
    const queue = [...containers];
    const worker = async (): Promise<void> => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const s = await docker.containerStats(c.Id).catch(() => null);
        if (!s) continue;
        out.set(c.Id, containerUsage(this.last.get(c.Id), s));
        this.last.set(c.Id, s);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_STATS, containers.length) }, worker));
    return out;
  }

  /** Whether a container has a sample to compare with. */
  has(id: string): boolean {
    return this.last.has(id);
  }
}

/**
 * One snapshot. With a fresh sampler, the stats are read twice `intervalMs` apart so CPU is
 * measured; a sampler from the previous refresh gives CPU at once.
 */
export async function topSnapshot(ctx: CoreContext, input: TopInput, sampler = new UsageSampler(), intervalMs = 500): Promise<TopSnapshot> {
  const state = readState(ctx.paths);
  const project = input.all ? undefined : input.project !== undefined ? toValidName(input.project, 'project') : await cwdProject(input.cwd ?? process.cwd(), ctx.warn);
  const envs = selectEnvironments(state, { project });
  const shared = Object.values(state.shared_services).filter((s) => (project === undefined || s.project === project) && (s.users.length > 0 || s.grace_until !== null));
  const home = homeId(ctx.paths);
  const answers = await askEachSite(ctx, [...envs, ...shared], async (site) => {
    const containers = (await site.docker.listContainers({ label: [`${LABELS.home}=${home}`] }, false)).filter((c) => c.State === 'running' || c.State === 'paused');
    const fresh = containers.filter((c) => !sampler.has(c.Id));
    if (fresh.length > 0) {
      await sampler.read(site.docker, fresh);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    return { containers, usage: await sampler.read(site.docker, containers) };
  }, { askMs: 30_000, tolerateLocal: true });

  const unreachable: TopSnapshot['unreachable'] = [];
  for (const a of answers.values()) if (!a.ok) unreachable.push({ site: a.label, problem: a.problem });
  const envRows = envs.map((e): EnvironmentUsage => {
    const a = answers.get(siteKey(e));
    if (!a?.ok) return { ...envBase(ctx, e), status: 'unreachable', containers: 0, usage: NO_USAGE };
    const own = a.value.containers.filter((c) => c.Labels[LABELS.env] === e.name && c.Labels[LABELS.project] === e.project && c.Labels[LABELS.shared] !== 'true');
    return { ...envBase(ctx, e), status: e.status, containers: own.length, usage: sumUsage(own.map((c) => a.value.usage.get(c.Id) ?? NO_USAGE)) };
  });
  const sharedRows = shared.flatMap((s): SharedUsage[] => {
    const a = answers.get(siteKey(s));
    if (!a?.ok) return [];
    const c = a.value.containers.find((x) => x.Labels[LABELS.shared] === 'true' && x.Labels[LABELS.project] === s.project && x.Labels[LABELS.service] === s.service);
    return [{ project: s.project, service: s.service, host: s.host ?? null, container: s.container, state: c?.State ?? 'not running', users: [...s.users].sort(), usage: c ? (a.value.usage.get(c.Id) ?? NO_USAGE) : NO_USAGE }];
  });
  return {
    at: new Date(ctx.clock.now()).toISOString(),
    environments: envRows,
    shared: sharedRows,
    total: sumUsage([...envRows.map((r) => r.usage), ...sharedRows.map((r) => r.usage)]),
    unreachable,
  };
}

function envBase(ctx: CoreContext, e: EnvironmentState): Pick<EnvironmentUsage, 'name' | 'project' | 'host' | 'shared' | 'idle_seconds' | 'paused_by' | 'idle_pause_seconds'> {
  const live = e.status === 'running' || e.status === 'paused';
  const idle = live ? Math.max(0, Math.floor((ctx.clock.now() - lastUsed(e, [ctx.activity.last(e.name)])) / 1000)) : null;
  return { name: e.name, project: e.project, host: e.host ?? null, shared: [...e.shared].sort(), idle_seconds: idle, ...pauseFields(e) };
}
