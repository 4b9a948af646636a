import { reapDue } from '../core/environments/supervise.js';
import { CiloError } from '../errors.js';
import { ciloPaths } from '../state/paths.js';
import { needsProjectSources, recordProjectSources } from '../domain/projects.js';
import type { State } from '../domain/state.js';
import type { CiloPaths } from '../state/paths.js';
import { readStateUpgraded, withStateLock } from '../state/store.js';
import { info, warn } from './output/print.js';

/**
 * A state written before projects' sources were kept gets them from its environments, once,
 * saying what it found that a user should know (environments of one name from two sources).
 */
async function recordSources(paths: CiloPaths, state: State): Promise<void> {
  if (!needsProjectSources(state)) return;
  const { sameSource } = await import('../core/project/project.js');
  const notes = await withStateLock((s) => recordProjectSources(s, new Date().toISOString(), sameSource), paths);
  for (const note of notes) warn(note);
}

/**
 * Runs before every command: migrates a state file left by the original cilo (and one written
 * before projects' sources were kept), then reaps shared
 * services whose grace period is over, in case the DNS server (their usual supervisor) is not
 * running. Costs one state read when there is nothing to do.
 * An expected failure (a corrupt state, an unreachable engine) is left to the command itself to
 * report; anything else is a bug, named on stderr without stopping the command.
 */
export async function beforeCommand(): Promise<void> {
  const paths = ciloPaths();
  try {
    const state = await readStateUpgraded(paths, (notes) => {
      for (const n of notes) warn(`the state of the original cilo was migrated: ${n}`);
    });
    if (!state) return;
    await recordSources(paths, state);
    // The context (Engine client...) is loaded only when something is due.
    await reapDue(async () => (await import('./output/context.js')).cliContext({ paths }), state);
  } catch (e) {
    if (e instanceof CiloError) return;
    warn(`removing shared services whose grace period ended failed: ${e instanceof Error ? e.message : String(e)} (a bug in cilo; CILO_DEBUG=1 shows more).`);
    if (process.env.CILO_DEBUG === '1' && e instanceof Error && e.stack) info(e.stack);
  }
}
