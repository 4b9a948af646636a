/**
 * The DNS server process is long-lived, so it is the natural supervisor of things that must
 * happen without a user running a command (SPEC, shared services 4: stop a shared service
 * whose grace period ran out). `serve` calls this once a second, never two at a time.
 */
import { anyGraceExpired } from '../state/grace.js';
import type { CiloPaths } from '../state/paths.js';
import type { State } from '../state/schema.js';

/**
 * `state` is the state as the server's zone source last read it (at most a few ms old): the
 * check costs no file read and no parse on the server's event loop. Whatever is due is reaped
 * from the state file itself, under its locks.
 */
export async function superviseTick(paths: CiloPaths, state: Readonly<State>, log: (line: string) => void = () => undefined): Promise<void> {
  const now = Date.now();
  // Cheap check first: no Docker call unless something is due.
  if (!anyGraceExpired(state, now)) return;
  // Loaded when first needed: the shared-service code pulls in the compose adapter and YAML.
  const [{ defaultContext }, { reapExpiredShared }] = await Promise.all([import('../core/context.js'), import('../core/shared.js')]);
  const reaped = await reapExpiredShared(defaultContext({ paths }), now);
  for (const key of reaped) log(`supervisor: removed shared service ${key} after its grace period`);
}
