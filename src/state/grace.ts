import type { SharedServiceState } from '../domain/state.js';

type GraceFields = Pick<SharedServiceState, 'users' | 'grace_until'>;

/** A shared service nobody uses whose grace period is over: due to be stopped and removed. */
export function graceExpired(rec: GraceFields, now: number): boolean {
  return rec.users.length === 0 && rec.grace_until !== null && Date.parse(rec.grace_until) <= now;
}

/** Whether any shared service is due; a cheap check on state alone, before any Docker call. */
export function anyGraceExpired(state: { shared_services: Record<string, GraceFields> }, now: number): boolean {
  return Object.values(state.shared_services).some((r) => graceExpired(r, now));
}
