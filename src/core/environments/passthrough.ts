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
import { isIdlePaused } from '../../domain/idle.js';
import type { ComposeTarget } from '../../domain/compose-model.js';
import { sharedComposeProject, sharedContainerName } from '../../domain/names.js';
import { useEnvironment, whileUsing } from './idle.js';

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

/**
 * `cilo exec`: runs `docker compose exec <args>` in the environment, which counts as a use of it
 * (issue #26): an idle-paused environment is woken first, and it is marked used while the
 * command runs. One paused by `down --pause` stays paused: exec says so instead of the engine's
 * "container is paused".
 */
export async function execInEnvironment(ctx: CoreContext, envName: string, args: string[], project?: string, service?: string): Promise<number> {
  const env = startedEnvironment(ctx, envName, project);
  assertNotPausedByUser(env);
  await useEnvironment(ctx, env.name, 'cilo exec');
  const site = await siteOf(ctx, env);
  const target = await execTarget(ctx, env, service);
  return whileUsing(ctx, env.name, () => site.compose.passthrough(target, args, {}));
}

/**
 * Where `exec` runs: the environment's own model, or for a service it shares, the shared
 * container's (compose knows it only under the shared project: the environment's model has no
 * such service). The shared container serves every environment that uses it.
 */
async function execTarget(ctx: CoreContext, env: EnvironmentState, service: string | undefined): Promise<ComposeTarget> {
  if (service === undefined || env.services[service]?.type !== 'shared') return generatedTarget(ctx.paths, env);
  // The shared-service code (YAML, compose) is loaded only for a shared service.
  const { sharedFile } = await import('../shared/shared.js');
  const file = sharedFile(ctx.paths, env.project, service, env.host);
  if (!existsSync(file)) {
    throw new CiloError('SERVICE_NOT_FOUND', `Shared service "${service}" of ${env.name} has no container made by cilo yet.`, { hint: `Run \`cilo up ${env.name}\`, then run the command again.` });
  }
  ctx.warn(`${service} is shared: the command runs in the shared container ${sharedContainerName(env.project, service)}, which serves every environment of project ${env.project} that uses it.`);
  return { projectName: sharedComposeProject(env.project), files: [file], cwd: env.source };
}

/**
 * An environment paused by `down --pause` stays paused until `up` (only the supervisor's idle
 * pause is undone by a use): an exec in it says so instead of the engine's "container is paused".
 */
export function assertNotPausedByUser(env: EnvironmentState): void {
  if (env.status === 'paused' && !isIdlePaused(env)) {
    throw new CiloError('ENV_PAUSED', `Environment "${env.name}" is paused (cilo down --pause), so nothing can run in it.`, { hint: `Resume it with \`cilo up ${env.name}\`, then run the command again.` });
  }
}

/**
 * `cilo logs`: `docker compose logs <args>`; following them (`--follow`) counts as a use of the
 * environment while it lasts, without waking one that is paused (its logs read as they are).
 */
export async function logsOfEnvironment(ctx: CoreContext, envName: string, args: string[], opts: { project?: string | undefined; follow?: boolean | undefined; plainStdout?: boolean | undefined }): Promise<number> {
  const env = startedEnvironment(ctx, envName, opts.project);
  const site = await siteOf(ctx, env);
  const read = (): Promise<number> => site.compose.passthrough(generatedTarget(ctx.paths, env), args, { plainStdout: opts.plainStdout });
  return opts.follow ? whileUsing(ctx, env.name, read) : read();
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
