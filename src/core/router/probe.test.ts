import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFromRouter, decideFromServices, needsProbe, type ProbeAttempt } from './probe.js';

const at = (target: string, outcome: ProbeAttempt['outcome'], what = 'service web'): ProbeAttempt => ({ target, what, outcome });

test('services: one that connects settles it as direct, whatever the others said', () => {
  const d = decideFromServices([at('10.0.0.10:5432', { ok: false, code: 'ECONNREFUSED' }, 'service db'), at('10.0.0.11:80', { ok: true })]);
  assert.deepEqual(d, { mode: 'direct', why: 'connect to service web at 10.0.0.11:80: connected' });
});

test('services: no route or no answer settles it as router (Docker Desktop: the host has no route to containers)', () => {
  for (const code of ['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']) {
    const d = decideFromServices([at('10.0.0.10:80', { ok: false, code: 'ECONNREFUSED' }), at('10.0.0.11:80', { ok: false, code })]);
    assert.equal(d.mode, 'router', code);
    assert.match(d.why, new RegExp(code));
  }
});

test('services: only refusals (a closed port, or a firewall\'s reject) or no port at all: the router must be asked', () => {
  assert.equal(decideFromServices([at('10.0.0.10:80', { ok: false, code: 'ECONNREFUSED' })]).mode, 'ask-router');
  assert.deepEqual(decideFromServices([]), { mode: 'ask-router', why: 'no service has a port to connect to' });
});

test('router: its :80 listens, so connected is direct and anything else (a reject too) router', () => {
  assert.equal(decideFromRouter(at('10.0.0.9:80', { ok: true }, 'the router')).mode, 'direct');
  for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH']) assert.equal(decideFromRouter(at('10.0.0.9:80', { ok: false, code }, 'the router')).mode, 'router');
  assert.equal(decideFromRouter(at('10.0.0.9:80', { ok: false, code: 'ECONNREFUSED' }, 'the router')).why, 'connect to the router at 10.0.0.9:80: ECONNREFUSED');
});

test('needsProbe: only in auto, and again when the site\'s engine is another one', () => {
  const probe = { mode: 'direct' as const, engine_id: 'E1', at: '2026-01-01T00:00:00.000Z', why: 'x' };
  assert.equal(needsProbe({}, '', 'E1'), true, 'a state from before #25 is auto');
  assert.equal(needsProbe({ routing: { mode: 'router', http_port: 80, https_port: 443 } }, '', 'E1'), false);
  assert.equal(needsProbe({ routing: { mode: 'direct', http_port: 80, https_port: 443 } }, '', 'E1'), false);
  const auto = { routing: { mode: 'auto' as const, http_port: 80, https_port: 443, resolved: { '': probe } } };
  assert.equal(needsProbe(auto, '', 'E1'), false);
  assert.equal(needsProbe(auto, '', 'E2'), true);
  assert.equal(needsProbe(auto, 'box', 'E1'), true, 'each site on its own');
});
