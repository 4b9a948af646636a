/**
 * Where an environment's project directory is (issue #28): a copy made at `create`
 * (`copy`, the default), or the source directory itself (`in-place`), so that edits made there
 * reach the running environment through its bind mounts. Everything else (network, addresses,
 * names, volumes, datasets, shared references) is the environment's own either way.
 *
 * Pure: which mode a new environment gets, and what an in-place environment refuses.
 */
import { isAbsolute, relative } from 'node:path';
import type { ProjectConfig } from './project-config.js';
import type { EnvironmentState } from './state.js';

export const WORKSPACE_MODES = ['copy', 'in-place'] as const;
export type WorkspaceMode = (typeof WORKSPACE_MODES)[number];

/** Why a new environment got its mode: said once, when it is made. */
export type ModeReason = 'flag' | 'config' | 'worktree' | 'worktree-copy-only' | 'default';

export interface ModeChoice {
  mode: WorkspaceMode;
  reason: ModeReason;
  /** For `worktree-copy-only`: what made a linked worktree copy after all. */
  because?: string | undefined;
}

export interface ModeAsked {
  /** `--in-place` / `--copy` (both given is refused before). */
  flag?: WorkspaceMode | undefined;
  /** `workspace:` of `.cilo/config.yml`. */
  config?: WorkspaceMode | undefined;
  /** The source is a linked git worktree (`git rev-parse --git-dir` differs from `--git-common-dir`). */
  linkedWorktree: boolean;
  /** Why the project cannot run in place (copyOnlyReason), if it cannot. */
  copyOnly?: string | undefined;
}

/**
 * The mode of a new environment: a flag, else the config, else in place inside a linked git
 * worktree (unless the project needs a copy, which is then said), else a copy. An explicit
 * in-place of a project that needs a copy is refused by the caller (`refusal`).
 */
export function chooseWorkspaceMode(asked: ModeAsked): ModeChoice {
  if (asked.flag) return { mode: asked.flag, reason: 'flag' };
  if (asked.config) return { mode: asked.config, reason: 'config' };
  if (asked.linkedWorktree) return asked.copyOnly === undefined ? { mode: 'in-place', reason: 'worktree' } : { mode: 'copy', reason: 'worktree-copy-only', because: asked.copyOnly };
  return { mode: 'copy', reason: 'default' };
}

/**
 * What in the project (or the command) needs a copy: env files cilo would rewrite (`env.render`)
 * or a hook it would run in the tree (`env.init_hook`), or a copy of some files only
 * (`--include`, `--empty`). Undefined when it can run in place.
 */
export function copyOnlyReason(config: Pick<ProjectConfig, 'env'>, opts: { include?: readonly string[] | undefined; empty?: boolean | undefined } = {}): string | undefined {
  if ((config.env?.render ?? []).length > 0) return 'its .cilo/config.yml has env render rules, which rewrite files of the workspace';
  if ((config.env?.init_hook ?? '').trim() !== '') return 'its .cilo/config.yml has an env init_hook, which writes into the workspace';
  if (opts.empty) return '--empty makes an empty workspace';
  if ((opts.include ?? []).length > 0) return '--include copies some files only';
  return undefined;
}

/** The mode an environment was made in (a record without one predates in-place: a copy). */
export function workspaceModeOf(env: Pick<EnvironmentState, 'workspace_mode'>): WorkspaceMode {
  return env.workspace_mode ?? 'copy';
}

export function isInPlace(env: Pick<EnvironmentState, 'workspace_mode'>): boolean {
  return workspaceModeOf(env) === 'in-place';
}

/** Whether `path` is `dir` or below it (both absolute, already resolved). */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Whether a directory may be removed as a workspace: strictly below one of cilo's own roots
 * (its workspaces, its snapshots), and neither inside nor holding the source of an in-place
 * environment. The last guard before any `rm -rf` of a workspace; every path is absolute.
 */
export function workspaceRemovalRefusal(path: string, roots: readonly string[], inPlaceSources: readonly string[]): string | undefined {
  if (!roots.some((r) => isWithin(path, r) && path !== r)) return `${path} is not a workspace of this CILO_HOME (${roots.join(', ')})`;
  const held = inPlaceSources.find((s) => isWithin(s, path) || isWithin(path, s));
  if (held !== undefined) return `${path} ${held === path ? 'is' : isWithin(held, path) ? 'holds' : 'is inside'} the source tree ${held} of an in-place environment`;
  return undefined;
}
