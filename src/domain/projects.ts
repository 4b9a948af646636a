/**
 * Project identity: a project is its name *and* its source directory. State records, per
 * name, the source that claimed it (`State.projects`); the claim holds while the project has
 * environments, so two directories with one name never share environments, shared services or
 * datasets, and destroying a project's last environment frees its name. Pure: the caller
 * compares paths (real paths, which need the file system).
 */
import type { EnvironmentState, State } from './state.js';

export interface ProjectOwner {
  /** The source directory as recorded. */
  source: string;
  /** The project's environments, oldest first. */
  environments: string[];
}

/** A project's environments (on every engine), oldest first. */
function environmentsOf(state: State, project: string): EnvironmentState[] {
  return Object.values(state.environments)
    .filter((e) => e.project === project)
    .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.name < b.name ? -1 : 1));
}

/** The source of the oldest environment that records one (an environment migrated from the original may not). */
function firstSource(envs: EnvironmentState[]): string | undefined {
  return envs.find((e) => e.source !== '')?.source;
}

/**
 * Who holds a project name now: its recorded source while the project has environments.
 * Undefined when the name is free (no environments) or its source cannot be known.
 */
export function projectOwner(state: State, project: string): ProjectOwner | undefined {
  const envs = environmentsOf(state, project);
  if (envs.length === 0) return undefined;
  const source = state.projects?.[project]?.source ?? firstSource(envs);
  return source === undefined ? undefined : { source, environments: envs.map((e) => e.name) };
}

function unrecorded(state: State): string[] {
  const names = new Set(Object.values(state.environments).map((e) => e.project));
  return [...names].filter((p) => state.projects?.[p] === undefined).sort();
}

/** Whether a state written before sources were kept still has a project to record. */
export function needsProjectSources(state: State): boolean {
  return unrecorded(state).some((p) => firstSource(environmentsOf(state, p)) !== undefined);
}

/**
 * The migration of a state written before sources were kept: each project with environments
 * and no record gets the source of its oldest environment that has one; a project whose source
 * cannot be known stays unrecorded (usable: the next source that makes an environment claims
 * it). Returns a note for each project whose environments came from several sources: they keep
 * working, but only the recorded source makes new ones. `sameSource` says whether two recorded
 * paths are one source (the caller knows the file system: symlinks, a repository's worktrees).
 */
export function recordProjectSources(state: State, now: string, sameSource: (a: string, b: string) => boolean = (a, b) => a === b): string[] {
  const notes: string[] = [];
  for (const project of unrecorded(state)) {
    const envs = environmentsOf(state, project);
    const source = firstSource(envs);
    if (source === undefined) continue;
    state.projects = { ...state.projects, [project]: { source, claimed_at: now } };
    const strays = envs.filter((e) => e.source !== '' && !sameSource(e.source, source));
    if (strays.length === 0) continue;
    const from = [...new Set(strays.map((e) => e.source))].join(', ');
    notes.push(
      `project "${project}" now belongs to ${source}; its environments ${strays.map((e) => e.name).join(', ')} made from ${from} keep working, but new environments from there need their own project name (--project NAME, or project: in .cilo/config.yml).`,
    );
  }
  return notes;
}
