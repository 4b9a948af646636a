import { realpathSync } from 'node:fs';
import { chmod, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { workspaceRemovalRefusal } from '../domain/workspace-mode.js';
import { CiloError } from '../errors.js';

/** The directory as the file system names it (symlinks resolved); as given when it does not exist. */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Removes a workspace (or a snapshot's directory): the one way cilo deletes a tree of files.
 * Refuses, whatever the caller believed, a path that is not strictly below one of `roots`
 * (CILO_HOME's workspaces and snapshots) or that is, holds or lies in the source tree of an
 * in-place environment (issue #28): a bug or a damaged state file above it never deletes the
 * user's own tree.
 */
export async function removeWorkspaceTree(path: string, guard: { roots: readonly string[]; inPlaceSources: () => readonly string[] }): Promise<void> {
  const target = real(path);
  const why = workspaceRemovalRefusal(target, guard.roots.map(real), guard.inPlaceSources().map(real));
  if (why !== undefined) {
    throw new CiloError('WORKSPACE', `cilo refused to delete ${path}: ${why}, and cilo deletes only its own copies.`, {
      hint: 'Nothing was removed. If state.json names this directory as an environment\'s copy, that entry is damaged: `cilo destroy <env> --keep-workspace` removes the environment without touching any files.',
    });
  }
  await removeTree(path);
}

/**
 * `rm -rf` that also works when the tree holds read-only directories (a copied Go module cache,
 * `chmod -w` build outputs): as a non-root user, entries of a 0555 directory cannot be unlinked,
 * so on EACCES/EPERM we make every directory writable and try once more.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    await makeDirsWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

/** Removes everything inside `dir` but keeps `dir` itself. */
export async function emptyDir(dir: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(names.map((n) => removeTree(join(dir, n))));
}

async function makeDirsWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => makeDirsWritable(join(dir, e.name))));
}
