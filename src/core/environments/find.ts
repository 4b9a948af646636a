/** An environment of this home's state, by the name a person typed (for `path`, `status`, the MCP tools). */
import type { EnvironmentState } from '../../domain/state.js';
import { ciloPaths, type CiloPaths } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import { findEnv } from './lookup.js';

/** The environment named `name` (of `project`, if given); ENV_NOT_FOUND or PROJECT_MISMATCH otherwise. */
export function findEnvironment(name: string, project?: string, paths: CiloPaths = ciloPaths()): EnvironmentState {
  return findEnv(readState(paths), name, project);
}
