/**
 * `cilo db shell|dump|load`: the engine's own client inside the shared engine's container, on
 * one environment's private dataset, attached to this terminal (or its pipes) as `cilo exec` is.
 */
import { existsSync } from 'node:fs';
import { dbClientArgv, type DbAction } from '../../domain/db-client.js';
import { sharedComposeProject } from '../../domain/names.js';
import type { EnvironmentState } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { findEnv } from '../environments/lookup.js';
import { sharedFile } from '../shared/shared.js';
import { atSite } from '../sites/reach.js';

export interface DbClientInput {
  env: string;
  /** The shared service of the dataset; may be left out when the environment has one dataset. */
  service?: string | undefined;
  project?: string | undefined;
  action: DbAction;
  /** Give the client a terminal (`shell` on a terminal); dump and load never get one. */
  tty: boolean;
}

/** The shared service whose dataset the command works on: the one named, or the only one. */
export function datasetService(env: EnvironmentState, service: string | undefined): string {
  const names = Object.keys(env.datasets ?? {}).sort();
  if (service !== undefined) {
    if (names.includes(service)) return service;
    throw new CiloError('SERVICE_NOT_FOUND', `Environment "${env.name}" has no private dataset in a service "${service}".`, {
      hint: names.length > 0 ? `Its datasets are in: ${names.join(', ')}.` : 'Only shared services labelled `cilo.share.isolate` give an environment a dataset (see `cilo db list`).',
      exitCode: 2,
    });
  }
  if (names.length === 1 && names[0] !== undefined) return names[0];
  if (names.length === 0) {
    throw new CiloError('SERVICE_NOT_FOUND', `Environment "${env.name}" has no private dataset.`, {
      hint: 'Only shared services labelled `cilo.share.isolate` give an environment a dataset; `cilo db list` shows them. For another service, use `cilo exec`.',
      exitCode: 2,
    });
  }
  throw new CiloError('USAGE', `Environment "${env.name}" has datasets in ${names.join(', ')}: name the service.`, { hint: `For example \`cilo db shell ${env.name} ${names[0] ?? ''}\`.` });
}

/** Runs the client and returns its exit status. */
export async function runDbClient(base: CoreContext, input: DbClientInput): Promise<number> {
  const env = findEnv(readState(base.paths), input.env, input.project);
  const service = datasetService(env, input.service);
  const d = env.datasets?.[service];
  if (!d) throw new Error(`no dataset of ${service}`);
  if (d.status !== 'ready') {
    throw new CiloError('SERVICE_FAILED', `The dataset ${d.name} of ${env.name} in "${service}" is ${d.status}, not ready.`, { hint: `Run \`cilo up ${env.name}\` (or \`cilo doctor --fix\`), then try again.` });
  }
  const argv = dbClientArgv(d.engine, input.action, d.name, { env: env.name, service });
  const file = sharedFile(base.paths, env.project, service, env.host);
  if (!existsSync(file)) {
    throw new CiloError('SERVICE_NOT_FOUND', `Shared service "${service}" of ${env.name} has not been started by this cilo home.`, { hint: `Run \`cilo up ${env.name}\` first.` });
  }
  const ctx = await atSite(base, env);
  const target = { projectName: sharedComposeProject(env.project), files: [file], cwd: env.source };
  return ctx.site.compose.passthrough(target, ['exec', ...(input.tty ? [] : ['-T']), service, ...argv]);
}
