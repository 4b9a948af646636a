/**
 * The `git` adapter: always a program with an argument array (never a shell line), with a
 * stable locale for parseable output and no interactive prompts.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CiloError } from '../errors.js';
import { gitFailure, relabelNoIndex } from '../domain/git.js';
import { capture, type CaptureResult } from '../proc/run.js';

const GIT_ENV = { LC_ALL: 'C', LANG: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };

/** True when `dir` is the top of a git working tree (a `.git` directory or file). */
export function isGitRepo(dir: string): boolean {
  return existsSync(join(dir, '.git'));
}

/** Runs `git -C dir args...`; resolves with its result whatever the exit code. */
export async function git(dir: string, args: string[], env: Record<string, string> = {}): Promise<CaptureResult> {
  try {
    // An empty stdin: git never reads it here.
    return await capture('git', ['-C', dir, ...args], { env: { ...process.env, ...GIT_ENV, ...env } });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CiloError('GIT_FAILED', 'The `git` command was not found on PATH.', { hint: 'Install git, then run the command again.' });
    }
    throw e;
  }
}

/** Runs git and returns its stdout; a non-zero exit is a GIT_FAILED error naming the command. */
export async function gitOut(dir: string, args: string[], what: string, env: Record<string, string> = {}): Promise<string> {
  const r = await git(dir, args, env);
  if (r.code !== 0) throw gitFailure(what, dir, args, r);
  return r.stdout;
}

/** The commit HEAD points at, or null in a repository without commits. */
export async function headCommit(dir: string): Promise<string | null> {
  const r = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** The checked-out branch, or null on a detached HEAD. */
export async function currentBranch(dir: string): Promise<string | null> {
  const r = await git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']);
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function hasCommit(dir: string, sha: string): Promise<boolean> {
  return (await git(dir, ['cat-file', '-e', `${sha}^{commit}`])).code === 0;
}

export async function isAncestor(dir: string, ancestor: string, of: string): Promise<boolean> {
  return (await git(dir, ['merge-base', '--is-ancestor', ancestor, of])).code === 0;
}

/**
 * `git diff --cached <args> <base> -- <pathspec>` over an index that holds the working tree as
 * it is, untracked files included (ignored ones not): committed and uncommitted changes
 * against `base` in one diff. The index is a temporary copy of the repository's own (whose
 * stat cache spares rehashing unchanged files), so the repository's index is never touched.
 */
export async function diffWorktree(dir: string, base: string, args: string[], pathspec: string[]): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), 'cilo-diff-'));
  try {
    const index = join(tmp, 'index');
    const own = resolve(dir, (await gitOut(dir, ['rev-parse', '--git-path', 'index'], 'Finding the index of the repository')).trim());
    if (existsSync(own)) copyFileSync(own, index);
    const env = { GIT_INDEX_FILE: index };
    // The whole tree: an exclude pathspec naming an ignored directory makes `add` fail; the
    // pathspec applies to the diff instead.
    await gitOut(dir, ['add', '--all'], `Reading the working tree of ${dir}`, env);
    return await gitOut(dir, ['diff', '--cached', ...args, base, '--', ...pathspec], `Comparing ${dir} with ${base.slice(0, 12)}`, env);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * `git diff --no-index <args>` of two files outside any repository (either may be null: added
 * or removed), both named `label` in the output as a diff inside one tree would name them.
 */
export async function diffFiles(from: string | null, to: string | null, label: string, args: string[]): Promise<string> {
  const cmd = ['diff', '--no-index', ...args, '--', from ?? '/dev/null', to ?? '/dev/null'];
  const r = await git(tmpdir(), cmd);
  // 1 means "they differ", as diff(1) says it.
  if (r.code > 1) throw gitFailure(`Comparing ${label}`, tmpdir(), cmd, r);
  return relabelNoIndex(r.stdout, [from, to].filter((p): p is string => p !== null), label);
}
