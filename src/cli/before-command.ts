import { upkeepHome } from '../core/project/upkeep.js';
import { CiloError } from '../errors.js';
import { info, warn } from './output/print.js';

/**
 * Runs before every command: migrates a state file left by the original cilo (and one written
 * before projects' sources were kept), then reaps shared services whose grace period is over
 * (core/project/upkeep.ts). Costs one state read when there is nothing to do.
 * An expected failure (a corrupt state, an unreachable engine) is left to the command itself to
 * report; anything else is a bug, named on stderr without stopping the command.
 */
export async function beforeCommand(): Promise<void> {
  try {
    // The context (Engine client...) is loaded only when something is due; the wall clock tells when.
    await upkeepHome(warn, async (paths) => (await import('./output/context.js')).cliContext({ paths }), { now: () => Date.now() });
  } catch (e) {
    if (e instanceof CiloError) return;
    warn(`removing shared services whose grace period ended failed: ${e instanceof Error ? e.message : String(e)} (a bug in cilo; CILO_DEBUG=1 shows more).`);
    if (process.env.CILO_DEBUG === '1' && e instanceof Error && e.stack) info(e.stack);
  }
}
