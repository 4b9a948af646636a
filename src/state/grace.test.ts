import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyGraceExpired, graceExpired } from './grace.js';

test('a shared service is due only when nobody uses it and its grace has ended', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  assert.equal(graceExpired({ users: [], grace_until: '2026-11-25T11:59:59Z' }, now), true);
  assert.equal(graceExpired({ users: [], grace_until: '2026-11-25T12:00:00Z' }, now), true, 'at the very end');
  assert.equal(graceExpired({ users: [], grace_until: '2026-11-25T12:00:01Z' }, now), false, 'still in its grace');
  assert.equal(graceExpired({ users: ['a'], grace_until: '2026-11-25T11:00:00Z' }, now), false, 'used again');
  assert.equal(graceExpired({ users: [], grace_until: null }, now), false, 'no grace running');
  const rec = { users: [] as string[], grace_until: '2026-11-25T11:00:00Z' };
  assert.equal(anyGraceExpired({ shared_services: {} }, now), false);
  assert.equal(anyGraceExpired({ shared_services: { 'p/db': { ...rec, users: ['x'] }, 'p/cache': rec } }, now), true);
});
