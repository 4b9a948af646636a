/**
 * Activity of environments (issue #26) as files: `$CILO_HOME/activity/<env>`, whose mtime is the
 * last use. Touching is one `utimes` (or a create): no lock and no state write, so `exec` and the
 * DNS server can mark every use. Environment names are unique per home and valid file names.
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import type { CiloPaths } from './paths.js';

export function activityDir(paths: CiloPaths): string {
  return join(paths.home, 'activity');
}

/** The activity record (core's `Activity` port). */
export interface ActivityFiles {
  touch(env: string): void;
  last(env: string): number | null;
  forget(env: string): void;
}

export function fileActivity(paths: CiloPaths): ActivityFiles {
  const dir = activityDir(paths);
  // Names come from the state, but a path out of the folder is never made from one that does not.
  const file = (env: string): string => join(dir, /^[a-z0-9][a-z0-9_.-]*$/i.test(env) ? env : '.invalid');
  return {
    touch(env: string): void {
      const now = new Date();
      try {
        utimesSync(file(env), now, now);
      } catch {
        try {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          closeSync(openSync(file(env), 'a', 0o600));
          utimesSync(file(env), now, now);
        } catch {
          // A read-only or removed home: activity is a hint, never a reason to fail a command.
        }
      }
    },
    last(env: string): number | null {
      try {
        return statSync(file(env)).mtimeMs;
      } catch {
        return null;
      }
    },
    forget(env: string): void {
      rmSync(file(env), { force: true });
    },
  };
}
