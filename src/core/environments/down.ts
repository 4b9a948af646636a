import { atSite } from '../sites/reach.js';
import { existsSync } from 'node:fs';
import { generatedComposePath } from '../../state/paths.js';
import type { EnvironmentState } from '../../domain/state.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { generatedTarget } from '../project/env-compose.js';
import { findEnv } from './lookup.js';
import { pauseContainers } from './pause.js';
import { releaseShared } from '../shared/shared.js';
import { syncRouterOrWarn } from '../router/router.js';
import { withEnvironmentLock } from '../../state/env-lock.js';
import { envLockOptions } from './create.js';

export interface DownInput {
  env: string;
  project?: string | undefined;
  /**
   * Pause the containers instead of stopping them: they keep their memory and the next `up`
   * only thaws them. Status `paused`; DNS names stop resolving as for any `down`; its shared
   * services stay held (not released), so they are there when it resumes.
   */
  pause?: boolean | undefined;
}

/** Stops (or pauses) the environment's containers and keeps them, with workspace, network and volumes; a stopped one releases its shared services. */
export async function downEnvironment(base: CoreContext, input: DownInput): Promise<EnvironmentState> {
  return (await downWithReport(base, input)).env;
}

/** What a `down` did: the environment as it is now, and the shared services it released. */
export interface DownReport {
  env: EnvironmentState;
  /** Empty when paused: a paused environment keeps holding them. */
  released_shared: string[];
}

/** `downEnvironment`, saying also which shared services it released (`cilo down --json`). */
export async function downWithReport(base: CoreContext, input: DownInput): Promise<DownReport> {
  const found = findEnv(readState(base.paths), input.env, input.project);
  // One command at a time per environment: a `down` must not stop what an `up` is starting,
  // nor pause what the idle supervisor or a wake is changing (idle.ts).
  return withEnvironmentLock(base.paths, found.name, () => downLocked(base, { ...input, env: found.name }), envLockOptions(base, found.name));
}

async function downLocked(base: CoreContext, input: DownInput): Promise<DownReport> {
  const env = findEnv(readState(base.paths), input.env, input.project);
  const ctx = await atSite(base, env);
  await ctx.site.docker.ping();
  let paused = false;
  if (existsSync(generatedComposePath(ctx.paths, env.project, env.name))) {
    if (input.pause) {
      ctx.log(`Pausing ${env.name}`);
      paused = (await pauseContainers(ctx, env)).length > 0;
    } else {
      ctx.log(`Stopping ${env.name}`);
      await ctx.site.compose.stop(generatedTarget(ctx.paths, env));
    }
  }
  // A paused environment keeps its shared services: its frozen processes hold connections to
  // them, and the next `up` resumes at once, instead of after the shared container was reaped
  // at the end of its grace period and made again (a database's cold start, seconds each).
  if (!paused) await releaseShared(ctx, env, env.shared);
  const rec = await withStateLock((state) => {
    const rec = findEnv(state, env.name);
    // An environment with nothing running to pause is simply stopped.
    if (rec.status !== 'creating') rec.status = paused ? 'paused' : 'stopped';
    rec.updated_at = isoNow(ctx);
    if (rec.status === 'paused') {
      rec.paused_by = 'user';
      rec.paused_at = rec.updated_at;
    } else {
      delete rec.paused_by;
      delete rec.paused_at;
    }
    return rec;
  }, ctx.paths);
  await syncRouterOrWarn(ctx);
  return { env: rec, released_shared: paused ? [] : [...env.shared].sort() };
}
