/**
 * An environment's named volumes as fork and snapshots see them, and the freeze: the
 * environment's running containers are paused only while their volumes are copied, and thawed
 * whatever happens. A copy of a frozen data directory is what a crash would leave, which
 * databases recover from (postgres replays its WAL).
 */
import { COMPOSE_PROJECT, composeProjectName } from '../../domain/names.js';
import type { SiteContext } from '../sites/site.js';
import type { EnvironmentState } from '../../domain/state.js';
import { readState } from '../../state/store.js';
import { pauseContainers, resumeContainers, type PauseEngine } from '../environments/pause.js';
import type { DataTree, VolumeCopyMethod } from '../ports.js';

export const COMPOSE_VOLUME = 'com.docker.compose.volume';

export interface EnvVolume {
  /** The engine's name (`cilo-<project>-<env>_<key>`). */
  name: string;
  /** The compose file's name of it. */
  key: string;
  labels: Record<string, string>;
  /** An image the engine has, for a helper container (the image of a container that mounts it). */
  image: string;
}

/** The volumes compose made for the environment (external volumes are not its own, and stay shared). */
export async function environmentVolumes(ctx: SiteContext, env: Pick<EnvironmentState, 'project' | 'name'>): Promise<EnvVolume[]> {
  const cp = composeProjectName(env.project, env.name);
  const [volumes, containers] = await Promise.all([ctx.site.docker.listVolumes({ label: [`${COMPOSE_PROJECT}=${cp}`] }), ctx.site.docker.listContainers({ label: [`${COMPOSE_PROJECT}=${cp}`] })]);
  const out: EnvVolume[] = [];
  for (const v of volumes.sort((a, b) => a.Name.localeCompare(b.Name))) {
    const labels = v.Labels ?? {};
    const key = labels[COMPOSE_VOLUME] ?? v.Name.slice(cp.length + 1);
    const users = await ctx.site.docker.listContainers({ volume: [v.Name] });
    const image = users[0]?.Image ?? containers[0]?.Image ?? HELPER_FALLBACK_IMAGE;
    out.push({ name: v.Name, key, labels, image });
  }
  return out;
}

/** An image with sh and cp when nothing of the environment's is known (a snapshot of a removed environment). */
export const HELPER_FALLBACK_IMAGE = 'busybox:latest';

/**
 * Runs `fn` with the environment's running containers paused, and thaws exactly those after,
 * whatever happens (one paused before, by `down --pause`, stays paused). Returns how long they
 * were frozen.
 */
export async function whileFrozen<T>(ctx: { site: { docker: PauseEngine }; warn: (line: string) => void }, env: Pick<EnvironmentState, 'project' | 'name'>, fn: () => Promise<T>): Promise<{ result: T; frozenMs: number }> {
  const start = Date.now();
  // All or none: a pause that fails has thawed the others before it throws.
  const ids = await pauseContainers(ctx, env);
  try {
    const result = await fn();
    return { result, frozenMs: Date.now() - start };
  } finally {
    const thawed = await Promise.allSettled(ids.map((id) => ctx.site.docker.unpauseContainer(id)));
    const failed = thawed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) ctx.warn(`Could not thaw a container of ${env.name}: ${String(failed.reason)} (run \`cilo doctor --fix\`).`);
  }
}

export interface VolumeCopy {
  volume: string;
  method: VolumeCopyMethod;
  ms: number;
}

/** Copies each pair in turn (they share one disk); reports how each was copied. */
export async function copyTrees(ctx: SiteContext, pairs: { label: string; from: DataTree; to: DataTree; image: string }[]): Promise<VolumeCopy[]> {
  const out: VolumeCopy[] = [];
  for (const p of pairs) {
    const t = Date.now();
    // Test hook: a copy that fails while the source is frozen.
    if (process.env.CILO_TEST_FAILPOINT === 'volume-copy') throw new Error(`failpoint volume-copy (${p.label})`);
    if (process.env.CILO_TEST_FAILPOINT === 'volume-copy-kill') process.kill(process.pid, 'SIGKILL');
    const { method } = await ctx.site.volumes.copy(p.from, p.to, { image: p.image });
    out.push({ volume: p.label, method, ms: Date.now() - t });
  }
  return out;
}

/** One word for several copies: how they were made, or `none`. */
export function methodOf(copies: VolumeCopy[]): VolumeCopyMethod | 'none' | 'mixed' {
  const kinds = new Set(copies.map((c) => c.method));
  if (kinds.size === 0) return 'none';
  return kinds.size === 1 ? [...kinds][0]! : 'mixed';
}

/**
 * `doctor --fix` after a fork or snapshot killed while `name` was frozen: its paused containers
 * are thawed, unless the environment was paused on purpose (`down --pause`).
 */
export async function thawAfterKill(ctx: SiteContext, name: string): Promise<void> {
  const env = readState(ctx.paths).environments[name];
  if (!env || env.status === 'paused') return;
  await resumeContainers(ctx, env);
}
