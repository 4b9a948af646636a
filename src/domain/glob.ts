/**
 * A tiny glob matcher for `--include` paths. Node 20.20 has `path.matchesGlob`, but it prints an
 * ExperimentalWarning on stderr the first time it runs, which a CLI must not do.
 *
 * Supported: `*` (any run of characters within one segment), `?` (one character), `**` (zero or
 * more whole segments). Everything else is literal. Patterns are anchored at the source root
 * (`.vscode` matches only the top-level one; put a `**` segment in front to match at any depth).
 * `*` also matches names starting with `.`: the user is asking for dot paths on purpose.
 */
export interface GlobMatcher {
  /** True if the relative path (with `/` separators) matches the pattern. */
  matches(rel: string): boolean;
  /** True if some path strictly inside the directory `rel` could match, so it is worth reading. */
  couldMatchInside(rel: string): boolean;
}

type Segment = RegExp | '**';

export function compileGlob(pattern: string): GlobMatcher {
  const segs: Segment[] = pattern
    .replace(/^(\.\/)+/, '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s === '**' ? '**' : segmentRegExp(s)));
  return {
    matches: (rel) => matchFrom(segs, 0, split(rel), 0),
    couldMatchInside: (rel) => prefixFrom(segs, 0, split(rel), 0),
  };
}

/** One matcher for many patterns: a path matches if any pattern does. */
export function compileGlobs(patterns: readonly string[]): GlobMatcher {
  const all = patterns.map(compileGlob);
  return {
    matches: (rel) => all.some((g) => g.matches(rel)),
    couldMatchInside: (rel) => all.some((g) => g.couldMatchInside(rel)),
  };
}

function split(rel: string): string[] {
  return rel.split('/').filter((s) => s !== '');
}

function segmentRegExp(seg: string): RegExp {
  let src = '';
  for (const ch of seg) {
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

function matchFrom(g: Segment[], i: number, p: string[], j: number): boolean {
  if (i === g.length) return j === p.length;
  const seg = g[i]!;
  if (seg === '**') {
    for (let k = j; k <= p.length; k++) if (matchFrom(g, i + 1, p, k)) return true;
    return false;
  }
  return j < p.length && seg.test(p[j]!) && matchFrom(g, i + 1, p, j + 1);
}

function prefixFrom(g: Segment[], i: number, p: string[], j: number): boolean {
  // The directory is used up: a descendant can match if pattern segments remain for it.
  if (j === p.length) return i < g.length;
  if (i === g.length) return false;
  const seg = g[i]!;
  if (seg === '**') return true; // `**` can swallow the rest of the directory and more
  return seg.test(p[j]!) && prefixFrom(g, i + 1, p, j + 1);
}
