/**
 * The DNS server process is long-lived, so it is the natural supervisor of things that must
 * happen without a user running a command (SPEC, shared services 4: stop a shared service
 * whose grace period ran out). `serve` calls this once a second, never two at a time.
 */
import { defaultContext } from '../core/context.js';
import { reapExpiredShared } from '../core/shared.js';
import type { CiloPaths } from '../state/paths.js';
import { readState } from '../state/store.js';

export async function superviseTick(paths: CiloPaths, log: (line: string) => void = () => undefined): Promise<void> {
  const now = Date.now();
  // Cheap check first: a state read, no Docker call unless something is due.
  const due = Object.values(readState(paths).shared_services).some((r) => r.users.length === 0 && r.grace_until !== null && Date.parse(r.grace_until) <= now);
  if (!due) return;
  const reaped = await reapExpiredShared(defaultContext({ paths }), now);
  for (const key of reaped) log(`supervisor: removed shared service ${key} after its grace period`);
}
