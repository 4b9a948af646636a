import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeModel } from './compose-model.js';
import { assertShareable, declaredAliases, definitionHash, diffDefinitions, graceSeconds, linkAliases, parseGrace, renderSharedModel, sharedDefinition, sharedServices, splitList, startOrder } from './shared.js';

const model = (password = 'pw', workspace = '/home/u/.cilo/envs/shop/a'): ComposeModel => ({
  services: {
    app: { image: 'app', depends_on: { db: { condition: 'service_healthy' } } },
    db: {
      image: 'postgres:16',
      ports: [{ target: 5432, published: '5432' }],
      environment: { POSTGRES_PASSWORD: password },
      volumes: [
        { type: 'volume', source: 'pgdata', target: '/var/lib/postgresql/data' },
        { type: 'bind', source: `${workspace}/init.sql`, target: '/docker-entrypoint-initdb.d/init.sql' },
      ],
      labels: { 'cilo.share': 'true', keep: 'yes' },
      networks: { default: null },
      container_name: 'pg',
    },
    search: { image: 'es', depends_on: { db: { condition: 'service_started' } } },
  },
  volumes: { pgdata: { name: `cilo-shop-${workspace.endsWith('/a') ? 'a' : 'b'}_pgdata` }, named: { name: 'explicit' } },
});

test('shared when labelled or flagged, unless isolated; unknown names refused', () => {
  assert.deepEqual(sharedServices(model(), [], []), ['db']);
  assert.deepEqual(sharedServices(model(), ['search'], []), ['db', 'search']);
  assert.deepEqual(sharedServices(model(), ['search'], ['db']), ['search']);
  assert.throws(() => sharedServices(model(), ['nope'], []), (e: Error & { exitCode?: number }) => e.exitCode === 2 && /--shared names "nope"/.test(e.message));
  assert.deepEqual(splitList(['a,b', 'c d', 'a']), ['a', 'b', 'c', 'd']);
});

test('shared services start after the shared ones they depend on', () => {
  assert.deepEqual(startOrder(model(), ['search', 'db']), ['db', 'search']);
});

test('the definition is the same from every environment of the project', () => {
  const a = sharedDefinition({ model: model('pw', '/h/envs/shop/a'), service: 'db', resolvedAs: 'cilo-shop-a', sharedProject: 'cilo-shared-shop', workspace: '/h/envs/shop/a', source: '/src/shop' });
  const bModel = model('pw', '/h/envs/shop/b');
  bModel.volumes!.pgdata = { name: 'cilo-shop-b_pgdata' };
  const b = sharedDefinition({ model: bModel, service: 'db', resolvedAs: 'cilo-shop-b', sharedProject: 'cilo-shared-shop', workspace: '/h/envs/shop/b', source: '/src/shop' });
  assert.equal(definitionHash(a), definitionHash(b));
  assert.equal(a.service.ports, undefined);
  assert.equal(a.service.networks, undefined);
  assert.equal(a.service.container_name, undefined);
  assert.deepEqual(a.service.labels, { keep: 'yes' });
  assert.equal((a.service.volumes as { source: string }[])[1]!.source, '/src/shop/init.sql', 'binds point into the project, not a workspace');
  assert.deepEqual(a.volumes, { pgdata: { name: 'cilo-shared-shop_pgdata' } }, 'default volume names belong to the project');
});

test('a changed definition is named by key, never by value', () => {
  const args = { service: 'db', resolvedAs: 'cilo-shop-a', sharedProject: 'cilo-shared-shop', workspace: '/home/u/.cilo/envs/shop/a', source: '/src/shop' };
  const a = sharedDefinition({ model: model('old-secret'), ...args });
  const b = sharedDefinition({ model: model('new-secret'), ...args });
  assert.notEqual(definitionHash(a), definitionHash(b));
  const diff = diffDefinitions(a, b);
  assert.deepEqual(diff, ['environment.POSTGRES_PASSWORD']);
  assert.doesNotMatch(diff.join(), /secret/);
  assert.deepEqual(diffDefinitions(undefined, b), ['(the stored definition is unknown)']);
});

test('grace: label, then config, then 60 s; durations parsed', () => {
  assert.equal(parseGrace('90s', 'x'), 90);
  assert.equal(parseGrace('2m', 'x'), 120);
  assert.equal(parseGrace(5, 'x'), 5);
  assert.equal(parseGrace(undefined, 'x'), undefined);
  assert.throws(() => parseGrace('soon', 'the label'), /the label must be a duration/);
  const m = model();
  assert.equal(graceSeconds(m, 'db', undefined), 60);
  assert.equal(graceSeconds(m, 'db', '30s'), 30);
  m.services.db!.labels!['cilo.share.grace'] = '1h';
  assert.equal(graceSeconds(m, 'db', '30s'), 3600);
});

test('configs and secrets a shared service uses come along, as the project’s', () => {
  const ws = '/h/envs/shop/a';
  const m = model('pw', ws);
  m.services.db!.configs = [{ source: 'conf', target: '/etc/db.conf' }];
  m.services.db!.secrets = [{ source: 'pw', target: '/run/secrets/pw' }];
  m.configs = { conf: { name: 'cilo-shop-a_conf', file: `${ws}/db.conf` }, other: { name: 'cilo-shop-a_other', content: 'x' } };
  m.secrets = { pw: { name: 'cilo-shop-a_pw', file: `${ws}/pw.txt` } };
  const def = sharedDefinition({ model: m, service: 'db', resolvedAs: 'cilo-shop-a', sharedProject: 'cilo-shared-shop', workspace: ws, source: '/src/shop' });
  assert.deepEqual(def.configs, { conf: { name: 'cilo-shared-shop_conf', file: '/src/shop/db.conf' } });
  assert.deepEqual(def.secrets, { pw: { name: 'cilo-shared-shop_pw', file: '/src/shop/pw.txt' } });
  const out = renderSharedModel({ project: 'shop', service: 'db', def, hash: 'h', network: 'n', ip: '10.0.0.9', aliases: ['db'], homeId: 'h0' });
  assert.deepEqual(Object.keys(out.configs as object), ['conf']);
  assert.deepEqual(Object.keys(out.secrets as object), ['pw']);
  // a service without them keeps the definition (and hash) it always had
  assert.equal('configs' in sharedDefinition({ model: model('pw', ws), service: 'db', resolvedAs: 'cilo-shop-a', sharedProject: 'cilo-shared-shop', workspace: ws, source: '/src/shop' }), false);
});

test('what cannot be one container for every environment is refused in one sentence', () => {
  const refused = (m: ComposeModel, re: RegExp) => assert.throws(() => assertShareable(m, ['db'], 'e1'), (e: Error & { code?: string; hint?: string }) => e.code === 'SHARED_UNSUPPORTED' && re.test(e.message) && /--isolate db/.test(e.hint ?? ''));
  assert.doesNotThrow(() => assertShareable(model(), ['db'], 'e1'));
  const scaled = model();
  scaled.services.db!.deploy = { replicas: 2 };
  refused(scaled, /set to run 2 replicas/);
  const from = model();
  from.services.db!.volumes_from = ['app:ro'];
  refused(from, /takes volumes from service "app"/);
  const variable = model();
  variable.services.db!.secrets = [{ source: 'token' }];
  variable.secrets = { token: { environment: 'TOKEN' } };
  refused(variable, /secret "token" from the variable TOKEN/);
});

test('links to a shared service under another name become its aliases', () => {
  const m = model();
  m.services.app!.links = ['db:database', 'db', 'search:es'];
  m.services.search!.links = ['db:pg'];
  assert.deepEqual(linkAliases(m, 'db', ['db']), ['database', 'pg']);
  assert.deepEqual(linkAliases(m, 'db', ['db', 'search']), ['database']);
});

test('aliases a shared service declares on the project\'s networks are kept; those on external networks are not', () => {
  const m = model();
  m.services.db!.networks = { default: { aliases: ['database', 'db'] }, back: { aliases: ['pg'] }, outside: { aliases: ['ext'] } };
  m.networks = { default: { name: 'x_default' }, back: {}, outside: { external: true, name: 'corp' } };
  assert.deepEqual(declaredAliases(m, 'db'), ['database', 'pg']);
  assert.deepEqual(declaredAliases(model(), 'db'), []);
});
