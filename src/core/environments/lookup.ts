import { likelyTypos, toValidName } from '../../domain/names.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { CiloError } from '../../errors.js';

/** Finds an environment by name alone (names are unique per host); `project` must match if given. */
export function findEnv(state: State, rawName: string, project?: string): EnvironmentState {
  const name = toValidName(rawName, 'environment');
  const env = state.environments[name];
  if (!env) {
    throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${name}".`, {
      hint: `${didYouMean(state, name)}Run \`cilo list --all\` to see the environments, or \`cilo create\` to make one.`,
    });
  }
  return checkProject(env, project);
}

/**
 * "Did you mean dev? " when `name`, which names no environment, looks like a typo of one that
 * exists (see likelyTypos: never another member of a numbered series); "" otherwise. Only
 * commands that need an existing environment say it: `up` of a new name creates it.
 */
export function didYouMean(state: State, name: string): string {
  const close = likelyTypos(name, Object.keys(state.environments));
  return close.length > 0 ? `Did you mean ${close.join(' or ')}? ` : '';
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
