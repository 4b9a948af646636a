/** Pure rules about git's output and failures (the git adapter runs it). */
import { CiloError } from '../errors.js';
import { tail } from './text.js';

/** A failed git command as one error naming the command, its exit code and git's last lines. */
export function gitFailure(what: string, dir: string, args: string[], r: { code: number; stdout: string; stderr: string }): CiloError {
  return new CiloError('GIT_FAILED', `${what} failed: git -C ${dir} ${args.join(' ')} exited with ${r.code}.`, {
    details: tail(r.stderr || r.stdout, 10),
    hint: 'See git\'s message above.',
  });
}

export interface StatusEntry {
  /** Two-letter porcelain status (` M`, `A `, `??`, `R `...). */
  status: string;
  path: string;
  /** For renames and copies: the path it came from. */
  from?: string;
}

/** Parses `git status --porcelain=v1 -z`. */
export function parsePorcelainZ(out: string): StatusEntry[] {
  const parts = out.split('\0');
  const entries: StatusEntry[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p || p.length < 4) continue;
    const status = p.slice(0, 2);
    const entry: StatusEntry = { status, path: p.slice(3) };
    if (status[0] === 'R' || status[0] === 'C') {
      const from = parts[i + 1];
      if (from !== undefined) entry.from = from;
      i++;
    }
    entries.push(entry);
  }
  return entries;
}
