import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toValidName } from '../../domain/names.js';
import { readState } from '../../state/store.js';
import { COMPOSE_FILE_NAMES } from '../project/compose-files.js';
import type { CoreContext } from '../context.js';
import { selectEnvironments, type EnvView } from './environment-view.js';
import { liveViews } from './environment-view.js';

export interface ListInput {
  all?: boolean | undefined;
  project?: string | undefined;
  cwd?: string | undefined;
}

/**
 * The project of the current directory, if it looks like one (has a compose file or .cilo). An
 * invalid `.cilo/config.yml` is an error here as everywhere: listing every project's
 * environments instead would hide it.
 */
export async function cwdProject(cwd: string, warn: (line: string) => void = () => undefined): Promise<string | undefined> {
  const looksLikeProject = existsSync(join(cwd, '.cilo', 'config.yml')) || COMPOSE_FILE_NAMES.some((f) => existsSync(join(cwd, f)));
  if (!looksLikeProject) return undefined;
  // Loaded only here: reading project config pulls in the YAML parser, which --all never needs.
  const { resolveProject } = await import('../project/project.js');
  return resolveProject(cwd, undefined, warn).name;
}

/** Environments of --project, else of the current directory's project, else all (or all with --all). */
export async function listEnvironments(ctx: CoreContext, input: ListInput): Promise<EnvView[]> {
  const state = readState(ctx.paths);
  const project = input.all ? undefined : input.project !== undefined ? toValidName(input.project, 'project') : await cwdProject(input.cwd ?? process.cwd(), ctx.warn);
  const envs = selectEnvironments(state, { project });
  if (envs.length === 0) return [];
  return liveViews(ctx, envs, state);
}
