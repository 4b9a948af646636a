/**
 * What cilo writes into a workspace for itself, never the project's:
 *
 * - `.cilo/meta.json`: what the environment is, for people and programs working in it (its
 *   name, project, source, subnet and network). Informational: cilo never reads it back. It is
 *   listed in the workspace repository's `.git/info/exclude`, so `git add -A` there leaves it
 *   out and `cilo merge` never brings it into the source.
 * - `.git/cilo-not-copied` in each git repository of the workspace: the files git tracks in the
 *   source that the copy left out (by `--include` or the env copy policy; NUL-separated, empty
 *   when it holds them all). `cilo merge` reads it to refuse commits that would delete them from
 *   the source. A workspace without it was made by a cilo that skipped dot-directories whole.
 *
 * Both live with the workspace, so a fork or a snapshot of it carries them along. Neither is
 * written for an in-place environment (issue #28): its workspace is the user's own tree, and
 * everything cilo generates for it stays under CILO_HOME.
 */
import { appendFileSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { networkName } from '../../domain/names.js';
import type { EnvironmentState } from '../../domain/state.js';

type MetaOf = Pick<EnvironmentState, 'name' | 'project' | 'source' | 'workspace' | 'subnet' | 'created_at'>;

/** cilo's files in the work tree, as paths from the workspace root. */
export const CILO_FILES = ['.cilo/meta.json'];

const NOT_COPIED = 'cilo-not-copied';

export function writeWorkspaceMeta(env: MetaOf): void {
  mkdirSync(join(env.workspace, '.cilo'), { recursive: true });
  const meta = { env: env.name, project: env.project, source: env.source, subnet: env.subnet, network: networkName(env.project, env.name), created_at: env.created_at };
  writeFileSync(join(env.workspace, '.cilo', 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  excludeCiloFiles(env.workspace);
}

/** After the environment moved to another subnet; a missing or edited file is left alone. */
export function updateWorkspaceMetaSubnet(env: Pick<EnvironmentState, 'workspace' | 'subnet' | 'workspace_mode'>): void {
  // An in-place environment's workspace is the user's tree: cilo wrote no meta there (a `.cilo/meta.json` in it is another's).
  if (env.workspace_mode === 'in-place') return;
  const file = join(env.workspace, '.cilo', 'meta.json');
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (meta.subnet === env.subnet) return;
    meta.subnet = env.subnet;
    writeFileSync(file, `${JSON.stringify(meta, null, 2)}\n`);
    excludeCiloFiles(env.workspace);
  } catch {
    // informational only
  }
}

/**
 * The git directory of the repository at `dir` when it lies inside the workspace: `<dir>/.git`,
 * or where a `.git` file points (a submodule's, in the workspace's copy of `.git/modules`).
 * Undefined when it lies elsewhere (a linked worktree's points into the source's repository,
 * which cilo must not write to) or there is none.
 */
function ownGitDir(dir: string, workspace: string): string | undefined {
  const dotGit = join(dir, '.git');
  try {
    const st = lstatSync(dotGit);
    if (st.isDirectory()) return dotGit;
    if (!st.isFile()) return undefined;
    const target = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
    if (target === undefined) return undefined;
    const gitDir = resolve(dir, target);
    return gitDir.startsWith(`${resolve(workspace)}${sep}`) && lstatSync(gitDir).isDirectory() ? gitDir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists cilo's files in the workspace repository's `.git/info/exclude` (once), so they are
 * never committed there. Idempotent; also brings workspaces made before this rule in line.
 */
export function excludeCiloFiles(workspace: string): void {
  const gitDir = ownGitDir(workspace, workspace);
  if (!gitDir) return;
  const file = join(gitDir, 'info', 'exclude');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no exclude file yet
  }
  const lines = new Set(text.split('\n').map((l) => l.trim()));
  const missing = CILO_FILES.map((f) => `/${f}`).filter((f) => !lines.has(f));
  if (missing.length === 0) return;
  mkdirSync(join(gitDir, 'info'), { recursive: true });
  const head = text === '' || text.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${head}# cilo's own files in this workspace, never the project's\n${missing.join('\n')}\n`);
}

/** Records, in each repository's own git directory, the tracked files the copy left out (`repos`: directories relative to the workspace). */
export function writeNotCopied(workspace: string, repos: readonly { dir: string; notCopied: readonly string[] }[]): void {
  for (const r of repos) {
    const gitDir = ownGitDir(r.dir === '' ? workspace : join(workspace, r.dir), workspace);
    if (gitDir) writeFileSync(join(gitDir, NOT_COPIED), r.notCopied.map((f) => `${f}\0`).join(''));
  }
}

/** The tracked files the copy left out of the repository at `dir` of a workspace; undefined when the workspace does not say (made by an older cilo). */
export function readNotCopied(dir: string, workspace: string): Set<string> | undefined {
  const gitDir = ownGitDir(dir, workspace);
  if (!gitDir) return undefined;
  try {
    return new Set(readFileSync(join(gitDir, NOT_COPIED), 'utf8').split('\0').filter((f) => f !== ''));
  } catch {
    return undefined;
  }
}
