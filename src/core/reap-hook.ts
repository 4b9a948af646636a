import { existsSync } from 'node:fs';
import { ciloPaths } from '../state/paths.js';
import { anyGraceExpired } from '../state/grace.js';
import { readState } from '../state/store.js';

/**
 * Run before every command: reaps shared services whose grace period is over, in case the DNS
 * server (their usual supervisor) is not running. Costs one state read when nothing is due;
 * never fails the command it precedes.
 */
export async function reapIfDue(): Promise<void> {
  const paths = ciloPaths();
  if (!existsSync(paths.state)) return;
  try {
    const now = Date.now();
    if (!anyGraceExpired(readState(paths), now)) return;
    // Loaded only when something is due: this hook runs before every command.
    const [{ defaultContext }, { reapExpiredShared }] = await Promise.all([import('./context.js'), import('./shared.js')]);
    await reapExpiredShared(defaultContext({ paths }));
  } catch {
    // A corrupt state or an unreachable engine is reported by the command itself.
  }
}
