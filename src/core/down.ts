import { existsSync } from 'node:fs';
import { composeStop } from '../compose/cli.js';
import { generatedComposePath } from '../state/paths.js';
import type { EnvironmentState } from '../state/schema.js';
import { readState, withStateLock } from '../state/store.js';
import type { CoreContext } from './context.js';
import { generatedTarget } from './env-compose.js';
import { findEnv } from './lookup.js';
import { releaseShared } from './shared.js';

export interface DownInput {
  env: string;
  project?: string | undefined;
}

/** Stops the environment's containers and keeps them, with workspace, network and volumes. */
export async function downEnvironment(ctx: CoreContext, input: DownInput): Promise<EnvironmentState> {
  const env = findEnv(readState(ctx.paths), input.env, input.project);
  await ctx.docker.ping();
  if (existsSync(generatedComposePath(ctx.paths, env.project, env.name))) {
    ctx.log(`Stopping ${env.name}`);
    await composeStop(generatedTarget(ctx.paths, env));
  }
  await releaseShared(ctx, env, env.shared);
  return withStateLock((state) => {
    const rec = findEnv(state, env.name);
    if (rec.status !== 'creating') rec.status = 'stopped';
    rec.updated_at = new Date().toISOString();
    return rec;
  }, ctx.paths);
}
