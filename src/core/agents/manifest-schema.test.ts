import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validate } from '../../../test/support/json-schema.js';
import type { ContainerSummary } from '../../domain/engine.js';
import { buildManifest, environmentOf, readyBy } from '../../domain/manifest.js';
import { maskValue } from '../../domain/mask.js';
import type { EnvironmentState } from '../../domain/state.js';

const schema = JSON.parse(readFileSync(new URL('../../../docs/manifest.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const env: EnvironmentState = {
  name: 'agent-1',
  project: 'shop',
  source: '/src/shop',
  workspace: '/home/me/.cilo/envs/shop/agent-1',
  subnet: '10.224.0.0/24',
  dns_suffix: '.test',
  status: 'running',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  services: { web: { ip: '10.224.0.10', type: 'isolated', port: 8080 }, db: { ip: '10.224.0.11', type: 'shared', port: 5432 }, job: { ip: '10.224.0.12', type: 'isolated' } },
  ingress: 'web',
  hostnames: [],
  shared: ['db'],
};

function container(labels: Record<string, string>, state: string, status: string, name: string): ContainerSummary {
  return { Id: name, Names: [`/${name}`], Image: 'x', State: state, Status: status, Labels: labels };
}

const containers = [
  container({ 'com.docker.compose.project': 'cilo-shop-agent-1', 'com.docker.compose.service': 'web' }, 'running', 'Up 3 seconds (healthy)', 'cilo-shop-agent-1-web-1'),
  container({ 'cilo.shared': 'true', 'cilo.project': 'shop', 'cilo.service': 'db' }, 'running', 'Up 1 minute', 'cilo_shared_shop_db'),
  container({ 'com.docker.compose.project': 'cilo-shop-agent-1', 'com.docker.compose.service': 'job' }, 'exited', 'Exited (0) 2 seconds ago', 'cilo-shop-agent-1-job-1'),
];

test('the manifest of an environment conforms to docs/manifest.schema.json', () => {
  const m = buildManifest({
    env,
    containers,
    environments: { web: { DATABASE_URL: 'postgres://app:s3cret@db:5432/app', MODE: 'dev' }, db: { POSTGRES_PASSWORD: 's3cret' } },
    dnsPort: 5354,
    dnsRunning: true,
    systemResolver: false,
    timings: { resolve_ms: 300, network_ms: 20, shared_ms: 0, compose_up_ms: 900, wait_ms: 600, total_ms: 1900 },
    datasets: { db: [{ engine: 'postgres', name: 'shop_agent_1' }] },
    caFile: '/home/u/.cilo/ca/cilo-ca.crt',
  });
  assert.deepEqual(validate(schema, m), []);
  assert.equal(m.ca_file, '/home/u/.cilo/ca/cilo-ca.crt');
  assert.equal(m.status, 'running', 'a one-shot job that completed does not degrade the environment');
  const [db, job, web] = m.services;
  assert.deepEqual([db?.name, db?.type, db?.ready_by, db?.environment.POSTGRES_PASSWORD], ['db', 'shared', 'running', '***']);
  assert.deepEqual(db?.datasets, [{ engine: 'postgres', name: 'shop_agent_1' }]);
  assert.equal(web && 'datasets' in web, false, 'absent where a service has none');
  assert.deepEqual([job?.state, job?.ready_by, job?.port, job?.ip_url], ['exited', 'completed', null, 'http://10.224.0.12']);
  assert.deepEqual([web?.health, web?.ready_by, web?.url, web?.ip_url, web?.container], ['healthy', 'healthcheck', 'http://web.agent-1.test:8080', 'http://10.224.0.10:8080', 'cilo-shop-agent-1-web-1']);
  assert.equal(web?.environment.DATABASE_URL, 'postgres://app:***@db:5432/app');
  assert.equal(m.variables.CILO_SERVICE_WEB_URL, 'http://web.agent-1.test:8080');
  assert.equal(m.url, 'http://shop.agent-1.test');
});

test('status: no timings, secrets shown on request, missing containers degrade it', () => {
  const m = buildManifest({ env, containers: [], environments: { db: { POSTGRES_PASSWORD: 's3cret' } }, dnsPort: 1, dnsRunning: false, systemResolver: false, showSecrets: true });
  assert.deepEqual(validate(schema, m), []);
  assert.equal(m.timings, null);
  assert.equal(m.status, 'degraded');
  assert.equal(m.services[0]?.environment.POSTGRES_PASSWORD, 's3cret');
  assert.deepEqual(validate(schema, { ...m, services: [{ ...m.services[0], type: 'other' }] }).length, 1, 'the checker itself catches a wrong value');
});

test('masking and environment shapes', () => {
  assert.equal(maskValue('API_KEY', 'abc'), '***');
  assert.equal(maskValue('REDIS_URL', 'redis://:pw@cache:6379/0'), 'redis://:***@cache:6379/0');
  assert.equal(maskValue('HOST', 'db'), 'db');
  assert.deepEqual(environmentOf(['B=2', 'A=x=y', 'NOVALUE']), { A: 'x=y', B: '2' });
  assert.deepEqual(environmentOf({ P: 'a$$b', N: null, X: 3 }), { P: 'a$b', X: '3' });
  assert.equal(readyBy(undefined), null);
  assert.equal(readyBy(container({}, 'running', 'Up (health: starting)', 'x')), null);
});

test('router mode: URLs through the router on its ports (http and https), direct: https null, as before', () => {
  const facts = { containers, environments: {}, dnsPort: 5354, dnsRunning: true, systemResolver: false };
  const withDb = { ...env, services: { ...env.services, db: { ip: '10.224.0.11', type: 'shared' as const, port: 5432, host_ports: { '5432': 40001 } } } };
  const routed = buildManifest({ ...facts, env: withDb, plan: { mode: 'router', http_port: 8080, https_port: 443 } });
  assert.deepEqual(validate(schema, routed), []);
  assert.equal(routed.routing, 'router');
  assert.equal(routed.url, 'http://shop.agent-1.test:8080');
  assert.deepEqual(routed.urls, { http: 'http://shop.agent-1.test:8080', https: 'https://shop.agent-1.test' });
  const web = routed.services.find((s) => s.name === 'web');
  assert.deepEqual([web?.url, web?.urls], ['http://web.agent-1.test:8080', { http: 'http://web.agent-1.test:8080', https: 'https://web.agent-1.test' }]);
  const db = routed.services.find((s) => s.name === 'db');
  assert.deepEqual([db?.url, db?.urls], ['http://db.agent-1.test:5432', { http: null, https: null }], 'a port published as non-HTTP is not routed');
  assert.equal(routed.variables.CILO_SERVICE_WEB_URL, 'http://web.agent-1.test:8080', 'variables name container ports (programs in containers use them)');
  assert.equal(routed.base_url, 'http://shop.agent-1.test', 'base_url stays CILO_BASE_URL');

  const direct = buildManifest({ ...facts, env, plan: { mode: 'direct', http_port: 8080, https_port: 8443 } });
  assert.deepEqual(validate(schema, direct), []);
  assert.equal(direct.routing, 'direct');
  assert.deepEqual(direct.urls, { http: 'http://shop.agent-1.test', https: null });
  assert.deepEqual(direct.services.find((s) => s.name === 'web')?.urls, { http: 'http://web.agent-1.test:8080', https: null });
  assert.deepEqual(buildManifest({ ...facts, env: { ...env, ingress: null } }).urls, { http: null, https: null });
});
