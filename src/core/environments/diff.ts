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
import { loadProjectConfig } from '../../config/load.js';
import { filesToRemove, renderTarget } from '../../domain/env-files.js';
import { diffTrees, type TreeEntry } from '../../domain/tree-diff.js';
import { CiloError } from '../../errors.js';
import { formatStat, gitFailure, parseNumstatZ, parsePorcelainZ, type NumstatEntry, type StatusEntry } from '../../domain/git.js';
import type { EnvironmentState } from '../../domain/state.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { findEnv } from './lookup.js';
import { CILO_FILES, excludeCiloFiles, readNotCopied } from '../project/workspace-meta.js';
import { isInPlace } from '../../domain/workspace-mode.js';

/** How much of the changes to show: the patch (as `git diff`), `--stat`, or `--name-only`. */
export type DiffFormat = 'patch' | 'stat' | 'name-only';

export interface Commit {
  sha: string;
  subject: string;
  author: string;
  date: string;
}

/** One git repository of the workspace (the workspace itself, or one nested in it) against its counterpart in the source. */
export interface RepoDiff {
  /** Its directory relative to the workspace: `.` for the workspace itself. */
  path: string;
  /** False when the source has no repository there: it is listed, not compared. */
  in_source: boolean;
  /** The workspace's checked-out branch (null: detached HEAD). */
  branch: string | null;
  source_branch: string | null;
  /** Commits in the workspace that the source's HEAD does not have, newest first. */
  commits: Commit[];
  /** Commits of the source's HEAD that the workspace does not have. */
  behind: number;
  /** Uncommitted changes (paths relative to the workspace). */
  uncommitted: StatusEntry[];
  /** Paths (relative to the workspace) that differ from the source, committed or not. */
  files: string[];
}

/** What every kind of result adds: the changes of all repositories (and plain files) in one. */
interface Changes {
  /** `git diff --stat` of all changes. */
  stat: string;
  /** Every changed path, relative to the workspace (`--name-only`). */
  files: string[];
  /** The patch of all changes, paths relative to the workspace (only when asked for). */
  patch?: string;
  /** Every git repository found in the workspace, the workspace itself first. */
  repos: RepoDiff[];
}

export interface GitDiffResult extends Changes {
  kind: 'git';
  env: string;
  source: string;
  workspace: string;
  /** branch, source_branch, commits, behind, uncommitted: those of the workspace's own repository. */
  branch: string | null;
  source_branch: string | null;
  commits: Commit[];
  behind: number;
  uncommitted: StatusEntry[];
}

export interface FileDiffResult extends Changes {
  kind: 'files';
  env: string;
  source: string;
  workspace: string;
  /** Files outside nested git repositories, compared as trees. */
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

/** A git repository of the workspace and the directory at the same place in the source. */
interface RepoPair {
  /** Relative to the workspace; '' for the workspace itself. */
  rel: string;
  ws: string;
  src: string;
  inSource: boolean;
  /** Pathspec of this repository's own files: `.` without cilo's files and the repositories nested in it. */
  pathspec: string[];
}

/** Directories never searched for nested repositories: dependencies, not the user's work. */
const NOT_SEARCHED = new Set(['.git', 'node_modules']);

/** Every directory below `root` (itself included, as '') with its own `.git`, sorted, as the original cilo pulled each. */
async function findRepos(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const dirents = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    if (dirents.some((d) => d.name === '.git')) found.push(rel);
    await Promise.all(dirents.filter((d) => d.isDirectory() && !NOT_SEARCHED.has(d.name)).map((d) => walk(rel === '' ? d.name : `${rel}/${d.name}`)));
  };
  await walk('');
  return found.sort();
}

async function repoPairs(ctx: CoreContext, env: EnvironmentState): Promise<RepoPair[]> {
  const rels = await findRepos(env.workspace);
  return Promise.all(
    rels.map(async (rel) => {
      const src = rel === '' ? env.source : join(env.source, rel);
      const inner = rels.filter((r) => r !== rel && (rel === '' || r.startsWith(`${rel}/`))).map((r) => (rel === '' ? r : r.slice(rel.length + 1)));
      const excluded = [...(rel === '' ? CILO_FILES : []), ...inner];
      return { rel, ws: rel === '' ? env.workspace : join(env.workspace, rel), src, inSource: await ctx.git.isRepo(src), pathspec: ['.', ...excluded.map((f) => `:(exclude)${f}`)] };
    }),
  );
}

const prefixed = (pair: RepoPair, path: string): string => (pair.rel === '' ? path : `${pair.rel}/${path}`);

/** The source's HEAD commit, made available in the workspace repository (fetched if it is newer than the copy). */
async function sourceHeadIn(ctx: CoreContext, pair: RepoPair, envName: string): Promise<string | null> {
  const head = await ctx.git.headCommit(pair.src);
  if (head === null) return null;
  if (!(await ctx.git.hasCommit(pair.ws, head))) {
    // The source moved on since the copy: fetch its HEAD (only FETCH_HEAD and objects change).
    await ctx.git.out(pair.ws, ['fetch', '--quiet', '--no-tags', pair.src, 'HEAD'], `Fetching the source's HEAD into environment ${envName}`);
  }
  return head;
}

/** What the workspace's changes are compared with: where it forked from the source (so the source's newer commits do not show as undone). */
async function diffBase(ctx: CoreContext, pair: RepoPair, wsHead: string | null, srcHead: string | null): Promise<string> {
  if (srcHead !== null && wsHead !== null) {
    const r = await ctx.git.run(pair.ws, ['merge-base', srcHead, wsHead]);
    return r.code === 0 ? r.stdout.trim() : srcHead;
  }
  if (srcHead !== null) return srcHead;
  // A source without commits: everything is new.
  return (await ctx.git.out(pair.ws, ['hash-object', '-t', 'tree', '/dev/null'], 'Naming the empty tree')).trim();
}

interface RepoChanges {
  repo: RepoDiff;
  numstat: NumstatEntry[];
  patch: string;
}

async function repoDiff(ctx: CoreContext, envName: string, pair: RepoPair, format: DiffFormat): Promise<RepoChanges> {
  const branch = await ctx.git.currentBranch(pair.ws);
  const base: RepoDiff = { path: pair.rel === '' ? '.' : pair.rel, in_source: pair.inSource, branch, source_branch: null, commits: [], behind: 0, uncommitted: [], files: [] };
  if (!pair.inSource) return { repo: base, numstat: [], patch: '' };
  const wsHead = await ctx.git.headCommit(pair.ws);
  const srcHead = await sourceHeadIn(ctx, pair, envName);
  let commits: Commit[] = [];
  let behind = 0;
  if (wsHead !== null) {
    const range = srcHead === null ? ['HEAD'] : [`${srcHead}..HEAD`];
    const log = await ctx.git.out(pair.ws, ['log', '--format=%H%x1f%s%x1f%an%x1f%aI%x1e', ...range, '--'], 'Listing the workspace commits');
    commits = log
      .split('\x1e')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((l) => {
        const [sha = '', subject = '', author = '', date = ''] = l.split('\x1f');
        return { sha, subject, author, date };
      });
    if (srcHead !== null) behind = Number((await ctx.git.out(pair.ws, ['rev-list', '--count', `HEAD..${srcHead}`], 'Counting the source commits')).trim()) || 0;
  }
  const status = await ctx.git.out(pair.ws, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...pair.pathspec], 'Reading the workspace status');
  const uncommitted = parsePorcelainZ(status).map((e) => ({ ...e, path: prefixed(pair, e.path), ...(e.from !== undefined ? { from: prefixed(pair, e.from) } : {}) }));
  const since = await diffBase(ctx, pair, wsHead, srcHead);
  const numstat = parseNumstatZ(await ctx.git.diffWorktree(pair.ws, since, ['--numstat', '-z'], pair.pathspec)).map((e) => ({ ...e, path: prefixed(pair, e.path), ...(e.from !== undefined ? { from: prefixed(pair, e.from) } : {}) }));
  const prefix = pair.rel === '' ? '' : `${pair.rel}/`;
  const patch = format === 'patch' ? await ctx.git.diffWorktree(pair.ws, since, ['--binary', `--src-prefix=a/${prefix}`, `--dst-prefix=b/${prefix}`], pair.pathspec) : '';
  const repo: RepoDiff = { ...base, source_branch: await ctx.git.currentBranch(pair.src), commits, behind, uncommitted, files: numstat.map((e) => e.path) };
  return { repo, numstat, patch };
}

/** The changes of several repositories (and plain files) as one diff. */
function combine(parts: readonly { numstat: NumstatEntry[]; patch: string }[], format: DiffFormat): Omit<Changes, 'repos'> {
  const numstat = parts.flatMap((p) => p.numstat);
  const out: Omit<Changes, 'repos'> = { stat: formatStat(numstat), files: numstat.map((e) => e.path) };
  if (format === 'patch') out.patch = parts.map((p) => p.patch).join('');
  return out;
}

async function gitDiff(ctx: CoreContext, env: EnvironmentState, pairs: RepoPair[], format: DiffFormat): Promise<GitDiffResult> {
  const parts: RepoChanges[] = [];
  for (const pair of pairs) parts.push(await repoDiff(ctx, env.name, pair, format));
  const own = parts[0]?.repo;
  return {
    kind: 'git',
    env: env.name,
    source: env.source,
    workspace: env.workspace,
    branch: own?.branch ?? null,
    source_branch: own?.source_branch ?? null,
    commits: own?.commits ?? [],
    behind: own?.behind ?? 0,
    uncommitted: own?.uncommitted ?? [],
    ...combine(parts, format),
    repos: parts.map((p) => p.repo),
  };
}

const dotName = (n: string): string => (n.startsWith('.') ? n : `.${n}`);

/** Lists a tree the way `create` copies a project without git: dot-directories skipped except .cilo and copy_dot_dirs; never .git, nor the directories in `skip`. */
async function listTree(root: string, copyDotDirs: string[], ignoreDotDirs: string[], skip: ReadonlySet<string>): Promise<Map<string, TreeEntry>> {
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
          if (name === '.git' || skip.has(r)) return;
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

/** The patch and numstat of one plain file (null: absent on that side), named by its path in the tree. */
async function filePatch(ctx: CoreContext, from: string | null, to: string | null, rel: string, format: DiffFormat): Promise<{ numstat: NumstatEntry[]; patch: string }> {
  const counts = parseNumstatZ(await ctx.git.diffFiles(from, to, rel, ['--numstat', '-z']));
  const numstat = counts.map(({ added, deleted }) => ({ path: rel, added, deleted }));
  return { numstat, patch: format === 'patch' ? await ctx.git.diffFiles(from, to, rel, ['--binary']) : '' };
}

/**
 * A project without git of its own: its files compared as trees, each difference shown as a
 * patch; repositories nested in it are compared as repositories.
 */
async function fileDiff(ctx: CoreContext, env: EnvironmentState, nested: RepoPair[], format: DiffFormat): Promise<FileDiffResult> {
  const config = loadProjectConfig(env.source, ctx.warn);
  const skip = new Set(nested.map((p) => p.rel));
  const [source, workspace] = await Promise.all([
    listTree(env.source, config.copy_dot_dirs ?? [], config.ignore_dot_dirs ?? [], skip),
    listTree(env.workspace, config.copy_dot_dirs ?? [], config.ignore_dot_dirs ?? [], skip),
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
  const parts: { numstat: NumstatEntry[]; patch: string }[] = [];
  const at = (root: string, rel: string, present: boolean): string | null => (present ? join(root, rel) : null);
  for (const rel of [...d.added, ...d.changed, ...d.removed].sort()) {
    parts.push(await filePatch(ctx, at(env.source, rel, !d.added.includes(rel)), at(env.workspace, rel, !d.removed.includes(rel)), rel, format));
  }
  const repos: RepoChanges[] = [];
  for (const pair of nested) repos.push(await repoDiff(ctx, env.name, pair, format));
  return {
    kind: 'files',
    env: env.name,
    source: env.source,
    workspace: env.workspace,
    ...d,
    env_files_skipped: [...skipped].sort(),
    ...combine([...parts, ...repos], format),
    repos: repos.map((r) => r.repo),
  };
}

/**
 * What was done in the workspace that the source does not have, as `git diff` shows it: for
 * each git repository (the workspace's own and every one nested in it), its commits and
 * uncommitted changes against the source's repository at the same place; other files compared
 * with the source's.
 */
export async function diffEnvironment(ctx: CoreContext, input: { env: string; project?: string | undefined; format?: DiffFormat | undefined }): Promise<DiffResult> {
  const env = lookup(ctx, input.env, input.project);
  const format = input.format ?? 'patch';
  const pairs = await repoPairs(ctx, env);
  if (isInPlace(env)) return inPlaceDiff(ctx, env, pairs, format);
  const own = pairs[0]?.rel === '' && pairs[0].inSource ? pairs : undefined;
  if (own) return gitDiff(ctx, env, own, format);
  return fileDiff(ctx, env, pairs.filter((p) => p.rel !== ''), format);
}

/**
 * An in-place environment's workspace is its source: its changes are the tree's own, as `git
 * diff HEAD` there shows them (untracked files included), for it and each repository nested
 * in it; there are no commits to bring back.
 */
async function inPlaceDiff(ctx: CoreContext, env: EnvironmentState, pairs: RepoPair[], format: DiffFormat): Promise<GitDiffResult> {
  if (pairs[0]?.rel !== '' || !pairs[0].inSource) {
    throw new CiloError('WORKSPACE', `Environment "${env.name}" runs in place on ${env.workspace}, which is not the top of a git repository, so there is nothing to compare its files with: they are the tree's own.`, {
      hint: `Look at the tree itself (\`cd ${shellWord(env.workspace)}\`).`,
    });
  }
  // Only the tree's own repositories, each compared with itself (HEAD against its working tree).
  return gitDiff(ctx, env, pairs.map((p) => ({ ...p, src: p.ws, inSource: true, pathspec: p.pathspec.filter((x) => !CILO_FILES.some((f) => x === `:(exclude)${f}`)) })), format);
}

/** How a merge went: of one repository, or of all of an environment's together. */
interface MergeOutcome {
  /** The workspace's branch and the source's (of the workspace's own repository, for all together; null when none). */
  branch: string | null;
  source_branch: string | null;
  /** `up-to-date`: nothing to bring back; `fast-forward`; `merge`: a merge commit was made (all together: the most any did). */
  result: 'up-to-date' | 'fast-forward' | 'merge';
  /** Commits brought in. */
  commits: number;
  head: string | null;
  /** Uncommitted changes left in the workspace (not merged). */
  uncommitted: number;
}

/** The merge of one repository of the workspace into the source's repository at the same place. */
export interface RepoMerge extends MergeOutcome {
  /** Relative to the workspace: `.` for the workspace itself. */
  path: string;
  source: string;
}

export interface MergeResult extends MergeOutcome {
  env: string;
  source: string;
  workspace: string;
  /** Each repository merged: the workspace's own first, then those nested in it. */
  repos: RepoMerge[];
}

const where = (pair: RepoPair): string => (pair.rel === '' ? '' : ` (${pair.rel})`);

/** Fetches the workspace repository's branch into the source repository and merges it into its checked-out branch. */
async function mergeRepo(ctx: CoreContext, envName: string, pair: RepoPair, ffOnly: boolean): Promise<RepoMerge> {
  const branch = await ctx.git.currentBranch(pair.ws);
  const sourceBranch = await ctx.git.currentBranch(pair.src);
  const uncommitted = parsePorcelainZ(await ctx.git.out(pair.ws, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', ...pair.pathspec], 'Reading the workspace status')).length;
  const base = { path: pair.rel === '' ? '.' : pair.rel, source: pair.src, branch, source_branch: sourceBranch, uncommitted };
  if ((await ctx.git.headCommit(pair.ws)) === null) return { ...base, result: 'up-to-date', commits: 0, head: await ctx.git.headCommit(pair.src) };
  await ctx.git.out(pair.src, ['fetch', '--quiet', '--no-tags', pair.ws, branch ?? 'HEAD'], `Fetching from environment ${envName}${where(pair)}`);
  const fetched = (await ctx.git.out(pair.src, ['rev-parse', 'FETCH_HEAD^{commit}'], 'Reading the fetched commit')).trim();
  const srcHead = await ctx.git.headCommit(pair.src);
  if (srcHead !== null && (await ctx.git.isAncestor(pair.src, fetched, srcHead))) return { ...base, result: 'up-to-date', commits: 0, head: srcHead };
  const commits = Number((await ctx.git.out(pair.src, ['rev-list', '--count', srcHead === null ? fetched : `${srcHead}..${fetched}`], 'Counting the commits to merge')).trim()) || 0;

  const canFastForward = srcHead === null || (await ctx.git.isAncestor(pair.src, srcHead, fetched));
  if (canFastForward) {
    const args = ['merge', '--ff-only', '--quiet', fetched];
    const r = await ctx.git.run(pair.src, args);
    if (r.code !== 0) throw gitFailure(`Fast-forwarding ${pair.src} to environment ${envName}`, pair.src, args, r);
    ctx.log(`Fast-forwarded ${pair.src} to ${fetched.slice(0, 12)}`);
    return { ...base, result: 'fast-forward', commits, head: await ctx.git.headCommit(pair.src) };
  }
  if (ffOnly) {
    throw new CiloError('GIT_FAILED', `The source ${pair.src} has commits that environment "${envName}"${where(pair)} does not, so it cannot be fast-forwarded.`, {
      hint: `Run \`cilo merge ${envName}\` without --ff-only to make a merge commit, or rebase in the workspace first.`,
    });
  }
  const message = `Merge cilo environment ${envName}${branch ? ` (${branch})` : ''}`;
  const args = ['merge', '--no-ff', '--no-edit', '--quiet', '-m', message, fetched];
  const r = await ctx.git.run(pair.src, args);
  if (r.code !== 0) {
    const conflicts = (await ctx.git.run(pair.src, ['diff', '--name-only', '--diff-filter=U'])).stdout.trim().split('\n').filter((l) => l !== '');
    await ctx.git.run(pair.src, ['merge', '--abort']);
    if (conflicts.length > 0) {
      throw new CiloError('GIT_FAILED', `Merging environment "${envName}" into ${pair.src} conflicts in ${conflicts.join(', ')}; the merge was aborted and the source is unchanged.`, {
        hint: `Merge by hand: \`cd ${pair.src} && git fetch ${pair.ws} ${branch ?? 'HEAD'} && git merge FETCH_HEAD\`, or rebase in the workspace first.`,
      });
    }
    throw gitFailure(`Merging environment ${envName} into ${pair.src}`, pair.src, args, r);
  }
  return { ...base, result: 'merge', commits, head: await ctx.git.headCommit(pair.src) };
}

/** What merging one repository would do that must not happen. */
interface Unsafe {
  pair: RepoPair;
  base: string;
  /** Files (relative to the repository) the merge would delete from the source that the workspace never received. */
  lost: string[];
  /** Commits adding or changing cilo's own files. */
  ciloCommits: string[];
}

const isDotDir = (name: string): boolean => name.startsWith('.') && name !== '.' && name !== '..';

/** Whether a cilo older than the tracked-files rule left `path` (from the workspace root) out: it lies in a dot-directory other than `.cilo`, `.git` and copy_dot_dirs. */
function skippedByOldCopy(path: string, copyDotDirs: string[], ignoreDotDirs: string[]): boolean {
  const copy = new Set(copyDotDirs.map(dotName));
  const ignore = new Set(ignoreDotDirs.map(dotName));
  return path
    .split('/')
    .slice(0, -1)
    .some((d) => isDotDir(d) && d !== '.cilo' && d !== '.git' && !(copy.has(d) && !ignore.has(d)));
}

const zList = (out: string): string[] => out.split('\0').filter((f) => f !== '');

async function unsafeMerge(ctx: CoreContext, env: EnvironmentState, pair: RepoPair, oldCopySkips: (path: string) => boolean): Promise<Unsafe | undefined> {
  const wsHead = await ctx.git.headCommit(pair.ws);
  if (wsHead === null) return undefined;
  const srcHead = await sourceHeadIn(ctx, pair, env.name);
  const base = await diffBase(ctx, pair, wsHead, srcHead);
  let lost: string[] = [];
  if (srcHead !== null) {
    const deleted = async (from: string): Promise<string[]> => zList(await ctx.git.out(pair.ws, ['diff', '--name-only', '-z', '--no-renames', '--diff-filter=D', from, wsHead, '--'], 'Listing the files the workspace commits delete'));
    // Deleted by the workspace's commits and still in the source: what the merge would delete.
    const stillInSource = new Set(await deleted(srcHead));
    const record = readNotCopied(pair.ws, env.workspace);
    lost = (await deleted(base)).filter((f) => stillInSource.has(f) && (record ? record.has(f) : oldCopySkips(prefixed(pair, f))));
  }
  const ciloCommits =
    pair.rel === ''
      ? (await ctx.git.out(pair.ws, ['log', '--format=%h', '--diff-filter=AMT', srcHead === null ? wsHead : `${base}..${wsHead}`, '--', ...CILO_FILES], "Looking for cilo's files in the workspace commits")).split('\n').filter((l) => l !== '')
      : [];
  return lost.length > 0 || ciloCommits.length > 0 ? { pair, base, lost, ciloCommits } : undefined;
}

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Refuses, before anything is merged, a merge that would delete from the source files the
 * workspace never received (left out by the copy: `--include`, the env copy policy, or a cilo
 * that skipped dot-directories whole), or bring cilo's own files into it.
 */
async function refuseUnsafeMerge(ctx: CoreContext, env: EnvironmentState, pairs: readonly RepoPair[]): Promise<void> {
  const config = loadProjectConfig(env.source, ctx.warn);
  const oldCopySkips = (path: string): boolean => skippedByOldCopy(path, config.copy_dot_dirs ?? [], config.ignore_dot_dirs ?? []);
  const found: Unsafe[] = [];
  for (const pair of pairs) {
    const u = await unsafeMerge(ctx, env, pair, oldCopySkips);
    if (u) found.push(u);
  }
  const lost = found.flatMap((u) => u.lost.map((f) => prefixed(u.pair, f)));
  if (lost.length > 0) {
    const shown = lost.length > 10 ? `${lost.slice(0, 10).join(', ')} and ${lost.length - 10} more` : lost.join(', ');
    const first = found.find((u) => u.lost.length > 0) as Unsafe;
    const files = first.lost.length <= 10 ? first.lost.map(shellWord).join(' ') : 'FILE...';
    const ws = shellWord(first.pair.ws);
    throw new CiloError('WORKSPACE', `Merging environment "${env.name}" would delete ${lost.length} file(s) from ${env.source} that its workspace never received (${shown}), so nothing was merged.`, {
      hint: `The workspace was copied without them (by an older cilo that skipped dot-directories, or by --include or the env copy policy). Restore them there and commit: \`git -C ${ws} checkout ${first.base.slice(0, 12)} -- ${files} && git -C ${ws} commit -m "Restore files cilo did not copy"\`, then run \`cilo merge ${env.name}\` again.`,
      ...(lost.length > 10 ? { details: lost.join('\n') } : {}),
    });
  }
  const cilo = found.find((u) => u.ciloCommits.length > 0);
  if (cilo) {
    const ws = shellWord(cilo.pair.ws);
    throw new CiloError('WORKSPACE', `The commits of environment "${env.name}" (${cilo.ciloCommits.join(', ')}) add cilo's own file ${CILO_FILES.join(', ')}, which must not reach ${env.source}, so nothing was merged.`, {
      hint: `Take it out of those commits: for the last one \`git -C ${ws} rm --cached ${CILO_FILES.join(' ')} && git -C ${ws} commit --amend --no-edit\`, for earlier ones \`git -C ${ws} rebase -i ${cilo.base.slice(0, 12)}\`; then run \`cilo merge ${env.name}\` again.`,
    });
  }
}

/**
 * Brings the workspace's committed work back: each git repository of the workspace (its own
 * and every one nested in it, as the original cilo pulled each) into the source's repository at
 * the same place, on its checked-out branch. Refuses before merging anything when a source
 * repository has uncommitted changes, or when the commits would delete files the workspace never
 * received or bring in cilo's own files.
 */
export async function mergeEnvironment(ctx: CoreContext, input: { env: string; project?: string | undefined; ffOnly?: boolean | undefined }): Promise<MergeResult> {
  const env = lookup(ctx, input.env, input.project);
  if (isInPlace(env)) {
    throw new CiloError('WORKSPACE', `Environment "${env.name}" runs in place on ${env.workspace}, so its work is already in that tree: there is nothing to merge.`, {
      hint: `Commit it there as usual (\`git -C ${shellWord(env.workspace)} commit\`); \`cilo diff ${env.name}\` shows its uncommitted changes.`,
      exitCode: 2,
    });
  }
  const pairs = (await repoPairs(ctx, env)).filter((p) => p.inSource);
  if (pairs.length === 0) {
    throw new CiloError('WORKSPACE', `Environment "${env.name}" is not a git repository (its source ${env.source} or its workspace has no .git), so there is nothing to merge.`, {
      hint: `\`cilo diff ${env.name}\` lists the changed files; copy them back by hand.`,
    });
  }
  const heads = await Promise.all(pairs.map((p) => ctx.git.headCommit(p.ws)));
  if (heads.every((h) => h === null)) {
    throw new CiloError('WORKSPACE', `The workspace of environment "${env.name}" has no commits to merge.`, { hint: `Commit your work in ${env.workspace} first.` });
  }
  for (const pair of pairs) {
    const dirty = (await ctx.git.out(pair.src, ['status', '--porcelain=v1', '--untracked-files=no'], 'Checking the source repository')).trim();
    if (dirty !== '') {
      throw new CiloError('SOURCE_DIRTY', `The source repository ${pair.src} has uncommitted changes, and cilo merges only into a clean working tree.`, {
        hint: `Commit or stash them there (\`git -C ${pair.src} stash\`), then run \`cilo merge ${env.name}\` again.`,
      });
    }
  }
  excludeCiloFiles(env.workspace);
  await refuseUnsafeMerge(ctx, env, pairs);
  const repos: RepoMerge[] = [];
  for (const pair of pairs) {
    try {
      repos.push(await mergeRepo(ctx, env.name, pair, input.ffOnly === true));
    } catch (e) {
      const done = repos.filter((r) => r.result !== 'up-to-date').map((r) => r.path);
      if (done.length > 0 && e instanceof CiloError) ctx.warn(`already merged before this failure: ${done.join(', ')}.`);
      throw e;
    }
  }
  const own = repos[0]?.path === '.' ? repos[0] : undefined;
  const result = repos.some((r) => r.result === 'merge') ? 'merge' : repos.some((r) => r.result === 'fast-forward') ? 'fast-forward' : 'up-to-date';
  return {
    env: env.name,
    source: env.source,
    workspace: env.workspace,
    branch: own?.branch ?? null,
    source_branch: own?.source_branch ?? null,
    result,
    commits: repos.reduce((n, r) => n + r.commits, 0),
    head: own?.head ?? null,
    uncommitted: repos.reduce((n, r) => n + r.uncommitted, 0),
    repos,
  };
}
