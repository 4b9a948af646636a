import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answersWithRouter, DIRECT_PLAN, environmentUrls, servedOverHttp, serviceUrls, urlPlan } from './host-reach.js';

const env = { name: 'agent-1', project: 'shop', dns_suffix: '.test', ingress: 'web' };
const router = { mode: 'router' as const, http_port: 80, https_port: 443 };

test('direct: the name with the container port, no https (as before #25)', () => {
  assert.deepEqual(serviceUrls(env, 'web', { port: 3000 }, DIRECT_PLAN), { url: 'http://web.agent-1.test:3000', urls: { http: 'http://web.agent-1.test:3000', https: null } });
  assert.deepEqual(serviceUrls(env, 'web', {}, DIRECT_PLAN).url, 'http://web.agent-1.test');
  assert.deepEqual(environmentUrls(env, DIRECT_PLAN), { url: 'http://shop.agent-1.test', urls: { http: 'http://shop.agent-1.test', https: null } });
  assert.deepEqual(environmentUrls({ ...env, ingress: null }, DIRECT_PLAN), { url: null, urls: { http: null, https: null } });
});

test('router: the router ports, each left out where it is the scheme\'s own', () => {
  assert.deepEqual(serviceUrls(env, 'web', { port: 3000 }, router).urls, { http: 'http://web.agent-1.test', https: 'https://web.agent-1.test' });
  assert.deepEqual(serviceUrls(env, 'web', { port: 3000 }, { ...router, http_port: 8080, https_port: 8443 }), { url: 'http://web.agent-1.test:8080', urls: { http: 'http://web.agent-1.test:8080', https: 'https://web.agent-1.test:8443' } });
  assert.deepEqual(environmentUrls({ ...env, dns_suffix: '.localhost' }, { ...router, https_port: 8443 }).urls, { http: 'http://shop.agent-1.localhost', https: 'https://shop.agent-1.localhost:8443' });
});

test('router: a service whose port is published as non-HTTP (host_ports) gets no router URLs', () => {
  const db = { port: 5432, host_ports: { '5432': 40001 } };
  assert.equal(servedOverHttp(db), false);
  assert.equal(servedOverHttp({ port: 8080, host_ports: { '5432': 40001 } }), true);
  assert.equal(servedOverHttp({ host_ports: { '80': 40002 } }), false, 'no port: its URL names 80');
  assert.deepEqual(serviceUrls(env, 'db', db, router), { url: 'http://db.agent-1.test:5432', urls: { http: null, https: null } });
});

test('the plan of an environment: its site\'s effective mode and the home\'s router ports', () => {
  const state = { routing: { mode: 'auto' as const, http_port: 8080, https_port: 8443, resolved: { box: { mode: 'router' as const, engine_id: 'e', at: 't', why: 'w' } } } };
  assert.deepEqual(urlPlan(state, { host: 'box' }), { mode: 'router', http_port: 8080, https_port: 8443 });
  assert.deepEqual(urlPlan(state, {}), { mode: 'direct', http_port: 8080, https_port: 8443 }, 'auto before the probe: direct');
  assert.deepEqual(urlPlan({}, {}), DIRECT_PLAN);
  assert.equal(answersWithRouter(state, { host: 'box' }), true);
  assert.equal(answersWithRouter(state, {}), false);
});
