import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CiloError } from '../errors.js';
import { anyIdlePause, effectiveIdlePause, formatIdlePause, isIdle, isIdlePaused, lastUsed, parseIdlePause, pauseFields, statusLabel } from './idle.js';
import type { EnvironmentState, State } from './state.js';

test('an idle pause is seconds or a duration with s, m, h, d; 0 and off turn it off', () => {
  assert.equal(parseIdlePause('90', '--idle-pause'), 90);
  assert.equal(parseIdlePause('90s', '--idle-pause'), 90);
  assert.equal(parseIdlePause('10m', '--idle-pause'), 600);
  assert.equal(parseIdlePause('1h30m', '--idle-pause'), 5400);
  assert.equal(parseIdlePause('2d', '--idle-pause'), 172_800);
  assert.equal(parseIdlePause(' 3S ', '--idle-pause'), 3);
  assert.equal(parseIdlePause('0', '--idle-pause'), 0);
  assert.equal(parseIdlePause('off', '--idle-pause'), 0);
  assert.equal(parseIdlePause(45, 'idle_pause in .cilo/config.yml'), 45);
});

test('a bad idle pause is one sentence naming where it was given, with exit code 2', () => {
  for (const bad of ['soon', '', '10 minutes', '-5', '1.5m', 'm', '5m10h']) {
    assert.throws(
      () => parseIdlePause(bad, '--idle-pause'),
      (e: unknown) => e instanceof CiloError && e.code === 'USAGE' && e.exitCode === 2 && e.message.startsWith('--idle-pause must be a duration') && e.message.includes(`"${bad}"`),
      bad,
    );
  }
  assert.throws(() => parseIdlePause(-1, 'idle_pause in .cilo/config.yml'), /^CiloError: idle_pause in \.cilo\/config\.yml must be/);
  assert.throws(() => parseIdlePause(1.5, 'idle_pause in .cilo/config.yml'), CiloError);
});

test('an idle pause is written back the way a person gives it', () => {
  assert.equal(formatIdlePause(0), 'off');
  assert.equal(formatIdlePause(3), '3s');
  assert.equal(formatIdlePause(90), '1m30s');
  assert.equal(formatIdlePause(3600), '1h');
  assert.equal(formatIdlePause(90_061), '1d1h1m1s');
  for (const s of [1, 59, 600, 5400, 86_400]) assert.equal(parseIdlePause(formatIdlePause(s), 'x'), s);
});

test('the flag wins over the project config, which wins over the home default; 0 given is off', () => {
  assert.equal(effectiveIdlePause({ flag: 60, config: 600, home: 3600 }), 60);
  assert.equal(effectiveIdlePause({ config: 600, home: 3600 }), 600);
  assert.equal(effectiveIdlePause({ home: 3600 }), 3600);
  assert.equal(effectiveIdlePause({}), 0);
  assert.equal(effectiveIdlePause({ flag: 0, config: 600, home: 3600 }), 0);
  assert.equal(effectiveIdlePause({ flag: undefined, config: 0, home: 3600 }), 0);
});

const T0 = Date.parse('2026-12-07T10:00:00Z');
function env(over: Partial<EnvironmentState>): EnvironmentState {
  return { name: 'agent-1', status: 'running', updated_at: new Date(T0).toISOString(), idle_pause_seconds: 60, ...over } as EnvironmentState;
}

test('a running environment with an idle pause is idle once unused that long, counting its last change and every activity', () => {
  assert.equal(isIdle(env({}), T0 + 59_999, []), false);
  assert.equal(isIdle(env({}), T0 + 60_000, []), true);
  assert.equal(isIdle(env({}), T0 + 60_000, [T0 + 30_000]), false, 'a recent use');
  assert.equal(isIdle(env({}), T0 + 90_000, [null, T0 + 30_000, undefined]), true);
  assert.equal(isIdle(env({}), T0 + 90_000, [T0 + 40_000, T0 + 31_000]), false, 'the latest activity counts');
  assert.equal(lastUsed(env({}), [T0 - 5000, null]), T0, 'an up counts as use');
});

test('only a running environment with an idle pause is ever idle', () => {
  const late = T0 + 86_400_000;
  assert.equal(isIdle(env({ idle_pause_seconds: 0 }), late, []), false);
  assert.equal(isIdle(env({ idle_pause_seconds: undefined }), late, []), false);
  for (const status of ['paused', 'stopped', 'starting', 'error', 'creating'] as const) assert.equal(isIdle(env({ status }), late, []), false, status);
});

test('the supervisor looks further only when some running environment has an idle pause', () => {
  const state = (envs: EnvironmentState[]): Pick<State, 'environments'> => ({ environments: Object.fromEntries(envs.map((e) => [e.name, e])) });
  assert.equal(anyIdlePause(state([])), false);
  assert.equal(anyIdlePause(state([env({ idle_pause_seconds: 0 }), env({ name: 'b', status: 'paused', paused_by: 'idle' })])), false);
  assert.equal(anyIdlePause(state([env({ name: 'a', idle_pause_seconds: 0 }), env({ name: 'b' })])), true);
});

test('a pause by the supervisor shows as paused (idle); one by the user as paused', () => {
  assert.equal(isIdlePaused(env({ status: 'paused', paused_by: 'idle' })), true);
  assert.equal(isIdlePaused(env({ status: 'paused', paused_by: 'user' })), false);
  assert.equal(isIdlePaused(env({ status: 'running', paused_by: 'idle' })), false);
  assert.equal(statusLabel(env({ status: 'paused', paused_by: 'idle' })), 'paused (idle)');
  assert.equal(statusLabel(env({ status: 'paused', paused_by: 'user' })), 'paused');
  assert.equal(statusLabel(env({ status: 'running' })), 'running');
});

test('the JSON views carry who paused, since when, and the idle pause, only where they apply', () => {
  const at = '2026-12-07T10:05:00.000Z';
  assert.deepEqual(pauseFields(env({ status: 'paused', paused_by: 'idle', paused_at: at })), { paused_by: 'idle', paused_at: at, idle_pause_seconds: 60 });
  assert.deepEqual(pauseFields(env({ status: 'paused', idle_pause_seconds: 0 })), { paused_by: 'user' }, 'a pause recorded before paused_by existed was down --pause');
  assert.deepEqual(pauseFields(env({ status: 'running', paused_by: 'idle', paused_at: at })), { idle_pause_seconds: 60 });
  assert.deepEqual(pauseFields(env({ status: 'stopped', idle_pause_seconds: undefined })), {});
});
