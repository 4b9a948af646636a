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

export interface NumstatEntry {
  path: string;
  /** For renames and copies: the path it came from. */
  from?: string;
  /** Lines added and deleted; null for a binary file. */
  added: number | null;
  deleted: number | null;
}

/** Parses `git diff --numstat -z` (a rename is `A\tD\t\0from\0to\0`). */
export function parseNumstatZ(out: string): NumstatEntry[] {
  const parts = out.split('\0');
  const entries: NumstatEntry[] = [];
  const count = (s: string | undefined): number | null => (s === undefined || s === '-' ? null : Number(s));
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p) continue;
    const [added, deleted, path = ''] = p.split('\t');
    const entry: NumstatEntry = { path, added: count(added), deleted: count(deleted) };
    if (path === '') {
      entry.from = parts[i + 1] ?? '';
      entry.path = parts[i + 2] ?? '';
      i += 2;
    }
    entries.push(entry);
  }
  return entries;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The `git diff --stat` summary of numstat entries (of several repositories, paths already prefixed). */
export function formatStat(entries: readonly NumstatEntry[], graphWidth = 50): string {
  if (entries.length === 0) return '';
  const names = entries.map((e) => (e.from !== undefined ? `${e.from} => ${e.path}` : e.path));
  const totals = entries.map((e) => (e.added ?? 0) + (e.deleted ?? 0));
  const nameWidth = Math.max(...names.map((n) => n.length));
  const countWidth = Math.max(...entries.map((e, i) => (e.added === null ? 3 : String(totals[i]).length)));
  const max = Math.max(...totals);
  const scale = (n: number): number => (max <= graphWidth || n === 0 ? n : Math.max(1, Math.round((n * graphWidth) / max)));
  const lines = entries.map((e, i) => {
    const name = (names[i] ?? '').padEnd(nameWidth);
    if (e.added === null) return ` ${name} | ${'Bin'.padStart(countWidth)}`;
    const graph = '+'.repeat(scale(e.added)) + '-'.repeat(scale(e.deleted ?? 0));
    return ` ${name} | ${String(totals[i]).padStart(countWidth)}${graph ? ` ${graph}` : ''}`;
  });
  const ins = entries.reduce((n, e) => n + (e.added ?? 0), 0);
  const del = entries.reduce((n, e) => n + (e.deleted ?? 0), 0);
  let summary = ` ${plural(entries.length, 'file')} changed`;
  if (ins > 0 || del === 0) summary += `, ${plural(ins, 'insertion')}(+)`;
  if (del > 0 || ins === 0) summary += `, ${plural(del, 'deletion')}(-)`;
  return [...lines, summary].join('\n');
}

/**
 * `git diff --no-index` names the two files by their paths (`a/tmp/src/x b/home/ws/x`); this
 * names both as `label` (`a/x b/x`), as a diff inside one tree would. Only the header lines of
 * each file are rewritten, never its content.
 */
export function relabelNoIndex(out: string, paths: readonly string[], label: string): string {
  let inHeader = false;
  return out
    .split('\n')
    .map((line) => {
      if (line.startsWith('diff --git ')) inHeader = true;
      else if (line.startsWith('@@') || line.startsWith('GIT binary patch') || line.startsWith('Binary files')) inHeader = false;
      if (!inHeader) return line;
      let l = line;
      for (const p of paths) l = l.split(`a${p}`).join(`a/${label}`).split(`b${p}`).join(`b/${label}`);
      return l;
    })
    .join('\n');
}
