/**
 * Idle pause (issue #26): an environment nobody used for its `idle_pause` is paused (frozen, as
 * `down --pause`) by the DNS server's supervisor, and woken by the first DNS query for one of its
 * names, the first request through the router, or `up`/`exec`/`run`. Pure rules; the adapters
 * record activity (state/activity.ts) and core pauses and wakes (core/environments/idle.ts).
 */
import { CiloError } from '../errors.js';
import type { EnvironmentState, State } from './state.js';

/** `--idle-pause 0` (or `off`): never paused for being idle. */
export const IDLE_PAUSE_OFF = 0;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Seconds from `0`, `off`, `90` (seconds), `90s`, `10m`, `1h`, `1h30m`, `2d`. Throws a
 * CiloError naming `where` (`--idle-pause`, `idle_pause in .cilo/config.yml`) for anything else.
 */
export function parseIdlePause(raw: string | number, where: string): number {
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= 0) return raw;
  } else {
    const text = raw.trim().toLowerCase();
    if (text === 'off' || text === 'none' || text === 'never') return IDLE_PAUSE_OFF;
    if (/^\d+$/.test(text)) return Number(text);
    const parts = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (parts && text !== '') {
      return [parts[1], parts[2], parts[3], parts[4]].reduce((sum, n, i) => sum + Number(n ?? 0) * [UNIT_SECONDS.d, UNIT_SECONDS.h, UNIT_SECONDS.m, UNIT_SECONDS.s][i]!, 0);
    }
  }
  throw new CiloError('USAGE', `${where} must be a duration such as 30s, 10m, 1h30m or 0 (off), got "${String(raw)}".`, { hint: 'Give a whole number of seconds or a duration with s, m, h or d.', exitCode: 2 });
}

/** `90` → `1m30s`, `3600` → `1h`, `0` → `off`. */
export function formatIdlePause(seconds: number): string {
  if (seconds <= 0) return 'off';
  let left = Math.round(seconds);
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(left / size);
    if (n > 0) out += `${n}${unit}`;
    left -= n * size;
  }
  return out;
}

/** The idle pause an `up` gives the environment: its flag, else the project's config, else the home's default, else off. */
export function effectiveIdlePause(given: { flag?: number | undefined; config?: number | undefined; home?: number | undefined }): number {
  return given.flag ?? given.config ?? given.home ?? IDLE_PAUSE_OFF;
}

/** Paused by the supervisor for being idle (woken by its first use), as opposed to `down --pause`. */
export function isIdlePaused(env: Pick<EnvironmentState, 'status' | 'paused_by'>): boolean {
  return env.status === 'paused' && env.paused_by === 'idle';
}

/** When it was last used: the latest of its recorded activity and of its last change of state (an `up` counts as use). */
export function lastUsed(env: Pick<EnvironmentState, 'updated_at'>, activity: readonly (number | null | undefined)[]): number {
  return Math.max(Date.parse(env.updated_at) || 0, ...activity.map((a) => a ?? 0));
}

/** Whether a running environment with an idle pause has been unused for that long at `now`. */
export function isIdle(env: Pick<EnvironmentState, 'status' | 'idle_pause_seconds' | 'updated_at'>, now: number, activity: readonly (number | null | undefined)[]): boolean {
  const limit = env.idle_pause_seconds ?? IDLE_PAUSE_OFF;
  if (env.status !== 'running' || limit <= 0) return false;
  return now - lastUsed(env, activity) >= limit * 1000;
}

/** Whether any environment of `state` could be paused for being idle (running, with an idle pause): the supervisor's check that costs nothing. */
export function anyIdlePause(state: Pick<State, 'environments'>): boolean {
  for (const name in state.environments) {
    const env = state.environments[name];
    if (env && env.status === 'running' && (env.idle_pause_seconds ?? IDLE_PAUSE_OFF) > 0) return true;
  }
  return false;
}

/** The status as `status`, `list` and the dashboard show it: `paused (idle)` for the supervisor's pause. */
export function statusLabel(env: Pick<EnvironmentState, 'status' | 'paused_by'>): string {
  return isIdlePaused(env) ? 'paused (idle)' : env.status;
}

/** The idle-pause facts of an environment (issue #26), as `status --json`, `list --json` and the dashboard show them: only those that apply. */
export function pauseFields(env: Pick<EnvironmentState, 'status' | 'paused_by' | 'paused_at' | 'idle_pause_seconds'>): { paused_by?: 'idle' | 'user'; paused_at?: string; idle_pause_seconds?: number } {
  const paused = env.status === 'paused';
  return {
    ...(paused ? { paused_by: env.paused_by ?? 'user' } : {}),
    ...(paused && env.paused_at ? { paused_at: env.paused_at } : {}),
    ...((env.idle_pause_seconds ?? 0) > 0 ? { idle_pause_seconds: env.idle_pause_seconds } : {}),
  };
}
