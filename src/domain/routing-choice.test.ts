import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ROUTING } from './routing.js';
import { applyRoutingChoice, choosesRouting, routerPortWarnings } from './routing-choice.js';
import { CiloError } from '../errors.js';

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CiloError);
    assert.equal(e.exitCode, 2);
    return e.message;
  }
  assert.fail('expected a refusal');
};

test('a choice changes only what it names and keeps what auto found', () => {
  const current = { ...DEFAULT_ROUTING, resolved: { '': { mode: 'router' as const, engine_id: 'x', at: 't', why: 'w' } } };
  assert.deepEqual(applyRoutingChoice(current, { mode: 'router' }), { ...current, mode: 'router' });
  assert.deepEqual(applyRoutingChoice(current, { httpPort: 8080, httpsPort: 8443 }), { ...current, http_port: 8080, https_port: 8443 });
  assert.deepEqual(applyRoutingChoice(current, {}), current);
  assert.equal(choosesRouting({}), false);
  assert.equal(choosesRouting({ httpsPort: 8443 }), true);
});

test('a bad mode, a port out of range and equal ports are refused with one sentence naming the flag', () => {
  assert.match(refusal(() => applyRoutingChoice(DEFAULT_ROUTING, { mode: 'proxy' })), /^--routing "proxy" is not a routing mode: use auto, direct or router\.$/);
  assert.match(refusal(() => applyRoutingChoice(DEFAULT_ROUTING, { httpPort: 0 })), /^--router-http-port 0 is not a valid port/);
  assert.match(refusal(() => applyRoutingChoice(DEFAULT_ROUTING, { httpsPort: 70000 })), /^--router-https-port 70000 is not a valid port/);
  assert.match(refusal(() => applyRoutingChoice(DEFAULT_ROUTING, { httpPort: 443 })), /both be 443: give --router-http-port another port than --router-https-port/);
  assert.match(refusal(() => applyRoutingChoice({ ...DEFAULT_ROUTING, http_port: 8080 }, { httpsPort: 8080 })), /both be 8080: give --router-https-port another/);
});

test('ports taken, privileged or out of a rootless engine\'s reach are said, with the flags that choose others', () => {
  const router = { ...DEFAULT_ROUTING, mode: 'router' as const };
  assert.deepEqual(routerPortWarnings(router, { ports: { http: 'free', https: 'free' }, rootless: false }), []);
  assert.deepEqual(routerPortWarnings({ ...router, mode: 'direct' }, { ports: { http: 'taken', https: 'taken' }, rootless: true }), [], 'no router in direct mode');
  const [taken] = routerPortWarnings(router, { ports: { http: 'taken', https: 'free' }, rootless: false });
  assert.equal(taken, 'Port 80 (HTTP) on 127.0.0.1 is used by another program, so the router cannot publish there: choose another with `cilo init --router-http-port 8080`.');
  const [both] = routerPortWarnings({ ...router, http_port: 9080, https_port: 9443 }, { ports: { http: 'taken', https: 'taken' }, rootless: false });
  assert.match(both ?? '', /^Port 9080 \(HTTP\) and 9443 \(HTTPS\) on 127\.0\.0\.1 are used by another program.*`cilo init --router-http-port 17080 --router-https-port 17443`\.$/);
  const [rootless] = routerPortWarnings(router, { ports: { http: 'free', https: 'free' }, rootless: true });
  assert.match(rootless ?? '', /^The Docker engine runs rootless, which cannot publish port 80 \(HTTP\) and 443 \(HTTPS\).*`cilo init --router-http-port 8080 --router-https-port 8443`\.$/);
  const [denied] = routerPortWarnings({ ...router, mode: 'auto' }, { ports: { http: 'denied', https: 'denied' }, rootless: false });
  assert.match(denied ?? '', /EACCES.*--router-http-port 8080 --router-https-port 8443/);
  assert.deepEqual(routerPortWarnings({ ...router, http_port: 8080, https_port: 8443 }, { ports: { http: 'free', https: 'free' }, rootless: true }), [], 'high ports suit a rootless engine');
});
