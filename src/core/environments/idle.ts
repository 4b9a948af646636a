/**
 * Idle pause (issue #26): the supervisor pauses an environment nobody used for its idle pause
 * (frozen as by `down --pause`: memory kept, CPU freed, shared services still held), and its
 * first use wakes it: a DNS query for one of its names, a request through the router, `up`,
 * `exec`, `run`. Activity is recorded per environment by `ctx.activity`; the DNS server adds
 * the queries and router requests it sees (`seen`).
 *
 * Locks: pausing and waking hold the environment's lock, so neither overlaps an `up`, `down` or
 * `destroy` of it. The supervisor only tries the lock (a busy environment is not idle), and it
 * reads the activity again under the lock: a use recorded before a waker takes the lock is seen,
 * and a waker that takes the lock after the pause finds it paused and thaws it.
 */
import { isIdle, isIdlePaused } from '../../domain/idle.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { lockEnvironment, tryLockEnvironment, type Release } from '../../state/env-lock.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { atSite } from '../sites/reach.js';
import { pauseContainers, resumeContainers } from './pause.js';

/** Activity the caller saw and has not written (the DNS server's queries), in ms since the epoch. */
export type SeenActivity = (env: string) => number | null | undefined;

export type WakeOutcome =
  /** It was paused for being idle and runs again. */
  | 'woke'
  /** It was not idle-paused (running already, stopped, paused by the user, gone): nothing done. */
  | 'not-idle-paused';

/**
 * Thaws an environment the supervisor paused, and records it running. Waits for the
 * environment's lock (an `up`, `down` or `destroy` of it finishes first, and decides). `why` is
 * logged (`DNS query for api.agent-1.test`, `cilo exec`).
 */
export async function wakeEnvironment(base: CoreContext, name: string, why: string): Promise<WakeOutcome> {
  base.activity.touch(name);
  if (!isIdlePausedNow(base, name)) return 'not-idle-paused';
  return underLock(await lockEnvironment(base.paths, name), async () => {
    const env = readState(base.paths).environments[name];
    if (!env || !isIdlePaused(env)) return 'not-idle-paused';
    const ctx = await atSite(base, env);
    const resumed = await resumeContainers(ctx, env);
    await recordWoken(ctx, name);
    base.log(`Woke ${name} (${resumed.length} container(s) thawed): ${why}`);
    return 'woke';
  });
}

/**
 * A use of the environment by a command (`exec`, `run`, `logs -f`, an MCP call): records it and,
 * if the environment is idle-paused, wakes it first. Call it outside any lock of the environment.
 */
export async function useEnvironment(ctx: CoreContext, name: string, why: string): Promise<void> {
  ctx.activity.touch(name);
  const env = readState(ctx.paths).environments[name];
  if (env && env.status === 'running' && (env.idle_pause_seconds ?? 0) > 0) {
    // The supervisor may be pausing it this very moment, under its lock: let it finish (it
    // sees this use and thaws again) rather than meet frozen containers. A command holding the
    // lock longer (an `up`) is not waited for.
    const release = await lockSoon(ctx, name, SUPERVISOR_PAUSE_MS);
    await release?.();
  }
  if (isIdlePausedNow(ctx, name)) await wakeEnvironment(ctx, name, why);
}

/** Long enough for the supervisor's pause of one environment (a freeze and a state write). */
const SUPERVISOR_PAUSE_MS = 3000;

/** The environment's lock if it can be had within `ms`, else undefined. */
async function lockSoon(ctx: CoreContext, name: string, ms: number): Promise<Release | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const release = await tryLockEnvironment(ctx.paths, name);
    if (release || Date.now() >= end) return release;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Marks a recorded environment used without waking it (an MCP call that reads it, `logs`): a
 * name that is not an environment's is ignored, so no file is made for it.
 */
export function noteUse(ctx: CoreContext, name: string): void {
  if (readState(ctx.paths).environments[name] !== undefined) ctx.activity.touch(name);
}

/** The environments of `state` that are idle now (running, with an idle pause, unused that long). */
export function idleCandidates(ctx: CoreContext, state: Readonly<State>, seen: SeenActivity = () => null): EnvironmentState[] {
  const now = ctx.clock.now();
  return Object.values(state.environments).filter((e) => isIdle(e, now, [ctx.activity.last(e.name), seen(e.name)]));
}

/**
 * Pauses one environment for being idle, if it still is under its lock; returns whether it did.
 * A busy environment (another command holds its lock) is left alone: it is not idle.
 */
export async function pauseIfIdle(base: CoreContext, name: string, seen: SeenActivity = () => null): Promise<boolean> {
  const release = await tryLockEnvironment(base.paths, name);
  if (!release) return false;
  return underLock(release, async () => {
    const env = readState(base.paths).environments[name];
    const used = (): string => `${base.activity.last(name) ?? ''}/${seen(name) ?? ''}`;
    const usedAtCheck = used();
    if (!env || !isIdle(env, base.clock.now(), [base.activity.last(name), seen(name)])) return false;
    const ctx = await atSite(base, env);
    const paused = await pauseContainers(ctx, env);
    if (paused.length === 0) return false;
    await withStateLock((state) => {
      const rec = state.environments[name];
      if (!rec) return;
      rec.status = 'paused';
      rec.paused_by = 'idle';
      rec.paused_at = isoNow(ctx);
      rec.updated_at = rec.paused_at;
    }, ctx.paths);
    // A use between the check and the record (a DNS query answered while the zone still said
    // running, an exec that found it running) would meet frozen containers and wake nothing:
    // seen now, it thaws them again at once.
    if (used() !== usedAtCheck) {
      await resumeContainers(ctx, env);
      await recordWoken(ctx, name);
      return false;
    }
    return true;
  });
}

/** Records an idle-paused environment running again (its containers thawed). */
function recordWoken(ctx: CoreContext, name: string): Promise<void> {
  return withStateLock((state) => {
    const rec = state.environments[name];
    if (!rec || !isIdlePaused(rec)) return;
    rec.status = 'running';
    delete rec.paused_by;
    delete rec.paused_at;
    rec.updated_at = isoNow(ctx);
  }, ctx.paths);
}

function isIdlePausedNow(ctx: CoreContext, name: string): boolean {
  const env = readState(ctx.paths).environments[name];
  return env !== undefined && isIdlePaused(env);
}

async function underLock<T>(release: Release, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** How often a long use (`run`'s child, `exec`, `logs -f`) marks the environment used: well inside its idle pause, at most every 30 s. */
export function keepAliveMs(idlePauseSeconds: number | undefined): number {
  const limit = (idlePauseSeconds ?? 0) * 1000;
  return limit > 0 ? Math.min(30_000, Math.max(1000, Math.floor(limit / 3))) : 30_000;
}

/**
 * Runs `fn` (a command attached to the environment for as long as it runs) with the environment
 * marked used at the start, every keepAliveMs while it runs, and at the end, so the supervisor
 * never pauses what a person or an agent is working in. The timer never keeps the process alive.
 */
export async function whileUsing<T>(ctx: CoreContext, name: string, fn: () => Promise<T>): Promise<T> {
  ctx.activity.touch(name);
  const limit = readState(ctx.paths).environments[name]?.idle_pause_seconds;
  const timer = setInterval(() => ctx.activity.touch(name), keepAliveMs(limit));
  timer.unref();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    ctx.activity.touch(name);
  }
}
