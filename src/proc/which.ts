import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export type Lookup = { found: true; path: string } | { found: false; reason: 'missing' | 'not-executable' };

function check(path: string): Lookup | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if (!st.isFile()) return { found: false, reason: 'not-executable' };
  try {
    accessSync(path, constants.X_OK);
    return { found: true, path };
  } catch {
    return { found: false, reason: 'not-executable' };
  }
}

/**
 * Finds a program the way a shell does: a name with a `/` is a path (relative to `cwd`), any
 * other name is searched in PATH. Lets a caller say "not found" (127) or "not executable" (126)
 * before spawning.
 */
export function findProgram(command: string, cwd: string, pathVar: string | undefined): Lookup {
  if (command.includes('/')) return check(isAbsolute(command) ? command : resolve(cwd, command)) ?? { found: false, reason: 'missing' };
  let notExecutable = false;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    const r = check(join(dir === '' ? cwd : dir, command));
    if (r?.found) return r;
    if (r) notExecutable = true;
  }
  return { found: false, reason: notExecutable ? 'not-executable' : 'missing' };
}
