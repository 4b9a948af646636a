/**
 * Claude Code's worktree hooks (`cilo hook claude ...`). In a git repository, a worktree Claude
 * Code asks for is a real git worktree (`git worktree add`) with a cilo environment running in
 * place on it (issue #28), and removing it destroys the environment and leaves the worktree to
 * git. Elsewhere the environment's workspace is a copy, as before: removing it destroys the
 * environment, unless it holds work not yet merged back.
 */
import { cleanupStep } from '../cleanup.js';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { envNameFromWorktree, hookCommand, mergeClaudeHooks, parseWorktreeCreate, parseWorktreeRemove, worktreeCandidates, type HookUpdate } from '../../domain/claude-hooks.js';
import { copyOnlyReason, isInPlace, isWithin } from '../../domain/workspace-mode.js';
import { loadProjectConfig } from '../../config/load.js';
import type { EnvironmentState } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import type { CoreContext } from '../context.js';
import { createEnvironment } from '../environments/create.js';
import { destroyEnvironment, destroyLocked } from '../environments/destroy.js';
import { diffEnvironment, type DiffResult } from '../environments/diff.js';
import { upEnvironment } from '../environments/up.js';

export interface WorktreeCreateInput {
  payload: string;
  /** Start the stack too (off by default: hooks have short timeouts). */
  up?: boolean | undefined;
  /** Where the repository is when the payload has no cwd: $CLAUDE_PROJECT_DIR, else the current directory. */
  fallbackDir: string;
}

/** A git worktree this hook made, to undo when the environment cannot be made. */
interface MadeWorktree {
  repo: string;
  path: string;
  branch: string;
}

/**
 * `git worktree add -b <branch> <path>` at the first free place (worktreeCandidates): the
 * directory is claimed with an atomic mkdir first, so two hooks at once with one name get two.
 */
async function addWorktree(ctx: CoreContext, top: string, name: string, given: string | undefined): Promise<MadeWorktree> {
  for (const c of worktreeCandidates(top, name, given)) {
    const path = resolve(c.path);
    mkdirSync(dirname(path), { recursive: true });
    try {
      mkdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && given === undefined) continue;
      throw new CiloError('WORKSPACE', `Cannot make the worktree ${path}: ${(e as Error).message}.`, { hint: 'Remove that directory or ask for another worktree name.' });
    }
    const r = await ctx.git.run(top, ['worktree', 'add', '--quiet', '-b', c.branch, path]);
    if (r.code !== 0) {
      rmdirSafe(path);
      throw new CiloError('GIT_FAILED', `\`git worktree add -b ${c.branch} ${path}\` failed in ${top}: ${r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}`}.`, { hint: 'Fix what git says (a branch of that name may exist already), then try again.' });
    }
    return { repo: top, path, branch: c.branch };
  }
  throw new Error('worktreeCandidates ended');
}

function rmdirSafe(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone
  }
}

/** Undoes addWorktree: the hook failed, and Claude Code makes no worktree then. */
async function removeMadeWorktree(ctx: CoreContext, w: MadeWorktree): Promise<void> {
  await ctx.git.run(w.repo, ['worktree', 'remove', '--force', w.path]);
  await ctx.git.run(w.repo, ['branch', '-D', w.branch]);
}

/** The top of the git working tree `dir` is in; undefined outside git. */
async function gitTop(ctx: CoreContext, dir: string): Promise<string | undefined> {
  const r = await ctx.git.run(dir, ['rev-parse', '--show-toplevel']).catch(() => undefined);
  return r && r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
}

/**
 * In a git repository (whose project can run in place): makes a git worktree (named after the payload's, `-2`, `-3`... when
 * taken) and an environment running in place on it (the project at the same place in it as in
 * the repository), and returns the worktree's path. Elsewhere: an environment on a copy, its
 * workspace's path. With `up`, starts it; a failure leaves nothing behind.
 */
export async function worktreeCreate(ctx: CoreContext, input: WorktreeCreateInput): Promise<{ env: string; workspace: string }> {
  const p = parseWorktreeCreate(input.payload);
  const from = resolve(p.cwd ?? input.fallbackDir);
  const name = envNameFromWorktree(p.name, p.sessionId);
  // A project that cannot run in place (env render rules, an init hook) or asks for copies
  // (`workspace: copy`) gets an environment on a copy, as outside git.
  const config = loadProjectConfig(from, ctx.warn);
  const top = config.workspace === 'copy' || copyOnlyReason(config) !== undefined ? undefined : await gitTop(ctx, from);
  const made = top === undefined ? undefined : await addWorktree(ctx, top, name, p.path);
  const undo = async (): Promise<void> => {
    if (made) await cleanupStep(ctx, `Removing the worktree ${made.path} again`, () => removeMadeWorktree(ctx, made));
  };
  let created;
  try {
    const dir = made && top !== undefined ? join(made.path, relative(top, real(from))) : from;
    created = await createEnvironment(ctx, { env: made ? envNameFromWorktree(made.path.split('/').pop(), undefined) : name, from: dir, autoName: true, exactFirst: true, ...(made ? { workspace: 'in-place' as const } : {}) });
  } catch (e) {
    await undo();
    throw e;
  }
  const workspace = made ? made.path : created.env.workspace;
  if (!input.up) return { env: created.env.name, workspace };
  try {
    const env = (await upEnvironment(ctx, { env: created.env.name })).env;
    return { env: env.name, workspace };
  } catch (e) {
    // Claude Code makes no worktree when the hook fails: leave nothing behind either.
    await cleanupStep(ctx, `Removing ${created.env.name} again`, () => destroyEnvironment(ctx, created.env));
    await undo();
    throw e;
  }
}

export type WorktreeRemoveResult =
  | { outcome: 'destroyed'; env: string }
  | { outcome: 'kept'; env: string; reason: string }
  | { outcome: 'unknown'; path: string };

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function environmentOfPath(ctx: CoreContext, path: string): EnvironmentState | undefined {
  const target = real(path);
  return Object.values(readState(ctx.paths).environments).find((e) => !isInPlace(e) && (e.workspace === target || real(e.workspace) === target));
}

/** The in-place environments on the worktree at `path` (or on a directory inside it). */
function inPlaceOnPath(ctx: CoreContext, path: string): EnvironmentState[] {
  const target = real(path);
  return Object.values(readState(ctx.paths).environments).filter((e) => isInPlace(e) && (isWithin(resolve(e.workspace), resolve(path)) || isWithin(real(e.workspace), target)));
}

/** What in the workspace is not in the source yet, in words; undefined when nothing is. */
export function unmergedWork(d: DiffResult): string | undefined {
  if (d.kind === 'git') {
    // Every repository of the workspace counts: a nested one's work is as unmerged as the top's.
    const commits = d.repos.reduce((n, r) => n + r.commits.length, 0);
    const uncommitted = d.repos.reduce((n, r) => n + r.uncommitted.length, 0);
    const parts = [commits > 0 ? `${commits} commit(s) the source does not have` : '', uncommitted > 0 ? `${uncommitted} uncommitted change(s)` : ''].filter((s) => s !== '');
    return parts.length > 0 ? parts.join(' and ') : undefined;
  }
  const n = d.added.length + d.changed.length + d.removed.length;
  return n > 0 ? `${n} changed file(s)` : undefined;
}

/** Destroys the environment whose workspace is the removed worktree, unless it holds unmerged work. */
export async function worktreeRemove(ctx: CoreContext, input: { payload: string; force?: boolean | undefined }): Promise<WorktreeRemoveResult> {
  const p = parseWorktreeRemove(input.payload);
  if (!p.path) throw new CiloError('USAGE', 'The WorktreeRemove payload names no worktree (no "worktree_path" or "path").', { hint: 'Claude Code sends it; by hand pipe {"worktree_path": "/path/to/workspace"}.', exitCode: 2 });
  // In place on the worktree: the environments go, the worktree is git's (nothing in it is touched).
  const inPlace = inPlaceOnPath(ctx, p.path);
  if (inPlace.length > 0) {
    for (const e of inPlace) await destroyLocked(ctx, e);
    return { outcome: 'destroyed', env: inPlace.map((e) => e.name).join(', ') };
  }
  const env = environmentOfPath(ctx, p.path);
  if (!env) return { outcome: 'unknown', path: p.path };
  if (!input.force && existsSync(env.workspace)) {
    let reason: string | undefined;
    try {
      reason = unmergedWork(await diffEnvironment(ctx, { env: env.name }));
    } catch (e) {
      reason = `its changes cannot be compared with the source (${e instanceof Error ? e.message : String(e)})`;
    }
    if (reason) return { outcome: 'kept', env: env.name, reason };
  }
  await destroyLocked(ctx, env);
  return { outcome: 'destroyed', env: env.name };
}

/**
 * Merges both hooks into a Claude Code settings file (created if missing), as asked: a cilo hook
 * already there with another command (without `--up`, another `--command`) is updated. Other
 * settings stay; the file is written only when something changed.
 */
export function installClaudeHooks(input: { file: string; cilo: string; up?: boolean | undefined }): { file: string; added: string[]; updated: HookUpdate[] } {
  let current: unknown;
  if (existsSync(input.file)) {
    const text = readFileSync(input.file, 'utf8');
    try {
      current = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CiloError('CONFIG_INVALID', `${input.file} is not valid JSON, so cilo cannot add its hooks to it.`, { hint: 'Fix the file, then run `cilo hook claude install` again.' });
    }
  }
  const commands = { WorktreeCreate: hookCommand(input.cilo, 'WorktreeCreate', input.up ? ['--up'] : []), WorktreeRemove: hookCommand(input.cilo, 'WorktreeRemove') };
  const merged = mergeClaudeHooks(current, commands);
  if (merged.added.length > 0 || merged.updated.length > 0) {
    mkdirSync(dirname(input.file), { recursive: true });
    writeFileAtomic(input.file, `${JSON.stringify(merged.settings, null, 2)}\n`, 0o644);
  }
  return { file: input.file, added: merged.added, updated: merged.updated };
}
