/**
 * Claude Code's worktree hooks (`cilo hook claude ...`): a worktree Claude Code asks for is a
 * cilo environment (its workspace is the worktree), and removing the worktree destroys the
 * environment, unless it holds work not yet merged back.
 */
import { cleanupStep } from '../cleanup.js';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { envNameFromWorktree, hookCommand, mergeClaudeHooks, parseWorktreeCreate, parseWorktreeRemove, type HookUpdate } from '../../domain/claude-hooks.js';
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

/** Makes the environment (named after the worktree, `-2`, `-3`... when taken) and returns its workspace path. */
export async function worktreeCreate(ctx: CoreContext, input: WorktreeCreateInput): Promise<{ env: string; workspace: string }> {
  const p = parseWorktreeCreate(input.payload);
  const from = resolve(p.cwd ?? input.fallbackDir);
  const created = await createEnvironment(ctx, { env: envNameFromWorktree(p.name, p.sessionId), from, autoName: true, exactFirst: true });
  if (!input.up) return { env: created.env.name, workspace: created.env.workspace };
  try {
    const env = (await upEnvironment(ctx, { env: created.env.name })).env;
    return { env: env.name, workspace: env.workspace };
  } catch (e) {
    // Claude Code makes no worktree when the hook fails: leave nothing behind either.
    await cleanupStep(ctx, `Removing ${created.env.name} again`, () => destroyEnvironment(ctx, created.env));
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
  return Object.values(readState(ctx.paths).environments).find((e) => e.workspace === target || real(e.workspace) === target);
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
