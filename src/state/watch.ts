import { watch, type FSWatcher } from 'node:fs';
import { basename } from 'node:path';
import type { CiloPaths } from './paths.js';
import { ensureHome } from './store.js';

/**
 * Calls `onChange` when the state file changes. The file is replaced by a rename on every
 * write (store.ts), so its directory is watched, not the file. Returns the function that stops
 * watching.
 */
export function watchStateFile(paths: CiloPaths, onChange: () => void): () => void {
  ensureHome(paths);
  const name = basename(paths.state);
  const watcher: FSWatcher = watch(paths.home, { persistent: false }, (_event, file) => {
    if (file === null || file === name) onChange();
  });
  watcher.on('error', () => undefined);
  return () => watcher.close();
}
