import { toValidName } from '../domain/names.js';
import { CiloError } from '../errors.js';
import type { EnvironmentState, State } from '../domain/state.js';

/** Finds an environment by name alone (names are unique per host); `project` must match if given. */
export function findEnv(state: State, rawName: string, project?: string): EnvironmentState {
  const name = toValidName(rawName, 'environment');
  const env = state.environments[name];
  if (!env) {
    throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${name}".`, {
      hint: 'Run `cilo list --all` to see the environments, or `cilo create` to make one.',
    });
  }
  if (project !== undefined && toValidName(project, 'project') !== env.project) {
    throw new CiloError('PROJECT_MISMATCH', `Environment "${name}" belongs to project "${env.project}", not "${project}".`, {
      hint: `Drop --project or pass --project ${env.project}.`,
      exitCode: 2,
    });
  }
  return env;
}
