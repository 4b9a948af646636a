import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeModel } from './compose-model.js';
import { chooseIngress, labelHostnames, networkedServices, renderEnvironmentModel, replicatedServices, serviceLabelHostnames, servicePort, serviceUrl, ENV_NETWORK_KEY } from './env-model.js';

const model = (): ComposeModel => ({
  name: 'x',
  services: {
    web: {
      image: 'nginx',
      ports: [{ target: 8080, published: '8080' }],
      container_name: 'fixed',
      depends_on: { db: { condition: 'service_healthy' }, cache: { condition: 'service_started' } },
      networks: { front: { aliases: ['www'] }, proxy: null },
      labels: { keep: 'me' },
    },
    db: { image: 'postgres', networks: { back: null }, volumes: [{ type: 'volume', source: 'data', target: '/data' }, { type: 'volume', source: 'ext', target: '/ext' }] },
    cache: { image: 'redis' },
    sidecar: { image: 'busybox', network_mode: 'service:web' },
  },
  networks: { front: {}, back: {}, proxy: { name: 'traefik', external: true } },
  volumes: { data: { name: 'cilo-shop-dev_data' }, ext: { external: true, name: 'outside' } },
});

const input = (shared: string[] = []) => ({
  model: model(),
  project: 'shop',
  env: 'dev',
  suffix: '.test',
  networkName: 'cilo_shop_dev',
  ips: { web: '10.224.0.12', db: '10.224.0.11', cache: '10.224.0.10' },
  shared,
  ingress: 'web',
  hostnames: ['admin'],
  homeId: 'h0',
});

test('drops published ports and fixed container names, keeps the rest', () => {
  const out = renderEnvironmentModel(input());
  assert.equal(out.name, 'cilo-shop-dev');
  assert.equal(out.services.web?.ports, undefined);
  assert.equal(out.services.web?.container_name, undefined);
  assert.equal(out.services.web?.image, 'nginx');
  assert.equal(out.services.web?.labels?.keep, 'me');
  assert.equal(out.services.web?.labels?.['cilo.project'], 'shop');
  assert.equal(out.services.web?.labels?.['cilo.env'], 'dev');
});

test('puts every networked service on the environment network with fixed IP and aliases', () => {
  const out = renderEnvironmentModel(input());
  const web = out.services.web?.networks?.[ENV_NETWORK_KEY];
  assert.equal(web?.ipv4_address, '10.224.0.12');
  assert.deepEqual(web?.aliases, ['web', 'web.dev.test', 'shop.dev.test', 'admin.dev.test', 'www']);
  assert.deepEqual(out.services.db?.networks, { [ENV_NETWORK_KEY]: { ipv4_address: '10.224.0.11', aliases: ['db', 'db.dev.test'] } });
  // external networks stay; project-local ones are replaced by the environment network
  assert.ok(out.services.web?.networks && 'proxy' in out.services.web.networks);
  assert.deepEqual(Object.keys(out.networks ?? {}).sort(), [ENV_NETWORK_KEY, 'proxy']);
  assert.deepEqual(out.networks?.[ENV_NETWORK_KEY], { name: 'cilo_shop_dev', external: true });
  // a service in another's network namespace is left alone
  assert.equal(out.services.sidecar?.network_mode, 'service:web');
  assert.equal(out.services.sidecar?.networks, undefined);
});

test('takes shared services out and drops dependencies on them', () => {
  const out = renderEnvironmentModel(input(['db']));
  assert.equal(out.services.db, undefined);
  assert.deepEqual(Object.keys(out.services.web?.depends_on ?? {}), ['cache']);
  assert.deepEqual(networkedServices(model(), ['db']), ['cache', 'web']);
});

test('labels project volumes, leaves external ones alone', () => {
  const out = renderEnvironmentModel(input());
  assert.equal((out.volumes?.data?.labels as Record<string, string>)['cilo.env'], 'dev');
  assert.deepEqual(out.volumes?.ext, { external: true, name: 'outside' });
});

test('volumes with a fixed name become the environment’s own; unused ones and external ones are left out or alone', () => {
  const m = model();
  m.volumes = { ...m.volumes, data: { name: 'pgdata' }, dbonly: { name: 'cilo-shop-dev_dbonly' } };
  m.services.db!.volumes = [...(m.services.db!.volumes as unknown[]), { type: 'volume', source: 'dbonly', target: '/o' }];
  const out = renderEnvironmentModel({ ...input(), model: m });
  assert.equal(out.volumes?.data?.name, 'cilo-shop-dev_pgdata');
  assert.equal(out.volumes?.ext?.name, 'outside');
  // only the shared db mounts them: the shared container owns them, the environment does not
  const shared = renderEnvironmentModel({ ...input(['db']), model: m });
  assert.equal(shared.volumes, undefined);
});

test('replicas get engine-assigned addresses; a service scaled to zero gets none', () => {
  const m = model();
  m.services.worker = { image: 'w', deploy: { replicas: 2 } };
  m.services.legacy = { image: 'l', scale: 3 };
  m.services.off = { image: 'o', deploy: { replicas: 0 } };
  assert.deepEqual(replicatedServices(m, []), ['legacy', 'worker']);
  assert.deepEqual(networkedServices(m, []), ['cache', 'db', 'web']);
  const out = renderEnvironmentModel({ ...input(), model: m, ips: { ...input().ips, worker: '10.224.0.13' } });
  assert.deepEqual(out.services.worker?.networks?.[ENV_NETWORK_KEY], { aliases: ['worker', 'worker.dev.test'] });
  assert.equal(out.services.legacy?.networks?.[ENV_NETWORK_KEY]?.ipv4_address, undefined);
});

test('the generated model runs exactly the resolved services: no profiles, no dangling optional dependencies or links', () => {
  const m = model();
  m.services.web!.profiles = ['debug'];
  m.services.web!.depends_on = { ...m.services.web!.depends_on, extra: { condition: 'service_started', required: false } };
  m.services.web!.links = ['db', 'db:database', 'cache'];
  const web = renderEnvironmentModel({ ...input(['db']), model: m }).services.web;
  assert.equal(web?.profiles, undefined);
  assert.deepEqual(Object.keys(web?.depends_on ?? {}), ['cache']);
  assert.deepEqual(web?.links, ['cache'], 'links to the shared db are served by its alias on the network');
});

test('ingress choice is deterministic', () => {
  const m = model();
  assert.equal(chooseIngress(m, undefined), 'web');
  assert.equal(chooseIngress(m, 'db'), 'db');
  m.services.cache!.labels = { 'cilo.ingress': 'true' };
  assert.equal(chooseIngress(m, 'db'), 'cache');
  const h: ComposeModel = { services: { zeta: { labels: { 'cilo.hostnames': 'a, b' } }, alpha: { labels: { 'cilo.hostnames': 'c' } }, other: {} } };
  assert.equal(chooseIngress(h, undefined), 'alpha');
  assert.deepEqual(labelHostnames(h, 'zeta'), ['a', 'b']);
  assert.equal(chooseIngress({ services: { api: {} } }, undefined), null);
});

test('service port and URL', () => {
  assert.equal(servicePort({ ports: [{ target: 3000 }] }), 3000);
  assert.equal(servicePort({ expose: ['9200/tcp'] }), 9200);
  assert.equal(servicePort({}), undefined);
  assert.equal(serviceUrl('api', 'dev', '.test', 8080), 'http://api.dev.test:8080');
  assert.equal(serviceUrl('web', 'dev', '.test', 80), 'http://web.dev.test');
});

test('cilo.hostnames of a service that is not the ingress are that service\'s own names', () => {
  const h: ComposeModel = { services: { web: { labels: { 'cilo.hostnames': 'www' } }, api: { labels: { 'cilo.hostnames': 'v1, v2' } }, db: {} } };
  const own = serviceLabelHostnames(h, 'web');
  assert.deepEqual(own, { api: ['v1', 'v2'] });
  const out = renderEnvironmentModel({ ...input(), model: h, ips: { web: '10.224.0.10', api: '10.224.0.11', db: '10.224.0.12' }, hostnames: ['www'], serviceHostnames: own });
  assert.deepEqual(out.services.api?.networks?.[ENV_NETWORK_KEY]?.aliases, ['api', 'api.dev.test', 'v1.dev.test', 'v2.dev.test']);
  assert.deepEqual(out.services.web?.networks?.[ENV_NETWORK_KEY]?.aliases, ['web', 'web.dev.test', 'shop.dev.test', 'www.dev.test']);
});
