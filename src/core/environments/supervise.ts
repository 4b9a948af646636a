/**
 * What must happen without a user running a command (SPEC, shared services 4: stop a shared
 * service whose grace period ran out). The DNS server process, which is long-lived, runs
 * `superviseTick` once a second; every other cilo command runs `reapDue` before its own work,
 * in case that server is not running.
 */
import { anyIdlePause, formatIdlePause, lastUsed } from '../../domain/idle.js';
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
 * Pauses the environments idle past their idle pause (issue #26), judged first on `state` alone:
 * with no running environment that has one, nothing is read and nothing is loaded. `seen` is the
 * activity the caller saw and did not write (the DNS server's queries). Returns what it paused.
 */
export async function pauseIdleDue(context: () => CoreContext, state: Readonly<State>, seen?: SeenActivity): Promise<IdlePauseOutcome[]> {
  if (!anyIdlePause(state)) return [];
  const { idleCandidates, pauseIfIdle } = await import('./idle.js');
  const ctx = context();
  const outcomes: IdlePauseOutcome[] = [];
  const now = ctx.clock.now();
  for (const env of idleCandidates(ctx, state, seen)) {
    if ((retryAfter.get(env.name) ?? 0) > now) continue;
    const idleMs = now - lastUsed(env, [ctx.activity.last(env.name), seen?.(env.name)]);
    try {
      if (await pauseIfIdle(ctx, env.name, seen)) outcomes.push({ name: env.name, idleMs });
      retryAfter.delete(env.name);
    } catch (e) {
      // One environment the engine cannot pause does not keep the others running, and is
      // tried again a minute later, not every second (one line in the log each time).
      retryAfter.set(env.name, now + RETRY_FAILED_PAUSE_MS);
      outcomes.push({ name: env.name, idleMs, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return outcomes;
}

const RETRY_FAILED_PAUSE_MS = 60_000;
/** Environments whose pause failed, and when to try again (this process's memory: the DNS server's). */
const retryAfter = new Map<string, number>();

export interface IdlePauseOutcome {
  name: string;
  /** How long it had been unused when the supervisor paused it. */
  idleMs: number;
  /** Set when the pause failed. */
  error?: string;
}

/**
 * One tick of the DNS server's supervisor. `state` is the state as the server's zone source
 * last read it (at most a few ms old): the check costs no file read and no parse on the server's
 * event loop. Whatever is due is reaped or paused from the state file itself, under its locks.
 */
export async function superviseTick(context: () => CoreContext, state: Readonly<State>, log: (line: string) => void, seen?: SeenActivity): Promise<void> {
  for (const key of await reapDue(context, state, context().clock)) log(`supervisor: removed shared service ${key} after its grace period`);
  for (const { name, idleMs, error } of await pauseIdleDue(context, state, seen)) {
    const idle = formatIdlePause(Math.max(1, Math.round(idleMs / 1000)));
    log(error === undefined ? `supervisor: paused ${name} after ${idle} idle` : `supervisor: could not pause ${name} after ${idle} idle: ${error}`);
  }
}
