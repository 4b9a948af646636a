/**
 * Which workspace a new environment gets (issue #28): the source directory itself (in place)
 * or a copy. The rules are domain/workspace-mode.ts; here git is asked whether the source is a
 * linked worktree, and a refusal or the choice is put in words.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { chooseWorkspaceMode, copyOnlyReason, type ModeChoice, type WorkspaceMode } from '../../domain/workspace-mode.js';
import type { EnvironmentState } from '../../domain/state.js';
import type { ProjectConfig } from '../../domain/project-config.js';
import { CiloError } from '../../errors.js';
import type { CoreContext } from '../context.js';

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Whether `dir` is in a linked git worktree (`git worktree add`): its git directory differs
 * from the repository's common one. A main checkout, a submodule, a directory outside git, or
 * git missing: false.
 */
export async function isLinkedWorktree(ctx: Pick<CoreContext, 'git'>, dir: string): Promise<boolean> {
  const r = await ctx.git.run(dir, ['rev-parse', '--git-dir', '--git-common-dir']).catch(() => undefined);
  if (!r || r.code !== 0) return false;
  const [gitDir, common] = r.stdout.split('\n').map((l) => l.trim());
  if (!gitDir || !common) return false;
  // Both are printed relative to `dir` unless absolute.
  return real(resolve(dir, gitDir)) !== real(resolve(dir, common));
}

export interface ModeInput {
  /** `--in-place` / `--copy`. */
  flag?: WorkspaceMode | undefined;
  include?: readonly string[] | undefined;
  empty?: boolean | undefined;
}

/**
 * The mode of a new environment of the project at `dir`; an in-place asked for (flag or config)
 * that the project or the command cannot honour is refused in one sentence.
 */
export async function decideWorkspaceMode(ctx: Pick<CoreContext, 'git'>, dir: string, config: ProjectConfig, input: ModeInput): Promise<ModeChoice> {
  const copyOnly = copyOnlyReason(config, input);
  const explicit = input.flag ?? config.workspace;
  const linkedWorktree = explicit === undefined ? await isLinkedWorktree(ctx, dir) : false;
  const choice = chooseWorkspaceMode({ flag: input.flag, config: config.workspace, linkedWorktree, copyOnly });
  if (choice.mode === 'in-place' && copyOnly !== undefined) {
    const asked = choice.reason === 'flag' ? '--in-place was given' : '.cilo/config.yml says `workspace: in-place`';
    throw new CiloError('WORKSPACE', `${dir} cannot run in place: ${copyOnly}, and in place that is your own tree (${asked}).`, {
      hint: choice.reason === 'flag' ? 'Drop --in-place (or pass --copy) to run on a copy.' : 'Pass --copy, or remove `workspace: in-place` from .cilo/config.yml.',
      exitCode: 2,
    });
  }
  return choice;
}

/** What is said, once, when a new environment is made: why it runs in place, or why a worktree is copied. */
export function modeNote(name: string, dir: string, choice: ModeChoice): { level: 'log' | 'warn'; text: string } | undefined {
  if (choice.reason === 'worktree') return { level: 'log', text: `${dir} is a linked git worktree, so ${name} runs in place on it: edits there are live, nothing is copied (--copy makes a copy instead)` };
  if (choice.reason === 'worktree-copy-only') return { level: 'warn', text: `${dir} is a linked git worktree, but ${choice.because ?? 'the project needs a copy'}, so ${name} runs on a copy: edits in the worktree do not reach it.` };
  if (choice.mode === 'in-place') return { level: 'log', text: `${name} runs in place on ${dir}: edits there are live, nothing is copied` };
  return undefined;
}

/** `up`/`create` of an environment that exists: a flag asking for the other mode is refused (the mode is chosen once, at create). */
export function checkRecordedMode(env: EnvironmentState, flag: WorkspaceMode | undefined): void {
  const mode = env.workspace_mode ?? 'copy';
  if (flag === undefined || flag === mode) return;
  throw new CiloError('WORKSPACE', `Environment "${env.name}" runs ${mode === 'in-place' ? `in place on ${env.workspace}` : `on a copy (${env.workspace})`}, and its workspace mode is chosen when it is created, so --${flag} cannot change it.`, {
    hint: mode === 'in-place' ? `Run \`cilo fork ${env.name} <new>\` for a copy of the tree as it is now, or \`cilo destroy ${env.name}\` and create it again with --copy.` : `Drop --in-place, or \`cilo destroy ${env.name}\` and create it again with --in-place.`,
    exitCode: 2,
  });
}
