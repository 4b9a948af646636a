import { existsSync } from 'node:fs';
import { ciloPaths, type CiloPaths } from '../state/paths.js';
import type { State } from '../state/schema.js';
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
    await reapDue(paths, readState(paths));
  } catch {
    // A corrupt state or an unreachable engine is reported by the command itself.
  }
}

/**
 * Reaps the shared services whose grace is over, judged first on `state` alone (no Docker call
 * when nothing is due). The shared-service code (compose adapter, YAML) is loaded only then: the
 * hook runs before every command and the DNS supervisor every second. Returns the keys reaped.
 */
export async function reapDue(paths: CiloPaths, state: Readonly<State>, now: number = Date.now()): Promise<string[]> {
  if (!anyGraceExpired(state, now)) return [];
  const [{ defaultContext }, { reapExpiredShared }] = await Promise.all([import('./context.js'), import('./shared.js')]);
  return reapExpiredShared(defaultContext({ paths }), now);
}
