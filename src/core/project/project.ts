import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import type { SiteContext } from '../sites/site.js';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { loadProjectConfig } from '../../config/load.js';
import type { ProjectConfig } from '../../domain/project-config.js';
import { normalizeSuffix, toValidName } from '../../domain/names.js';
import { CiloError } from '../../errors.js';
import { projectOwner, recordProjectSources, type ProjectOwner } from '../../domain/projects.js';
import { DEFAULT_DNS_SUFFIX, type State } from '../../domain/state.js';
import { CONFIG_RELATIVE_PATH } from '../../config/load.js';
import { COMPOSE_FILE_NAMES } from './compose-files.js';
import { isoNow, type CoreContext } from '../context.js';

export { COMPOSE_FILE_NAMES };

export interface ProjectInfo {
  dir: string;
  name: string;
  config: ProjectConfig;
  /** The config's `dns_suffix`, else `.test`; a new environment takes `environmentSuffix` (the home's default comes between). */
  suffix: string;
}

/**
 * The suffix of a new environment of the project: its config's `dns_suffix`, else the home's
 * default (`cilo init --dns-suffix`), else `.test`.
 */
export function environmentSuffix(p: ProjectInfo, home: Pick<State, 'dns_suffix'>): string {
  if (p.config.dns_suffix !== undefined) return p.suffix;
  return normalizeSuffix(home.dns_suffix ?? DEFAULT_DNS_SUFFIX);
}

export function resolveProjectDir(from: string | undefined): string {
  const dir = resolve(from ?? process.cwd());
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new CiloError('PROJECT_NOT_FOUND', `The project directory ${dir} does not exist.`, { hint: 'Pass --from with the directory of your compose project.', exitCode: 2 });
  }
  if (!st.isDirectory()) throw new CiloError('PROJECT_NOT_FOUND', `${dir} is not a directory.`, { hint: 'Pass --from with the directory of your compose project.', exitCode: 2 });
  return dir;
}

/**
 * Project name: --project, else `project:` in .cilo/config.yml, else the directory name.
 * `warn` hears of config keys that have no effect (see loadProjectConfig).
 */
export function resolveProject(dir: string, explicitName?: string, warn?: (line: string) => void): ProjectInfo {
  const config = loadProjectConfig(dir, warn);
  const raw = explicitName ?? config.project ?? basename(dir);
  const name = toValidName(raw, 'project');
  return { dir, name, config, suffix: normalizeSuffix(config.dns_suffix ?? DEFAULT_DNS_SUFFIX) };
}

/** Checks that the project has compose files before anything is copied or allocated. */
export async function assertComposeFiles(ctx: SiteContext, p: ProjectInfo): Promise<void> {
  const listed = p.config.compose_files;
  if (listed && listed.length > 0) {
    const missing = listed.filter((f) => !existsSync(join(p.dir, f)));
    if (missing.length > 0) {
      throw new CiloError('NO_COMPOSE_FILE', `The compose file ${missing.join(', ')} listed in .cilo/config.yml does not exist in ${p.dir}.`, {
        hint: 'Fix compose_files in .cilo/config.yml.',
      });
    }
    return;
  }
  if (COMPOSE_FILE_NAMES.some((f) => existsSync(join(p.dir, f)))) return;
  // Compose also finds the files COMPOSE_FILE names (in the environment or the project's .env):
  // only compose itself knows, so it is asked (a model it finds but refuses is up's to report).
  const found = await ctx.site.compose
    .resolveModel({ projectName: p.name, files: [], envFiles: (p.config.env_files ?? []).map((f) => join(p.dir, f)), cwd: p.dir })
    .then(
      () => true,
      (e: unknown) => !(e instanceof CiloError && e.code === 'NO_COMPOSE_FILE'),
    );
  if (!found) {
    throw new CiloError('NO_COMPOSE_FILE', `No compose file (${COMPOSE_FILE_NAMES.join(', ')}) in ${p.dir}.`, {
      hint: 'Run cilo in your compose project, pass --from DIR, name the files in COMPOSE_FILE (in its .env), or list them under compose_files in .cilo/config.yml.',
    });
  }
}

/** A directory as the file system names it (symlinks resolved); as given when it does not exist. */
export function canonicalDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** The linked git worktree `dir` is in (its root), and its repository's main worktree; undefined elsewhere. */
function linkedWorktree(dir: string): { root: string; main: string } | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const dotGit = join(d, '.git');
    let isFile: boolean | undefined;
    try {
      isFile = statSync(dotGit).isFile();
    } catch {
      isFile = undefined;
    }
    // A `.git` directory: a repository's main worktree (or a plain repository).
    if (isFile === false) return undefined;
    if (isFile) {
      try {
        const gitdir = resolve(d, /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim() ?? '');
        // Only a linked worktree's gitdir has a `commondir` (a submodule's has not).
        const common = resolve(gitdir, readFileSync(join(gitdir, 'commondir'), 'utf8').trim());
        return basename(common) === '.git' ? { root: d, main: canonicalDir(dirname(common)) } : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(d) === d) return undefined;
  }
}

/**
 * What stands for a directory as a project's source: its real path, except that the linked
 * worktrees of one git repository (\`git worktree add\`) are one source with its main worktree
 * (the same place in it), so they share a project name (and its shared services) when their
 * config names it.
 */
export function canonicalSource(dir: string): string {
  const real = canonicalDir(dir);
  const linked = linkedWorktree(real);
  return linked ? join(linked.main, relative(linked.root, real)) : real;
}

/** Whether two directories are one project source (see canonicalSource). */
export function sameSource(a: string, b: string): boolean {
  return a === b || canonicalSource(a) === canonicalSource(b);
}

function projectTaken(project: string, owner: ProjectOwner, source: string): CiloError {
  const gone = !existsSync(owner.source);
  const envs = owner.environments;
  const config = join(source, CONFIG_RELATIVE_PATH);
  return new CiloError(
    'PROJECT_TAKEN',
    `The project name "${project}" belongs to ${owner.source}${gone ? ' (which no longer exists)' : ''}, whose environment${envs.length > 1 ? 's' : ''} ${envs.join(', ')} use${envs.length > 1 ? '' : 's'} it, so ${source} cannot use it too: two sources never share environments or shared services.`,
    {
      hint:
        `Give ${source} its own name: pass --project NAME, or set \`project: NAME\` in ${config}.` +
        (gone ? ` If the project moved here, destroy its old environment${envs.length > 1 ? 's' : ''} (\`cilo destroy ${envs.join(' ')}\`) to free the name.` : ''),
    },
  );
}

/**
 * Inside the state transaction that records a new environment, before anything is made:
 * takes the project's name for the source directory `dir`, or refuses when another source
 * holds it (it has environments). A free name taken over from another source is said aloud:
 * the shared services' volumes, named after the project, come with it.
 */
export function claimProjectName(ctx: Pick<CoreContext, 'warn' | 'clock'>, state: State, project: string, dir: string): void {
  const now = isoNow(ctx);
  for (const note of recordProjectSources(state, now, sameSource)) ctx.warn(note);
  const source = canonicalSource(dir);
  const owner = projectOwner(state, project);
  if (owner) {
    if (!sameSource(owner.source, source)) throw projectTaken(project, owner, canonicalDir(dir));
    return;
  }
  const previous = state.projects?.[project];
  if (previous && !sameSource(previous.source, source)) {
    ctx.warn(`project "${project}" moves from ${previous.source}, which has no environments left, to ${source}; any volumes of its shared services, named after the project, now serve ${source}.`);
  }
  state.projects = { ...state.projects, [project]: { source, claimed_at: now } };
}

/**
 * Gives back the claim of a creation that failed: a name whose only environment was never
 * made is not held (and no later source hears that the project "moves" from it).
 */
export function releaseProjectName(state: State, project: string, dir: string): void {
  const rec = state.projects?.[project];
  if (!rec || !state.projects || Object.values(state.environments).some((e) => e.project === project)) return;
  if (!sameSource(rec.source, dir)) return;
  delete state.projects[project];
  if (Object.keys(state.projects).length === 0) delete state.projects;
}
