/**
 * Copies a project directory into a workspace (`$CILO_HOME/envs/<project>/<env>/`).
 *
 * Why not `fs.promises.cp`: it is ~5x slower than `cp -a` on 10,000 files (one file at a time)
 * and rewrites relative symlinks to point into the source unless `verbatimSymlinks` is set.
 * Here: one read-only walk that plans everything, then directories level by level, then files
 * and symlinks through a bounded pool of `copyFile(COPYFILE_FICLONE)` calls (a reflink where
 * the filesystem allows, a kernel-side copy otherwise), then directory modes and times.
 */
import { chmodSync, constants, lstatSync, lutimesSync, readlinkSync, utimesSync } from 'node:fs';
import { copyFile, mkdir, readdir, realpath, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CiloError, describeSystemError } from '../errors.js';
import { compileGlobs } from '../domain/glob.js';
import { emptyDir, removeTree } from './remove.js';

export interface CopyOptions {
  /**
   * When given, copy only what matches (as the original cilo's `create --include`): a glob
   * without `/` matches a file or directory name at any depth (`*.go`, `.vscode`), one with `/`
   * a path from the source root (`src/**`, `.config/nvim/*`). A matching directory is copied
   * whole. Untracked files in dot-directories stay skipped unless allowed or named by a glob with `/`.
   */
  include?: string[];
  /** Paths (globs from the source root) copied even when `include` leaves them out: what the workspace needs to run. */
  keep?: string[];
  /** Names of dot-directories whose untracked files are copied too, in addition to the always-copied `.cilo` and `.git`. */
  copyDotDirs?: string[];
  /** Copy dot-directories too (a fork copies another workspace whole). */
  allDotDirs?: boolean;
  /** Names of dot-directories to skip (wins over copyDotDirs, never over .cilo). */
  ignoreDotDirs?: string[];
  /** Absolute paths never to descend into (cilo passes CILO_HOME here in case it lies inside the project). */
  excludeAbsolute?: string[];
  /** Called now and then with files copied so far and total files to copy. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The files git tracks below `dir` (paths relative to it; a submodule is one path), or
   * undefined when `dir` is in no repository or git cannot say. Asked for the source root and
   * for every directory below it that holds a `.git`. A tracked file is copied even inside a
   * dot-directory the rules above skip: those rules are for untracked files only, so that a
   * fresh workspace's `git status` is clean and a commit made in it deletes nothing it never had.
   */
  trackedFiles?: (dir: string) => Promise<string[] | undefined>;
}

/** A git repository of the source whose tracked files were known, and those of them not copied. */
export interface CopiedRepo {
  /** Its directory relative to the source root ('' for the root). */
  dir: string;
  /** Tracked paths (relative to `dir`) the copy does not hold: left out by `include`, in excluded directories, or missing in the source. */
  notCopied: string[];
}

export interface CopyResult {
  /** Regular files copied. */
  files: number;
  /** Directories created below `dst` (not counting `dst` itself). */
  dirs: number;
  symlinks: number;
  /** Bytes of regular files copied. */
  bytes: number;
  /** 'clone' when the destination filesystem made copy-on-write clones of the source files. */
  strategy: 'clone' | 'copy';
  /** The source's git repositories whose tracked files were known (only with `trackedFiles`). */
  repos: CopiedRepo[];
}

/**
 * Files in flight at once. The real parallelism is libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise); this only needs to keep it fed. 8 and 64 measured no
 * better than 32 with bench/copy.mjs.
 */
const CONCURRENCY = 32;

/** The reasons a FICLONE_FORCE copy fails when the filesystem (or the pair) cannot clone. */
const NO_CLONE = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EINVAL', 'ENOTTY']);

export async function copyProject(src: string, dst: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const srcRoot = await resolveSource(src);
  const dstRoot = resolve(dst);
  const dstExisted = await checkDestination(dstRoot);
  // The destination may lie inside the source (and CILO_HOME inside the project): never copy
  // a copy into itself. Compared as real paths, so symlinked spellings still match.
  const excluded = new Set(await Promise.all([...(opts.excludeAbsolute ?? []), dstRoot].map(realPathOf)));

  // Everything that can fail by reading happens before anything is written.
  const plan = await planCopy(srcRoot, excluded, opts).catch((e: unknown) => {
    throw toCiloError(e, src, dst);
  });

  try {
    await mkdir(dirname(dstRoot), { recursive: true });
    if (!dstExisted) await mkdir(dstRoot, { mode: 0o700 });
  } catch (e) {
    throw toCiloError(e, src, dst);
  }

  try {
    return { ...(await execute(srcRoot, dstRoot, plan, opts.onProgress)), repos: plan.repos };
  } catch (e) {
    // Nothing half-done: a workspace is either complete or absent (or empty again, if it
    // was an empty directory we were given).
    await (dstExisted ? emptyDir(dstRoot) : removeTree(dstRoot)).catch(() => undefined);
    throw toCiloError(e, src, dst);
  }
}

/** True if the filesystem at `dir` supports copy-on-write clones (probe with COPYFILE_FICLONE_FORCE; ENOTSUP/EXDEV/ENOSYS => false). */
export async function probeClone(dir: string): Promise<boolean> {
  const probe = join(dir, `.cilo-clone-probe-${process.pid}-${Date.now().toString(36)}`);
  const copy = `${probe}-copy`;
  try {
    // Non-empty on purpose: some filesystems "clone" an empty file without supporting it.
    await writeFile(probe, 'cilo clone probe\n');
    await copyFile(probe, copy, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (e) {
    if (NO_CLONE.has((e as NodeJS.ErrnoException).code ?? '')) return false;
    throw e;
  } finally {
    await Promise.all([unlink(probe).catch(() => undefined), unlink(copy).catch(() => undefined)]);
  }
}

interface Plan {
  /** Directories to create, relative to the roots, grouped by depth so parents come first. */
  dirLevels: string[][];
  /** Files and symlinks, relative to the roots. */
  entries: { rel: string; link: boolean }[];
  repos: CopiedRepo[];
}

/** What git tracks in one repository of the source: its files, and every directory holding one. */
interface TrackedRepo {
  /** The repository's directory relative to the source root ('' for the root). */
  base: string;
  files: Set<string>;
  dirs: Set<string>;
}

interface DirNode {
  rel: string;
  /** Read only because an include glob may match inside; created only if something does. */
  partial: boolean;
  /** Inside a dot-directory skipped for untracked files: only tracked entries are copied. */
  trackedOnly: boolean;
  /** Inside `.git`: copied whole (a submodule's repository lives in `.git/modules/<its path>`, dot-directories included). */
  inGit: boolean;
  needed: boolean;
  parent: DirNode | undefined;
  /** The innermost repository it lies in, when its tracked files are known. */
  repo: TrackedRepo | undefined;
}

function trackedRepo(base: string, paths: readonly string[]): TrackedRepo {
  const dirs = new Set<string>();
  for (const p of paths) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const d = p.slice(0, i);
      if (dirs.has(d)) break;
      dirs.add(d);
    }
  }
  return { base, files: new Set(paths), dirs };
}

/** `rel` (from the source root) relative to the repository, or undefined outside any known one. */
function inRepo(repo: TrackedRepo | undefined, rel: string): string | undefined {
  if (!repo) return undefined;
  return repo.base === '' ? rel : rel.slice(repo.base.length + 1);
}

/**
 * Walks the source breadth-first (each level's readdirs in parallel) and decides what to copy:
 * dot-directories at any depth are skipped except `.cilo`, `.git` (whole) and `copyDotDirs`, but what
 * git tracks in them is copied (they are read in "tracked-only" mode); dot-files are always
 * copied; sockets, FIFOs and devices are skipped. With `include`, every directory not copied
 * whole is read in "partial" mode: only matching entries are kept, and their parents are created.
 */
async function planCopy(root: string, excluded: Set<string>, opts: CopyOptions): Promise<Plan> {
  const patterns = opts.include ?? [];
  const only = patterns.length > 0;
  const anyDepth = patterns.filter((p) => !p.replace(/\/+$/, '').includes('/'));
  const anchored = compileGlobs([...patterns.filter((p) => !anyDepth.includes(p)), ...(only ? (opts.keep ?? []) : [])]);
  const byName = compileGlobs(anyDepth.map((p) => `**/${p}`));
  const include = { matches: (rel: string): boolean => anchored.matches(rel) || byName.matches(rel) };
  const ignore = new Set((opts.ignoreDotDirs ?? []).map(dotName));
  const copy = new Set(['.git', ...(opts.copyDotDirs ?? []).map(dotName)]);
  const allowed = (name: string): boolean => opts.allDotDirs === true || !name.startsWith('.') || name === '.cilo' || (copy.has(name) && !ignore.has(name));

  const tracked = (node: DirNode, rel: string): boolean => node.repo?.files.has(inRepo(node.repo, rel) ?? '') ?? false;
  const holdsTracked = (node: DirNode, rel: string): boolean => node.repo?.dirs.has(inRepo(node.repo, rel) ?? '') ?? false;

  type How = { how: 'copy' | 'partial' | 'skip'; trackedOnly: boolean };
  const classifyDir = (name: string, rel: string, dir: DirNode): How => {
    if (include.matches(rel) || (dir.inGit && !dir.partial)) return { how: 'copy', trackedOnly: false };
    const open = !dir.trackedOnly && allowed(name);
    // A tracked path that is a directory is a submodule: its own repository, copied as a whole.
    const submodule = tracked(dir, rel);
    if (!dir.partial) {
      if (open || submodule) return { how: 'copy', trackedOnly: false };
      return holdsTracked(dir, rel) ? { how: 'copy', trackedOnly: true } : { how: 'skip', trackedOnly: false };
    }
    // Read for matches: an allowed directory may hold a name matched at any depth; any
    // directory a path glob points into is read too; a skipped one only for its tracked files.
    if ((open || submodule) && anyDepth.length > 0) return { how: 'partial', trackedOnly: false };
    if (anchored.couldMatchInside(rel)) return { how: 'partial', trackedOnly: false };
    if (anyDepth.length > 0 && holdsTracked(dir, rel)) return { how: 'partial', trackedOnly: true };
    return { how: 'skip', trackedOnly: false };
  };
  // A kept entry inside partial directories makes those directories worth creating.
  const keepParents = (node: DirNode | undefined): void => {
    for (let n = node; n && n.partial && !n.needed; n = n.parent) n.needed = true;
  };
  const repos: TrackedRepo[] = [];
  const learnRepo = async (dir: DirNode): Promise<void> => {
    const paths = await opts.trackedFiles?.(join(root, dir.rel));
    if (paths === undefined) {
      // Not knowing a nested repository's files, do not take the outer one's for them.
      if (dir.rel !== '') dir.repo = undefined;
      return;
    }
    dir.repo = trackedRepo(dir.rel, paths);
    repos.push(dir.repo);
  };

  const entries: Plan['entries'] = [];
  const levels: DirNode[][] = [];
  let level: DirNode[] = [{ rel: '', partial: only, trackedOnly: false, inGit: false, needed: true, parent: undefined, repo: undefined }];
  while (level.length > 0) {
    const next: DirNode[] = [];
    await Promise.all(
      level.map(async (dir) => {
        const dirents = await readdir(join(root, dir.rel), { withFileTypes: true });
        if (opts.trackedFiles && (dir.rel === '' || dirents.some((d) => d.name === '.git'))) await learnRepo(dir);
        for (const d of dirents) {
          const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
          // Node decodes names as UTF-8; an invalid byte becomes U+FFFD and the name no longer
          // names the file, so copying it would fail later with a misleading ENOENT.
          if (d.name.includes('\uFFFD')) {
            throw new CiloError('WORKSPACE', `The file name ${JSON.stringify(join(root, rel))} is not valid UTF-8, so cilo cannot copy it.`, {
              hint: 'Rename it to a UTF-8 name (or move it out of the project), then run the command again.',
            });
          }
          if (d.isDirectory()) {
            if (excluded.has(join(root, rel))) continue;
            const { how, trackedOnly } = classifyDir(d.name, rel, dir);
            if (how === 'skip') continue;
            next.push({ rel, partial: how === 'partial', trackedOnly, inGit: dir.inGit || d.name === '.git', needed: how === 'copy', parent: dir, repo: dir.repo });
            if (how === 'copy') keepParents(dir);
          } else if (d.isFile() || d.isSymbolicLink()) {
            if (dir.partial && !include.matches(rel)) continue;
            if (dir.trackedOnly && !tracked(dir, rel)) continue;
            entries.push({ rel, link: d.isSymbolicLink() });
            keepParents(dir);
          }
          // Sockets, FIFOs and devices: skipped silently, they cannot be copied meaningfully.
        }
      }),
    );
    if (next.length > 0) levels.push(next);
    level = next;
  }
  // Sort for a deterministic order (readdir order is not), which also keeps siblings together.
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const dirLevels = levels.map((l) => l.filter((d) => d.needed).map((d) => d.rel));
  return { dirLevels, entries, repos: notCopied(repos, entries, dirLevels) };
}

/** Per repository, the tracked paths the plan leaves out (a submodule counts as copied when its directory is). */
function notCopied(repos: readonly TrackedRepo[], entries: Plan['entries'], dirLevels: string[][]): CopiedRepo[] {
  const copied = new Set([...entries.map((e) => e.rel), ...dirLevels.flat()]);
  return repos.map((r) => ({ dir: r.base, notCopied: [...r.files].filter((f) => !copied.has(r.base === '' ? f : `${r.base}/${f}`)).sort() }));
}

async function execute(
  srcRoot: string,
  dstRoot: string,
  plan: Plan,
  onProgress: CopyOptions['onProgress'],
): Promise<Omit<CopyResult, 'repos'>> {
  const [srcDev, dstDev] = await Promise.all([stat(srcRoot), stat(dstRoot)]).then((s) => s.map((x) => x.dev));
  const strategy = srcDev === dstDev && (await probeClone(dstRoot)) ? 'clone' : 'copy';

  const result: Omit<CopyResult, 'repos'> = { files: 0, dirs: 0, symlinks: 0, bytes: 0, strategy };
  const total = plan.entries.length;
  let done = 0;
  onProgress?.(0, total);

  // 0700 while filling them: a read-only source directory gets its real mode at the end.
  for (const level of plan.dirLevels) {
    await runPool(level, CONCURRENCY, (rel) => mkdir(join(dstRoot, rel), { mode: 0o700 }));
    result.dirs += level.length;
  }

  // Only what creates files goes through the thread pool, where creation and data copying run
  // in parallel. Reading and setting metadata (lstat, readlink, utimes, chmod) is done
  // synchronously: each is a cheap syscall on a cached or just-created inode, but as an async
  // call it costs a thread hand-off that, in a 2-vCPU VM, took more CPU than the syscall;
  // doing them synchronously made the copy ~30% cheaper (bench/copy.mjs).
  await runPool(plan.entries, CONCURRENCY, async ({ rel, link }) => {
    const from = join(srcRoot, rel);
    const to = join(dstRoot, rel);
    const st = lstatSync(from);
    if (link) {
      // The target is copied as bytes, verbatim: relative links stay relative, dangling ones dangle.
      await symlink(readlinkSync(from, { encoding: 'buffer' }), to);
      lutimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
      result.symlinks++;
    } else {
      // copyFile keeps the mode: libuv fchmods the copy to the source's mode, whatever the umask.
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      utimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
      result.files++;
      result.bytes += st.size;
    }
    onProgress?.(++done, total);
  });

  // Modes and times of directories last: adding entries changes a directory's mtime, and a
  // read-only mode set earlier would have stopped us from filling it.
  for (const rel of ['', ...plan.dirLevels.flat()]) {
    const st = lstatSync(join(srcRoot, rel));
    const to = join(dstRoot, rel);
    chmodSync(to, st.mode & 0o7777);
    utimesSync(to, st.atimeMs / 1000, st.mtimeMs / 1000);
  }
  return result;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. On the first failure it starts no new
 * work but waits for what is in flight, so the caller can clean up without racing writes.
 */
async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

async function resolveSource(src: string): Promise<string> {
  try {
    const real = await realpath(src);
    if (!(await stat(real)).isDirectory()) {
      throw new CiloError('WORKSPACE', `The project source ${src} is not a directory.`, {
        hint: 'Pass the project directory (the one with the compose file) with --from.',
      });
    }
    return real;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CiloError('WORKSPACE', `The project source ${src} does not exist.`, {
        hint: 'Pass an existing project directory with --from.',
        cause: e,
      });
    }
    throw toCiloError(e, src, src);
  }
}

/** Returns whether `dst` exists (as an empty directory); refuses anything else. */
async function checkDestination(dst: string): Promise<boolean> {
  let names: string[];
  try {
    names = await readdir(dst);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') {
      throw new CiloError('WORKSPACE', `The workspace ${dst} already exists and is not a directory.`, {
        hint: 'Remove that file, or choose another environment name.',
      });
    }
    throw toCiloError(e, dst, dst);
  }
  if (names.length > 0) {
    throw new CiloError('WORKSPACE', `The workspace ${dst} already exists and is not empty.`, {
      hint: 'Destroy the environment that owns it (cilo destroy <env>) or choose another name; cilo never copies over existing files.',
    });
  }
  return true;
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest. */
async function realPathOf(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
  }
}

/** `copy_dot_dirs: [vscode]` and `[.vscode]` both mean the directory `.vscode`. */
function dotName(name: string): string {
  return name.startsWith('.') ? name : `.${name}`;
}

const HINTS: Record<string, string> = {
  ENOENT: 'A file changed while it was being copied (is a build or watcher running in the project?); run the command again.',
  EACCES: 'Make that path readable (and the workspace location writable) for your user, then run the command again.',
  EPERM: 'Make that path readable (and the workspace location writable) for your user, then run the command again.',
  ENOSPC: 'Free some disk space where CILO_HOME lives, then run the command again.',
  EROFS: 'Point CILO_HOME at a writable location, then run the command again.',
};

/** System errors become a CiloError naming the path; CiloErrors and bugs pass through. */
function toCiloError(e: unknown, src: string, dst: string): unknown {
  if (e instanceof CiloError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !(e instanceof Error)) return e;
  const why = describeSystemError(e) ?? `${e.message.replace(/\.?$/, '.')}`;
  return new CiloError('WORKSPACE', `Copying ${src} to ${dst} failed: ${why}`, {
    hint: HINTS[code] ?? 'Check the path named above, then run the command again.',
    cause: e,
  });
}
