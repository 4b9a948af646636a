/**
 * The DNS server process is long-lived, so it is the natural supervisor of things that must
 * happen without a user running a command (SPEC, shared services 4: stop a shared service
 * whose grace period ran out). `serve` calls this once a second, never two at a time.
 */
import { reapDue } from '../core/reap-hook.js';
import type { CiloPaths } from '../state/paths.js';
import type { State } from '../state/schema.js';

/**
 * `state` is the state as the server's zone source last read it (at most a few ms old): the
 * check costs no file read and no parse on the server's event loop. Whatever is due is reaped
 * from the state file itself, under its locks.
 */
export async function superviseTick(paths: CiloPaths, state: Readonly<State>, log: (line: string) => void = () => undefined): Promise<void> {
  for (const key of await reapDue(paths, state)) log(`supervisor: removed shared service ${key} after its grace period`);
}
