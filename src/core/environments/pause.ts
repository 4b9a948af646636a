/**
 * `down --pause`: an environment's own containers are frozen (cgroup freezer) instead of
 * stopped, so the next `up` only thaws them. Shared services are never paused here: they serve
 * other environments. The paused environment keeps holding them (down.ts), so none is reaped
 * while it is frozen.
 */
import { COMPOSE_PROJECT, composeProjectName } from '../../domain/names.js';
import type { EnvironmentState } from '../../domain/state.js';
import type { Engine } from '../ports.js';

/** What pausing needs of the Engine. */
export type PauseEngine = Pick<Engine, 'listContainers' | 'pauseContainer' | 'unpauseContainer'>;

async function containersIn(ctx: { site: { docker: PauseEngine } }, env: Pick<EnvironmentState, 'project' | 'name'>, state: 'running' | 'paused'): Promise<string[]> {
  const list = await ctx.site.docker.listContainers({ label: [`${COMPOSE_PROJECT}=${composeProjectName(env.project, env.name)}`], status: [state] });
  return list.map((c) => c.Id);
}

/** Pauses the environment's running containers, all or none; returns their ids. */
export async function pauseContainers(ctx: { site: { docker: PauseEngine } }, env: Pick<EnvironmentState, 'project' | 'name'>): Promise<string[]> {
  const ids = await containersIn(ctx, env, 'running');
  const results = await Promise.allSettled(ids.map((id) => ctx.site.docker.pauseContainer(id)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // All or nothing: the environment stays running, as its state still says.
    await Promise.allSettled(ids.map((id) => ctx.site.docker.unpauseContainer(id)));
    throw failed.reason;
  }
  return ids;
}

/** Thaws the environment's paused containers; returns their ids (they keep running as they were). */
export async function resumeContainers(ctx: { site: { docker: PauseEngine } }, env: Pick<EnvironmentState, 'project' | 'name'>): Promise<string[]> {
  const ids = await containersIn(ctx, env, 'paused');
  await Promise.all(ids.map((id) => ctx.site.docker.unpauseContainer(id)));
  return ids;
}
