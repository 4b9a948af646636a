/**
 * `cilo diff <env>` and `cilo merge <env>`: what was done in an environment's workspace that
 * its source does not have, and bringing committed work back.
 *
 * Git projects (the workspace is a copy with its `.git`): commits reachable from the
 * workspace's HEAD and not from the source's HEAD, plus the workspace's uncommitted changes.
 * `merge` fetches the workspace's branch into the source repository and merges it into the
 * checked-out branch (fast-forward when possible), refusing a source with uncommitted changes.
 * Other projects: `diff` compares the trees file by file (size, time, then content).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { loadProjectConfig } from '../config/load.js';
import { filesToRemove, renderTarget } from '../domain/env-files.js';
import { diffTrees, type TreeEntry } from '../domain/tree-diff.js';
import { CiloError } from '../errors.js';
import { gitFailure, parsePorcelainZ, type StatusEntry } from '../domain/git.js';
import type { EnvironmentState } from '../domain/state.js';
import { readState } from '../state/store.js';
import type { CoreContext } from './context.js';
import { findEnv } from './lookup.js';

/** Files cilo itself writes into a workspace: never a change of the user's. */
const CILO_FILES = ['.cilo/meta.json'];
const GIT_EXCLUDES = CILO_FILES.map((f) => `:(exclude)${f}`);

export interface Commit {
  sha: string;
  subject: string;
  author: string;
  date: string;
}

export interface GitDiffResult {
  kind: 'git';
  env: string;
  source: string;
  workspace: string;
  /** The workspace's checked-out branch (null: detached HEAD). */
  branch: string | null;
  source_branch: string | null;
  /** Commits in the workspace that the source's HEAD does not have, newest first. */
  commits: Commit[];
  /** Commits of the source's HEAD that the workspace does not have. */
  behind: number;
  uncommitted: StatusEntry[];
  /** `git diff --stat HEAD` of the workspace (tracked files). */
  stat: string;
}

export interface FileDiffResult {
  kind: 'files';
  env: string;
  source: string;
  workspace: string;
  added: string[];
  changed: string[];
  removed: string[];
  /** Env files the project's env settings remove or render: not compared. */
  env_files_skipped: string[];
}

export type DiffResult = GitDiffResult | FileDiffResult;

function lookup(ctx: CoreContext, envName: string, project?: string): EnvironmentState {
  const env = findEnv(readState(ctx.paths), envName, project);
  if (!existsSync(env.workspace)) {
    throw new CiloError('WORKSPACE', `The workspace of environment "${env.name}" (${env.workspace}) is missing.`, { hint: `Destroy it with \`cilo destroy ${env.name} --force\`.` });
  }
  if (!env.source || !existsSync(env.source)) {
    throw new CiloError('PROJECT_NOT_FOUND', `The source of environment "${env.name}" (${env.source || 'unknown'}) no longer exists, so there is nothing to compare with.`, {
      hint: `\`cilo path ${env.name}\` gives the workspace; copy what you need from there.`,
    });
  }
  return env;
}

/** The source's HEAD commit, made available in the workspace repository (fetched if it is newer than the copy). */
async function sourceHeadIn(ctx: CoreContext, env: EnvironmentState): Promise<string | null> {
  const head = await ctx.git.headCommit(env.source);
  if (head === null) return null;
  if (!(await ctx.git.hasCommit(env.workspace, head))) {
    // The source moved on since the copy: fetch its HEAD (only FETCH_HEAD and objects change).
    await ctx.git.out(env.workspace, ['fetch', '--quiet', '--no-tags', env.source, 'HEAD'], `Fetching the source's HEAD into environment ${env.name}`);
  }
  return head;
}

async function gitDiff(ctx: CoreContext, env: EnvironmentState): Promise<GitDiffResult> {
  const wsHead = await ctx.git.headCommit(env.workspace);
  const srcHead = await sourceHeadIn(ctx, env);
  let commits: Commit[] = [];
  let behind = 0;
  if (wsHead !== null) {
    const range = srcHead === null ? ['HEAD'] : [`${srcHead}..HEAD`];
    const log = await ctx.git.out(env.workspace, ['log', '--format=%H%x1f%s%x1f%an%x1f%aI%x1e', ...range, '--'], 'Listing the workspace commits');
    commits = log
      .split('\x1e')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => {
        const [sha = '', subject = '', author = '', date = ''] = l.split('\x1f');
        return { sha, subject, author, date };
      });
    if (srcHead !== null) behind = Number((await ctx.git.out(env.workspace, ['rev-list', '--count', `HEAD..${srcHead}`], 'Counting the source commits')).trim()) || 0;
  }
  const status = await ctx.git.out(env.workspace, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.', ...GIT_EXCLUDES], 'Reading the workspace status');
  const stat = wsHead === null ? '' : (await ctx.git.out(env.workspace, ['diff', '--stat', 'HEAD', '--', '.', ...GIT_EXCLUDES], 'Summing up the workspace changes')).trimEnd();
  return {
    kind: 'git',
    env: env.name,
    source: env.source,
    workspace: env.workspace,
    branch: await ctx.git.currentBranch(env.workspace),
    source_branch: await ctx.git.currentBranch(env.source),
    commits,
    behind,
    uncommitted: parsePorcelainZ(status),
    stat,
  };
}

const dotName = (n: string): string => (n.startsWith('.') ? n : `.${n}`);

/** Lists a tree the way `create` copies it: dot-directories skipped except .cilo and copy_dot_dirs; never .git. */
async function listTree(root: string, copyDotDirs: string[], ignoreDotDirs: string[]): Promise<Map<string, TreeEntry>> {
  const copy = new Set(copyDotDirs.map(dotName));
  const ignore = new Set(ignoreDotDirs.map(dotName));
  const out = new Map<string, TreeEntry>();
  const walk = async (rel: string): Promise<void> => {
    const dirents = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    await Promise.all(
      dirents.map(async (d) => {
        const r = rel === '' ? d.name : `${rel}/${d.name}`;
        if (d.isDirectory()) {
          const name = d.name;
          if (name === '.git') return;
          if (!name.startsWith('.') || name === '.cilo' || (copy.has(name) && !ignore.has(name))) await walk(r);
          return;
        }
        if (d.isSymbolicLink()) {
          out.set(r, { kind: 'symlink', size: 0, mtimeMs: 0, link: await readlink(join(root, r)) });
        } else if (d.isFile()) {
          const st = await lstat(join(root, r));
          out.set(r, { kind: 'file', size: st.size, mtimeMs: st.mtimeMs });
        }
      }),
    );
  };
  await walk('');
  return out;
}

function fileHash(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function fileDiff(env: EnvironmentState): Promise<FileDiffResult> {
  const config = loadProjectConfig(env.source);
  const [source, workspace] = await Promise.all([
    listTree(env.source, config.copy_dot_dirs ?? [], config.ignore_dot_dirs ?? []),
    listTree(env.workspace, config.copy_dot_dirs ?? [], config.ignore_dot_dirs ?? []),
  ]);
  for (const f of CILO_FILES) {
    source.delete(f);
    workspace.delete(f);
  }
  // What the env settings did on purpose (left out, rendered) is not the user's change.
  const skipped = new Set(filesToRemove([...source.keys()], config.env));
  (config.env?.render ?? []).forEach((r, i) => skipped.add(renderTarget(r.file, i)));
  for (const f of skipped) {
    source.delete(f);
    workspace.delete(f);
  }
  const d = await diffTrees(source, workspace, async (rel) => (await fileHash(join(env.source, rel))) === (await fileHash(join(env.workspace, rel))));
  return { kind: 'files', env: env.name, source: env.source, workspace: env.workspace, ...d, env_files_skipped: [...skipped].sort() };
}

export async function diffEnvironment(ctx: CoreContext, input: { env: string; project?: string | undefined }): Promise<DiffResult> {
  const env = lookup(ctx, input.env, input.project);
  if (await ctx.git.isRepo(env.workspace) && await ctx.git.isRepo(env.source)) return gitDiff(ctx, env);
  return fileDiff(env);
}

export interface MergeResult {
  env: string;
  source: string;
  workspace: string;
  branch: string | null;
  source_branch: string | null;
  /** `up-to-date`: nothing to bring back; `fast-forward`; `merge`: a merge commit was made. */
  result: 'up-to-date' | 'fast-forward' | 'merge';
  commits: number;
  head: string | null;
  /** Uncommitted changes left in the workspace (not merged). */
  uncommitted: number;
}

/** Brings the workspace's committed work into the source repository's checked-out branch. */
export async function mergeEnvironment(ctx: CoreContext, input: { env: string; project?: string | undefined; ffOnly?: boolean | undefined }): Promise<MergeResult> {
  const env = lookup(ctx, input.env, input.project);
  if (!await ctx.git.isRepo(env.workspace) || !await ctx.git.isRepo(env.source)) {
    throw new CiloError('WORKSPACE', `Environment "${env.name}" is not a git repository (its source ${env.source} or its workspace has no .git), so there is nothing to merge.`, {
      hint: `\`cilo diff ${env.name}\` lists the changed files; copy them back by hand.`,
    });
  }
  const wsHead = await ctx.git.headCommit(env.workspace);
  if (wsHead === null) {
    throw new CiloError('WORKSPACE', `The workspace of environment "${env.name}" has no commits to merge.`, { hint: `Commit your work in ${env.workspace} first.` });
  }
  const dirty = (await ctx.git.out(env.source, ['status', '--porcelain=v1', '--untracked-files=no'], 'Checking the source repository')).trim();
  if (dirty !== '') {
    throw new CiloError('SOURCE_DIRTY', `The source repository ${env.source} has uncommitted changes, and cilo merges only into a clean working tree.`, {
      hint: `Commit or stash them there (\`git -C ${env.source} stash\`), then run \`cilo merge ${env.name}\` again.`,
    });
  }
  const branch = await ctx.git.currentBranch(env.workspace);
  const sourceBranch = await ctx.git.currentBranch(env.source);
  const uncommitted = parsePorcelainZ(await ctx.git.out(env.workspace, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.', ...GIT_EXCLUDES], 'Reading the workspace status')).length;
  await ctx.git.out(env.source, ['fetch', '--quiet', '--no-tags', env.workspace, branch ?? 'HEAD'], `Fetching from environment ${env.name}`);
  const fetched = (await ctx.git.out(env.source, ['rev-parse', 'FETCH_HEAD^{commit}'], 'Reading the fetched commit')).trim();
  const srcHead = await ctx.git.headCommit(env.source);
  const base = { env: env.name, source: env.source, workspace: env.workspace, branch, source_branch: sourceBranch, uncommitted };
  if (srcHead !== null && (await ctx.git.isAncestor(env.source, fetched, srcHead))) return { ...base, result: 'up-to-date', commits: 0, head: srcHead };
  const commits = Number((await ctx.git.out(env.source, ['rev-list', '--count', srcHead === null ? fetched : `${srcHead}..${fetched}`], 'Counting the commits to merge')).trim()) || 0;

  const canFastForward = srcHead === null || (await ctx.git.isAncestor(env.source, srcHead, fetched));
  if (canFastForward) {
    const args = ['merge', '--ff-only', '--quiet', fetched];
    const r = await ctx.git.run(env.source, args);
    if (r.code !== 0) throw gitFailure(`Fast-forwarding ${env.source} to environment ${env.name}`, env.source, args, r);
    ctx.log(`Fast-forwarded ${env.source} to ${fetched.slice(0, 12)}`);
    return { ...base, result: 'fast-forward', commits, head: await ctx.git.headCommit(env.source) };
  }
  if (input.ffOnly) {
    throw new CiloError('GIT_FAILED', `The source ${env.source} has commits that environment "${env.name}" does not, so it cannot be fast-forwarded.`, {
      hint: `Run \`cilo merge ${env.name}\` without --ff-only to make a merge commit, or rebase in the workspace first.`,
    });
  }
  const message = `Merge cilo environment ${env.name}${branch ? ` (${branch})` : ''}`;
  const args = ['merge', '--no-ff', '--no-edit', '--quiet', '-m', message, fetched];
  const r = await ctx.git.run(env.source, args);
  if (r.code !== 0) {
    const conflicts = (await ctx.git.run(env.source, ['diff', '--name-only', '--diff-filter=U'])).stdout.trim().split('\n').filter((l) => l !== '');
    await ctx.git.run(env.source, ['merge', '--abort']);
    if (conflicts.length > 0) {
      throw new CiloError('GIT_FAILED', `Merging environment "${env.name}" into ${env.source} conflicts in ${conflicts.join(', ')}; the merge was aborted and the source is unchanged.`, {
        hint: `Merge by hand: \`cd ${env.source} && git fetch ${env.workspace} ${branch ?? 'HEAD'} && git merge FETCH_HEAD\`, or rebase in the workspace first.`,
      });
    }
    throw gitFailure(`Merging environment ${env.name} into ${env.source}`, env.source, args, r);
  }
  return { ...base, result: 'merge', commits, head: await ctx.git.headCommit(env.source) };
}
