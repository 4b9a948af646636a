import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caddyConfig, certificateNames, environmentRoutes, renderRouterModel, routerModelHash, routerRoutes, ROUTER_HASH_LABEL, type RoutedEnvironment } from './router-config.js';

function env(over: Partial<RoutedEnvironment> = {}): RoutedEnvironment {
  return {
    name: 'agent-1',
    project: 'shop',
    dns_suffix: '.test',
    ingress: 'web',
    hostnames: ['admin', 'docs.v2'],
    status: 'running',
    subnet: '10.224.1.0/24',
    services: {
      web: { ip: '10.224.1.11', type: 'isolated', port: 8080 },
      api: { ip: '10.224.1.10', type: 'isolated', hostnames: ['graphql'] },
      db: { ip: '10.224.1.12', type: 'shared', port: 5432 },
      worker: { ip: '', type: 'isolated', replicas: ['10.224.1.200', '10.224.1.201'] },
    },
    ...over,
  };
}

test('routes: apex and hostnames to the ingress, each service at its port (80 by default), service hostnames, wildcards last', () => {
  const routes = environmentRoutes(env());
  assert.deepEqual(
    routes.map((r) => [r.host, r.service, r.upstreams.join(',')]),
    [
      ['shop.agent-1.test', 'web', '10.224.1.11:8080'],
      ['api.agent-1.test', 'api', '10.224.1.10:80'],
      ['db.agent-1.test', 'db', '10.224.1.12:5432'],
      ['web.agent-1.test', 'web', '10.224.1.11:8080'],
      ['worker.agent-1.test', 'worker', '10.224.1.200:80,10.224.1.201:80'],
      ['admin.agent-1.test', 'web', '10.224.1.11:8080'],
      ['docs.v2.agent-1.test', 'web', '10.224.1.11:8080'],
      ['graphql.agent-1.test', 'api', '10.224.1.10:80'],
      ['*.shop.agent-1.test', 'web', '10.224.1.11:8080'],
      ['*.*.shop.agent-1.test', 'web', '10.224.1.11:8080'],
    ],
  );
});

test('routes: the first claim of a name wins (a hostname named like a service stays the service\'s); no ingress, no apex', () => {
  const routes = environmentRoutes(env({ hostnames: ['api'], ingress: null }));
  assert.deepEqual(routes.find((r) => r.host === 'api.agent-1.test')?.service, 'api');
  assert.equal(routes.some((r) => r.host.includes('shop')), false);
  // A service with no address yet (never ran) has no route.
  assert.equal(environmentRoutes(env({ services: { web: { ip: '', type: 'isolated' } } })).length, 0);
});

test('routerRoutes: only running (or starting) environments, in name order; .localhost suffixes too', () => {
  const envs = [env({ name: 'b', dns_suffix: '.localhost' }), env({ name: 'a', status: 'stopped' }), env({ name: 'c', status: 'paused' }), env({ name: 'd', status: 'starting' })];
  const routes = routerRoutes(envs);
  assert.deepEqual([...new Set(routes.map((r) => r.env))], ['b', 'd']);
  assert.ok(routes.some((r) => r.host === 'shop.b.localhost'));
});

test('certificateNames: the environment, its wildcard, and a wildcard for each deeper parent', () => {
  const e = env();
  // `*.*.` is no X.509 name: two labels below the apex are served over HTTP only.
  assert.deepEqual(certificateNames(e, environmentRoutes(e)), ['*.agent-1.test', '*.shop.agent-1.test', '*.v2.agent-1.test', 'agent-1.test']);
});

test('caddyConfig: HTTP on :80, HTTPS on :443 with inline certificates, automatic HTTPS off, same upstreams grouped, exact names before wildcards', () => {
  const routes = environmentRoutes(env({ hostnames: [] }));
  const c = caddyConfig({ routes, certificates: [{ env: 'agent-1', cert: 'CERT', key: 'KEY' }] });
  assert.deepEqual(c.admin, { listen: 'localhost:2019' });
  const http = c.apps.http.servers.http;
  const https = c.apps.http.servers.https;
  assert.deepEqual(http?.listen, [':80']);
  assert.deepEqual(http?.automatic_https, { disable: true });
  assert.deepEqual(https?.listen, [':443']);
  assert.deepEqual(https?.tls_connection_policies, [{}]);
  assert.deepEqual(c.apps.tls?.certificates.load_pem, [{ certificate: 'CERT', key: 'KEY', tags: ['cilo-env-agent-1'] }]);
  const all = http?.routes ?? [];
  assert.deepEqual(https?.routes, all);
  const proxied = all.flatMap((r) => ('match' in r ? [{ hosts: r.match[0]?.host ?? [], dials: r.handle[0]?.upstreams.map((u) => u.dial) }] : []));
  assert.deepEqual(proxied[0], { hosts: ['shop.agent-1.test', 'web.agent-1.test'], dials: ['10.224.1.11:8080'] });
  assert.deepEqual(proxied.at(-1), { hosts: ['*.shop.agent-1.test', '*.*.shop.agent-1.test'], dials: ['10.224.1.11:8080'] });
  assert.deepEqual(proxied.find((p) => p.hosts.includes('worker.agent-1.test'))?.dials, ['10.224.1.200:80', '10.224.1.201:80']);
  // Last, a name nobody serves: a 404 that says so.
  assert.deepEqual(all.at(-1), { handle: [{ handler: 'static_response', status_code: 404, body: 'cilo: no running environment serves {http.request.host}\n' }], terminal: true });
});

test('caddyConfig: without certificates no HTTPS server; with no routes still an HTTP server (it answers 404 quickly, the probe connects to it)', () => {
  const c = caddyConfig({ routes: [], certificates: [] });
  assert.deepEqual(Object.keys(c.apps.http.servers), ['http']);
  assert.deepEqual(c.apps.http.servers.http?.routes.map((r) => 'match' in r), [false]);
  assert.equal(c.apps.tls, undefined);
});

test('router model: 127.0.0.1 only, labelled, its hash changes with ports and image', () => {
  const input = { homeId: 'abc123', image: 'caddy:2-alpine', httpPort: 8080, httpsPort: 8443 };
  const m = renderRouterModel(input);
  const svc = m.services.router;
  assert.equal(m.name, 'cilo-router-abc123');
  assert.equal(svc?.container_name, 'cilo-router-abc123');
  assert.deepEqual(svc?.ports, [
    { target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp' },
    { target: 443, published: '8443', host_ip: '127.0.0.1', protocol: 'tcp' },
  ]);
  assert.equal(svc?.labels?.['cilo.home'], 'abc123');
  assert.equal(svc?.labels?.['cilo.router'], 'true');
  assert.equal(svc?.labels?.[ROUTER_HASH_LABEL], routerModelHash(input));
  assert.notEqual(routerModelHash(input), routerModelHash({ ...input, httpPort: 80 }));
  assert.notEqual(routerModelHash(input), routerModelHash({ ...input, image: 'other' }));
});
