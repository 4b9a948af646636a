import { toValidName } from '../../domain/names.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { CiloError } from '../../errors.js';

/** Finds an environment by name alone (names are unique per host); `project` must match if given. */
export function findEnv(state: State, rawName: string, project?: string): EnvironmentState {
  const name = toValidName(rawName, 'environment');
  const env = state.environments[name];
  if (!env) {
    throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${name}".`, {
      hint: 'Run `cilo list --all` to see the environments, or `cilo create` to make one.',
    });
  }
  return checkProject(env, project);
}

/** The environment itself when `project` (if given) names its project; a usage error otherwise. */
export function checkProject(env: EnvironmentState, project: string | undefined): EnvironmentState {
  if (project !== undefined && toValidName(project, 'project') !== env.project) {
    throw new CiloError('PROJECT_MISMATCH', `Environment "${env.name}" belongs to project "${env.project}", not "${project}".`, {
      hint: `Drop --project or pass --project ${env.project}.`,
      exitCode: 2,
    });
  }
  return env;
}
