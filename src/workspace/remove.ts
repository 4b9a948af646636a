import { chmod, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

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
