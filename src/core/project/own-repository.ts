/**
 * A copy of a linked git worktree (or of a submodule's checkout) is given a repository of its
 * own. Its `.git` is a file, `gitdir: <the user's repo>/.git/worktrees/<name>`: copied as it is,
 * every git command in the copy would act on the user's worktree — a commit there moves the
 * user's branch, a `git reset` rewrites the user's index. So the pointer is replaced by a local
 * clone of the repository (objects hard-linked where they can be, nothing written to the user's repo) on the same
 * branch and commit, with its index read from that commit: the copy's files, uncommitted changes
 * included, are untouched and show as changes, as they did in the worktree.
 */
import { lstatSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreContext } from '../context.js';

export type OwnRepository =
  /** The copy has no `.git` file (none, or a directory: already its own repository). */
  | 'not-linked'
  /** The pointer was replaced by a repository of its own. */
  | 'own'
  /** It could not be made: the pointer was removed, so the copy has no repository (warned). */
  | 'removed';

function linkedGitFile(workspace: string): string | null {
  const dotGit = join(workspace, '.git');
  try {
    if (!lstatSync(dotGit).isFile()) return null;
    return /^gitdir:\s*\S/.test(readFileSync(dotGit, 'utf8')) ? dotGit : null;
  } catch {
    return null;
  }
}

/** Replaces the copy's `.git` pointer into the user's repository with a repository of its own. */
export async function ownRepository(ctx: Pick<CoreContext, 'git' | 'warn'>, source: string, workspace: string): Promise<OwnRepository> {
  const dotGit = linkedGitFile(workspace);
  if (dotGit === null) return 'not-linked';
  // Asked of the source (the copy's pointer is the same): where the repository is, and what is checked out.
  const [common, head, branch] = await Promise.all([
    ctx.git.out(source, ['rev-parse', '--path-format=absolute', '--git-common-dir'], 'find the repository of the worktree').catch(() => null),
    ctx.git.headCommit(source).catch(() => null),
    ctx.git.currentBranch(source).catch(() => null),
  ]);
  // Never again a pointer into the user's repository, whatever follows.
  rmSync(dotGit, { force: true });
  const clone = `${workspace}.git-clone`;
  try {
    if (common === null || head === null) throw new Error(common === null ? 'git could not name its repository' : 'the worktree has no commit');
    rmSync(clone, { recursive: true, force: true });
    await ctx.git.out(workspace, ['clone', '--quiet', '--no-checkout', common.trim(), clone], 'clone the repository for the copy');
    renameSync(join(clone, '.git'), dotGit);
    if (branch !== null) {
      await ctx.git.out(workspace, ['update-ref', `refs/heads/${branch}`, head], 'name the branch in the copy');
      await ctx.git.out(workspace, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`], 'check out the branch in the copy');
    } else {
      await ctx.git.out(workspace, ['update-ref', '--no-deref', 'HEAD', head], 'check out the commit in the copy');
    }
    // The index from HEAD; the files are left as they are.
    await ctx.git.out(workspace, ['reset', '--quiet', '--mixed'], 'read the index of the copy');
    return 'own';
  } catch (e) {
    rmSync(dotGit, { recursive: true, force: true });
    ctx.warn(`the copy of ${source} has no git repository: its .git pointed into yours (a linked worktree), and a repository of its own could not be made (${e instanceof Error ? e.message.split('\n')[0] : String(e)}).`);
    return 'removed';
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}
