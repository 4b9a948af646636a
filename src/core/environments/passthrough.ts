import { siteOf } from '../sites/reach.js';
import { existsSync } from 'node:fs';
import { CiloError } from '../../errors.js';
import { generatedComposePath } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import type { PassthroughOptions } from '../ports.js';
import { generatedTarget } from '../project/env-compose.js';
import { findEnv } from './lookup.js';
import type { EnvironmentState } from '../../domain/state.js';

/** An environment that has a generated compose model (it was started at least once). */
export function startedEnvironment(ctx: CoreContext, envName: string, project?: string): EnvironmentState {
  const env = findEnv(readState(ctx.paths), envName, project);
  if (!existsSync(generatedComposePath(ctx.paths, env.project, env.name))) {
    throw new CiloError('ENV_NOT_FOUND', `Environment "${env.name}" has not been started yet, so it has no compose model.`, { hint: `Run \`cilo up ${env.name}\` first.` });
  }
  return env;
}

/**
 * Runs `docker compose <args>` against an environment's generated model, attached to the
 * terminal; `plainStdout` strips terminal control sequences from what it prints (see compose's
 * adapter).
 */
export async function composeForEnv(ctx: CoreContext, envName: string, args: string[], project?: string, opts: PassthroughOptions = {}): Promise<number> {
  const env = startedEnvironment(ctx, envName, project);
  return (await siteOf(ctx, env)).compose.passthrough(generatedTarget(ctx.paths, env), args, opts);
}

/** Checks a service name against the environment before handing it to compose. */
export function assertService(ctx: CoreContext, envName: string, service: string): void {
  const env = findEnv(readState(ctx.paths), envName);
  if (Object.keys(env.services).length > 0 && !(service in env.services)) {
    throw new CiloError('SERVICE_NOT_FOUND', `Environment "${env.name}" has no service "${service}".`, {
      hint: `Services: ${Object.keys(env.services).sort().join(', ')}.`,
      exitCode: 2,
    });
  }
}
