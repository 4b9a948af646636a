import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeModel } from './compose-model.js';
import { dbClientArgv } from './db-client.js';
import { renderEnvironmentModel } from './env-model.js';
import { allHostPorts, datasetDsn, hostPortCandidates, exposedPortKeys, hostPortsLabel, ownHostPorts, portsToPublish, portVarSuffix, publishedPorts, sharedPortsToPublish, takenHostPorts } from './host-ports.js';
import { buildManifest } from './manifest.js';
import { runVariables } from './run-vars.js';
import { HOST_PORTS_LABEL, renderSharedModel } from './shared.js';
import type { EnvironmentState, State } from './state.js';

test('ports to publish: every exposed port but the HTTP one; a well-known database port is published even when first', () => {
  assert.deepEqual(portsToPublish({ ports: [{ target: 8080 }, { target: 9229 }], expose: ['5555', '53/udp', '8000-8010'] }), ['53/udp', '5555', '9229']);
  assert.deepEqual(portsToPublish({ expose: ['5432'] }), ['5432']);
  assert.deepEqual(portsToPublish({ ports: [{ target: 6379, protocol: 'tcp' }] }), ['6379']);
  assert.deepEqual(portsToPublish({ expose: ['80'] }), [], 'the HTTP port alone: nothing');
  assert.deepEqual(portsToPublish({}), []);
  assert.deepEqual(exposedPortKeys({ expose: [5432, '5432/tcp'] }), ['5432'], 'one key per port');
});

test('a dataset engine publishes its own port even when the model names none', () => {
  assert.deepEqual(sharedPortsToPublish({ image: 'postgres:16' }, 'postgres'), ['5432']);
  assert.deepEqual(sharedPortsToPublish({ expose: ['3306'] }, 'mariadb'), ['3306']);
  assert.deepEqual(sharedPortsToPublish({ expose: ['8080', '9121'] }, 'redis'), ['6379', '9121']);
  assert.deepEqual(sharedPortsToPublish({ expose: ['8080', '9121'] }, undefined), ['9121']);
});

test('published ports are long syntax on 127.0.0.1 only; the label is stable', () => {
  assert.deepEqual(publishedPorts({ '53/udp': 42001, '5432': 42000 }), [
    { target: 53, published: '42001', host_ip: '127.0.0.1', protocol: 'udp' },
    { target: 5432, published: '42000', host_ip: '127.0.0.1', protocol: 'tcp' },
  ]);
  assert.equal(hostPortsLabel({ '5432': 42000, '53/udp': 42001 }), '53/udp:42001,5432:42000');
  assert.equal(hostPortsLabel({}), '');
  assert.equal(portVarSuffix('5432'), '5432');
  assert.equal(portVarSuffix('53/udp'), '53_UDP');
});

const env: EnvironmentState = {
  name: 'agent-1', project: 'shop', source: '/src/shop', workspace: '/w', subnet: '10.224.3.0/24', dns_suffix: '.test', status: 'running',
  created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z',
  services: {
    web: { ip: '10.224.3.10', type: 'isolated', port: 8080, host_ports: { '9229': 42002 } },
    db: { ip: '10.224.3.12', type: 'shared', port: 5432, host_ports: { '5432': 42000 } },
    cache: { ip: '10.224.3.13', type: 'isolated', port: 6379, host_ports: { '6379': 42001 } },
  },
  ingress: 'web', hostnames: [], shared: ['db'],
  datasets: { db: { engine: 'postgres', kind: 'database', name: 'shop_agent_1', template: null, status: 'ready', created_at: '2024-01-01T00:00:00Z' } },
};

test('taken ports cover environments and shared services; own ports leave with the environment', () => {
  const state = { environments: { 'agent-1': env }, shared_services: { 'shop/db': { host_ports: { '5432': 42000 } } } } as unknown as State;
  assert.deepEqual([...takenHostPorts(state)].sort(), [42000, 42001, 42002]);
  const reaped = { environments: { 'agent-1': env }, shared_services: {} } as unknown as State;
  assert.deepEqual([...takenHostPorts(reaped)].sort(), [42001, 42002], 'an environment\'s copy of a shared service\'s ports holds none');
  assert.deepEqual(allHostPorts(env), [42000, 42001, 42002]);
  assert.deepEqual(ownHostPorts(env), [42001, 42002]);
});

test('the rendered model publishes exactly the chosen loopback ports, replacing the user\'s', () => {
  const model: ComposeModel = { services: { web: { image: 'x', ports: [{ target: 8080, published: '8080' }, { target: 9229, published: '9229' }] }, api: { image: 'y', ports: [{ target: 80, published: 80 }] } } };
  const out = renderEnvironmentModel({ model, project: 'shop', env: 'agent-1', suffix: '.test', networkName: 'n', ips: { web: '10.0.0.2', api: '10.0.0.3' }, shared: [], ingress: 'web', hostnames: [], homeId: 'h', hostPorts: { web: { '9229': 42002 } } });
  assert.deepEqual(out.services.web?.ports, [{ target: 9229, published: '42002', host_ip: '127.0.0.1', protocol: 'tcp' }]);
  assert.equal(out.services.api?.ports, undefined);
});

test('a shared container publishes its ports, labelled apart from the definition hash', () => {
  const base = { project: 'shop', service: 'db', def: { service: { image: 'postgres' }, volumes: {} }, hash: 'abc', network: 'n', ip: '10.0.0.5', aliases: [], homeId: 'h' };
  const withPorts = renderSharedModel({ ...base, hostPorts: { '5432': 42000 } });
  assert.deepEqual(withPorts.services.db?.ports, [{ target: 5432, published: '42000', host_ip: '127.0.0.1', protocol: 'tcp' }]);
  assert.equal(withPorts.services.db?.labels?.[HOST_PORTS_LABEL], '5432:42000');
  assert.equal(withPorts.services.db?.labels?.['cilo.config-hash'], 'abc', 'the hash is the definition\'s alone');
  const without = renderSharedModel(base);
  assert.equal(without.services.db?.ports, undefined);
  assert.equal(without.services.db?.labels?.[HOST_PORTS_LABEL], '');
});

test('DSNs name the user, never a password, and the loopback port', () => {
  assert.equal(datasetDsn('postgres', 'shop_agent_1', { '5432': 42000 }, { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 's3cret' }), 'postgres://app@127.0.0.1:42000/shop_agent_1');
  assert.equal(datasetDsn('postgres', 'd', { '5432': 42000 }, {}), 'postgres://postgres@127.0.0.1:42000/d');
  assert.equal(datasetDsn('mariadb', 'd', { '3306': 42003 }, { MARIADB_USER: 'shop' }), 'mysql://shop@127.0.0.1:42003/d');
  assert.equal(datasetDsn('mysql', 'd', { '3306': 42003 }, {}), 'mysql://root@127.0.0.1:42003/d');
  assert.equal(datasetDsn('redis', '3', { '6379': 42004 }, {}), 'redis://127.0.0.1:42004/3');
  assert.equal(datasetDsn('postgres', 'd', undefined, {}), undefined, 'no published port: no DSN');
});

test('the manifest shows host_ports and each dataset\'s dsn; cilo run gets CILO_SERVICE_<NAME>_PORT_<N>', () => {
  const m = buildManifest({ env, containers: [], environments: { db: { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'x' } }, dnsPort: 5354, dnsRunning: false, systemResolver: false, datasets: { db: [{ engine: 'postgres', name: 'shop_agent_1' }] } });
  const db = m.services.find((s) => s.name === 'db');
  assert.deepEqual(db?.host_ports, { '5432': 42000 });
  assert.equal(db?.datasets?.[0]?.dsn, 'postgres://app@127.0.0.1:42000/shop_agent_1');
  assert.doesNotMatch(JSON.stringify(db?.datasets), /:x@/);
  const vars = runVariables(env);
  assert.equal(vars.CILO_SERVICE_DB_PORT_5432, '42000');
  assert.equal(vars.CILO_SERVICE_WEB_PORT_9229, '42002');
  assert.equal(vars.CILO_SERVICE_CACHE_PORT_6379, '42001');
});

test('db client argv: the engine\'s own client on the dataset; dump and load refused for redis', () => {
  const who = { env: 'agent-1', service: 'db' };
  const [sh, c, script, zero, name] = dbClientArgv('postgres', 'dump', 'shop_agent_1', who);
  assert.deepEqual([sh, c, zero, name], ['sh', '-c', 'sh', 'shop_agent_1'], 'the name is an argument, never part of the script');
  assert.match(script ?? '', /pg_dump .* -d "\$1"/);
  assert.doesNotMatch(script ?? '', /PGPASSWORD=[^"]/, 'the password comes from the container\'s own variable');
  assert.match(dbClientArgv('mysql', 'load', 'd', who)[2] ?? '', /mariadb \|\| command -v mysql/);
  assert.match(dbClientArgv('valkey', 'shell', '3', who)[2] ?? '', /redis-cli .* -n "\$1"/);
  assert.throws(() => dbClientArgv('redis', 'dump', '3', who), /does not work on redis .*a redis dump holds the whole server/);
});

test('a home tries the whole range once, from a block of its own', () => {
  const a = hostPortCandidates('0123456789ab');
  assert.equal(a.length, 7000);
  assert.equal(new Set(a).size, 7000);
  assert.equal(Math.min(...a), 42000);
  assert.equal(Math.max(...a), 48999);
  assert.equal((a[0] ?? 0) % 100, 0);
  assert.deepEqual(hostPortCandidates('0123456789ab').slice(0, 3), a.slice(0, 3), 'the same home, the same order');
});
