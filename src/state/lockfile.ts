/**
 * proper-lockfile, loaded on first use. Loading it loads graceful-fs, which patches `fs` and
 * costs several milliseconds, and signal-exit, which hooks the process's signals: read-only
 * commands (`list`, `status`) never take a lock, so they should not pay for it.
 */
import type ProperLockfile from 'proper-lockfile';

let loaded: Promise<typeof ProperLockfile> | undefined;

export function properLockfile(): Promise<typeof ProperLockfile> {
  loaded ??= import('proper-lockfile').then((m) => m.default);
  return loaded;
}
