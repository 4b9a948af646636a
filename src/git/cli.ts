/**
 * The `git` adapter: always a program with an argument array (never a shell line), with a
 * stable locale for parseable output and no interactive prompts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CiloError } from '../errors.js';
import { gitFailure } from '../domain/git.js';
import { capture, type CaptureResult } from '../proc/run.js';

const GIT_ENV = { LC_ALL: 'C', LANG: 'C', GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0' };

/** True when `dir` is the top of a git working tree (a `.git` directory or file). */
export function isGitRepo(dir: string): boolean {
  return existsSync(join(dir, '.git'));
}

/** Runs `git -C dir args...`; resolves with its result whatever the exit code. */
export async function git(dir: string, args: string[]): Promise<CaptureResult> {
  try {
    // An empty stdin: git never reads it here.
    return await capture('git', ['-C', dir, ...args], { env: { ...process.env, ...GIT_ENV } });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CiloError('GIT_FAILED', 'The `git` command was not found on PATH.', { hint: 'Install git, then run the command again.' });
    }
    throw e;
  }
}

/** Runs git and returns its stdout; a non-zero exit is a GIT_FAILED error naming the command. */
export async function gitOut(dir: string, args: string[], what: string): Promise<string> {
  const r = await git(dir, args);
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
