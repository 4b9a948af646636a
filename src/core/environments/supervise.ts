/**
 * What must happen without a user running a command (SPEC, shared services 4: stop a shared
 * service whose grace period ran out). The DNS server process, which is long-lived, runs
 * `superviseTick` once a second; every other cilo command runs `reapDue` before its own work,
 * in case that server is not running.
 */
import type { State } from '../../domain/state.js';
import { anyGraceExpired } from '../../state/grace.js';
import type { CoreContext } from '../context.js';
import type { Clock } from '../ports.js';
import type { SeenActivity } from './idle.js';

/**
 * Reaps the shared services whose grace is over, judged first on `state` alone (no Docker call
 * when nothing is due). The shared-service code (YAML, compose) and the context are loaded only
 * then: this runs before every command and every second in the DNS server. Returns the keys reaped.
 */
export async function reapDue(context: () => CoreContext | Promise<CoreContext>, state: Readonly<State>, clock: Clock): Promise<string[]> {
  const now = clock.now();
  if (!anyGraceExpired(state, now)) return [];
  const { reapExpiredShared } = await import('../shared/shared.js');
  return reapExpiredShared(await context(), now);
}

/**
 * One tick of the DNS server's supervisor. `state` is the state as the server's zone source
 * last read it (at most a few ms old): the check costs no file read and no parse on the server's
 * event loop. Whatever is due is reaped from the state file itself, under its locks.
 */
export async function superviseTick(context: () => CoreContext, state: Readonly<State>, log: (line: string) => void, seen?: SeenActivity): Promise<void> {
  void seen; // the DNS server's queries, for the idle pause (issue #26): used once the supervisor pauses idle environments
  for (const key of await reapDue(context, state, context().clock)) log(`supervisor: removed shared service ${key} after its grace period`);
}
