/**
 * proper-lockfile, loaded on first use. Loading it loads graceful-fs, which patches `fs` and
 * costs several milliseconds, and signal-exit, which hooks the process's signals: read-only
 * commands (`list`, `status`, the reap hook) never take a lock, so they should not pay for it.
 *
 * Why a CommonJS module: the legacy migration in `readState` locks synchronously, so a dynamic
 * `import()` will not do. A `require` inside a function works under tsx (tests) and in
 * esbuild's bundle, which keeps the package bundled and runs its code only when called.
 */
import type ProperLockfile from 'proper-lockfile';

let loaded: typeof ProperLockfile | undefined;

function properLockfile(): typeof ProperLockfile {
  loaded ??= require('proper-lockfile') as typeof ProperLockfile;
  return loaded;
}

export = properLockfile;
