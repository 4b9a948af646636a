import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthRollup } from './dashboard.js';

const services = (...states: string[]) => states.map((state) => ({ state, type: 'isolated' as const }));

test('health roll-up: all running (and healthy) is ok', () => {
  assert.deepEqual(healthRollup('running', services('running', 'running (healthy)')), { level: 'ok', text: '2/2 running, 1 healthy' });
  assert.deepEqual(healthRollup('running', services('running')), { level: 'ok', text: '1/1 running' });
});

test('health roll-up: unhealthy beats everything, then services not running, then checks pending', () => {
  assert.equal(healthRollup('running', services('running (unhealthy)', 'exited')).level, 'bad');
  assert.deepEqual(healthRollup('degraded', services('running', 'exited')), { level: 'warn', text: '1/2 running' });
  assert.deepEqual(healthRollup('running', services('running', 'exited'), 1), { level: 'ok', text: '1/1 running' }, 'a one-shot job that completed is done, not down');
  assert.deepEqual(healthRollup('running', services('running (health: starting)', 'running')), { level: 'starting', text: '1 starting' });
});

test('health roll-up: a stopped environment is idle, also while a shared service it used runs on; a running one with nothing running is bad', () => {
  assert.deepEqual(healthRollup('stopped', services('exited', 'exited')), { level: 'idle', text: 'not running' });
  assert.deepEqual(healthRollup('stopped', [...services('exited'), { state: 'running', type: 'shared' }]), { level: 'idle', text: 'not running' });
  assert.deepEqual(healthRollup('stopped', services('exited', 'running')), { level: 'warn', text: '1 still running' });
  assert.deepEqual(healthRollup('paused', services('paused')), { level: 'idle', text: 'frozen' });
  assert.equal(healthRollup('running', services('missing')).level, 'bad');
  assert.deepEqual(healthRollup('created', []), { level: 'idle', text: 'no services' });
});

test('health roll-up: an environment on a host that does not answer is bad, not stopped', () => {
  assert.deepEqual(healthRollup('unreachable', services('unknown', 'unknown')), { level: 'bad', text: 'host does not answer' });
});
