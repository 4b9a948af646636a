/**
 * What runs before every command (cli/before-command.ts): the state file brought up to date,
 * then shared services whose grace period is over removed, in case the DNS server (their usual
 * supervisor) is not running. Costs one state read when there is nothing to do.
 */
import { needsProjectSources, recordProjectSources } from '../../domain/projects.js';
import type { State } from '../../domain/state.js';
import { ciloPaths, type CiloPaths } from '../../state/paths.js';
import { readStateUpgraded, withStateLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import type { Clock } from '../ports.js';
import { reapDue } from '../environments/supervise.js';

/**
 * A state written before projects' sources were kept gets them from its environments, once,
 * saying what it found that a user should know (environments of one name from two sources).
 */
async function recordSources(paths: CiloPaths, state: State, warn: (line: string) => void, clock: Clock): Promise<void> {
  if (!needsProjectSources(state)) return;
  const { sameSource } = await import('./project.js');
  const notes = await withStateLock((s) => recordProjectSources(s, new Date(clock.now()).toISOString(), sameSource), paths);
  for (const note of notes) warn(note);
}

/**
 * Migrates a state file left by the original cilo (and one written before projects' sources
 * were kept), then reaps shared services whose grace period ended. `context` builds the core
 * context (the Engine client...) only when something is due; until then `clock` tells the time.
 */
export async function upkeepHome(warn: (line: string) => void, context: (paths: CiloPaths) => Promise<CoreContext>, clock: Clock): Promise<void> {
  const paths = ciloPaths();
  const state = await readStateUpgraded(paths, (notes) => {
    for (const n of notes) warn(`the state of the original cilo was migrated: ${n}`);
  });
  if (!state) return;
  await recordSources(paths, state, warn, clock);
  await reapDue(() => context(paths), state, clock);
}
