/**
 * Comparing two file trees (a project and its workspace), pure: the caller lists both trees as
 * entries and supplies a content comparison for the entries whose metadata cannot decide.
 */
export interface TreeEntry {
  kind: 'file' | 'symlink';
  size: number;
  mtimeMs: number;
  /** Target of a symlink. */
  link?: string;
}

export interface TreeDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * A path is unchanged when kind, size and modification time agree (workspace copies keep
 * times), or, when only the time differs, when `sameContent` says so.
 */
export async function diffTrees(source: Map<string, TreeEntry>, workspace: Map<string, TreeEntry>, sameContent: (rel: string) => Promise<boolean>): Promise<TreeDiff> {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [rel, w] of workspace) {
    const s = source.get(rel);
    if (!s) added.push(rel);
    else if (s.kind !== w.kind) changed.push(rel);
    else if (s.kind === 'symlink') {
      if (s.link !== w.link) changed.push(rel);
    } else if (s.size !== w.size) changed.push(rel);
    else if (Math.trunc(s.mtimeMs) !== Math.trunc(w.mtimeMs) && !(await sameContent(rel))) changed.push(rel);
  }
  for (const rel of source.keys()) if (!workspace.has(rel)) removed.push(rel);
  const sort = (xs: string[]): string[] => xs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { added: sort(added), changed: sort(changed), removed: sort(removed) };
}
