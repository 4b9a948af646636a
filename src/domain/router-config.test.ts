import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caddyConfig, needsRequestLog, environmentOfHost, requestWakes, environmentRoutes, isRouted, parseRouterRequestLine, renderRouterModel, routerModelHash, routerPlan, routerRoutes, ROUTER_HASH_LABEL, type CaddyRoute, type RoutedEnvironment } from './router-config.js';

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
  assert.deepEqual(routes[0], { host: 'shop.agent-1.test', env: 'agent-1', service: 'web', upstreams: ['10.224.1.11:8080'], port: 8080, label: 'shop', kind: 'name', suffix: '.test' });
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

test('routerRoutes: only running (or starting, or idle-paused) environments, in name order; .localhost suffixes too', () => {
  const envs = [env({ name: 'b', dns_suffix: '.localhost' }), env({ name: 'a', status: 'stopped' }), env({ name: 'c', status: 'paused' }), env({ name: 'd', status: 'starting' }), env({ name: 'e', status: 'paused', paused_by: 'idle' }), env({ name: 'f', status: 'paused', paused_by: 'user' })];
  const routes = routerRoutes(envs);
  assert.deepEqual([...new Set(routes.map((r) => r.env))], ['b', 'd', 'e']);
  assert.ok(routes.some((r) => r.host === 'shop.b.localhost'));
});

test('routerPlan: no environment in the config for plain names: a second environment of a project changes nothing', () => {
  const one = routerPlan(routerRoutes([env({ hostnames: ['admin'] })]));
  const two = routerPlan(routerRoutes([env({ hostnames: ['admin'] }), env({ name: 'agent-2', hostnames: ['admin'], subnet: '10.224.2.0/24', services: { ...env().services, web: { ip: '10.224.2.11', type: 'isolated', port: 8080 } } })]));
  assert.deepEqual(two, one);
  assert.deepEqual(caddyConfig({ plan: two, https: true }), caddyConfig({ plan: one, https: true }));
  assert.equal(JSON.stringify(caddyConfig({ plan: two, https: true })).includes('agent-'), false);
  // A deeper hostname (docs.v2: no alias resolves the names below a first label) is the exception.
  assert.equal(JSON.stringify(caddyConfig({ plan: routerPlan(routerRoutes([env()])), https: true })).includes('docs.v2.agent-1.test'), true);
});

test('routerPlan: per suffix, each first label to its port (services, the apex and hostnames to the ingress\'s), the apex ports for the names below it', () => {
  const plan = routerPlan(routerRoutes([env(), env({ name: 'b', dns_suffix: '.localhost' })]));
  assert.deepEqual(plan.suffixes.map((s) => s.suffix), ['.localhost', '.test']);
  assert.deepEqual(plan.suffixes[1]?.ports, { admin: 8080, api: 80, db: 5432, graphql: 80, shop: 8080, web: 8080, worker: 80 });
  assert.deepEqual(plan.suffixes[1]?.apexPorts, { shop: 8080 });
  // A deeper hostname (no alias resolves a name below `docs.v2`'s first label): to its addresses.
  assert.deepEqual(plan.explicit, [{ hosts: ['docs.v2.agent-1.test', 'docs.v2.b.localhost'], dials: ['10.224.1.11:8080'] }]);
});

test('routerPlan: a hostname not yet a Docker alias (added live) gets an explicit route to its addresses', () => {
  const routes = routerRoutes([env({ hostnames: ['admin'] })]);
  const plan = routerPlan(routes, new Set(['shop.agent-1.test', 'web.agent-1.test', 'graphql.agent-1.test', 'web']));
  assert.deepEqual(plan.explicit, [{ hosts: ['admin.agent-1.test'], dials: ['10.224.1.11:8080'] }]);
  assert.equal(plan.suffixes[0]?.ports.admin, undefined);
  const upped = routerPlan(routes, new Set(['shop.agent-1.test', 'web.agent-1.test', 'graphql.agent-1.test', 'admin.agent-1.test']));
  assert.deepEqual([upped.suffixes[0]?.ports.admin, upped.explicit, upped.removed], [8080, [], []]);
});

test('routerPlan: an alias whose hostname was removed live is answered 404 ahead of everything, until the next up drops it', () => {
  const routes = routerRoutes([env({ hostnames: [] })]);
  const plan = routerPlan(routes, new Set(['shop.agent-1.test', 'web.agent-1.test', 'admin.agent-1.test', 'web', 'admin.other.test']));
  assert.deepEqual(plan.removed, ['admin.agent-1.test']);
  // Right after the route that tells cilo of each request (not terminal), with an idle pause served.
  const first = caddyConfig({ plan, https: false, tellCilo: true }).apps.http.servers.http?.routes[1];
  assert.deepEqual(first, { match: [{ host: ['admin.agent-1.test'] }], handle: [{ handler: 'static_response', status_code: 404, body: 'cilo: no running environment serves {http.request.host}\n' }], terminal: true });
});

test('routerPlan: a first label with two ports across environments gets exact routes ahead, by name, and leaves the map', () => {
  const other = env({ name: 'x1', project: 'blog', ingress: 'web', hostnames: [], services: { web: { ip: '10.224.3.11', type: 'isolated', port: 3000 } }, subnet: '10.224.3.0/24' });
  const plan = routerPlan(routerRoutes([env({ hostnames: [] }), other]));
  const ports = plan.suffixes[0]?.ports ?? {};
  assert.equal(ports.web, undefined);
  assert.equal(ports.blog, 3000);
  assert.equal(ports.shop, 8080);
  assert.deepEqual(plan.explicit, [
    { hosts: ['web.agent-1.test'], dials: ['web.agent-1.test:8080'] },
    { hosts: ['web.x1.test'], dials: ['web.x1.test:3000'] },
  ]);
});

function proxied(routes: CaddyRoute[]): { hosts: unknown; dials: string[] }[] {
  return routes.flatMap((r) => {
    const p = r.handle.find((h) => h.handler === 'reverse_proxy') as { upstreams: { dial: string }[] } | undefined;
    return p ? [{ hosts: r.match?.[0]?.host, dials: p.upstreams.map((u) => u.dial) }] : [];
  });
}

test('caddyConfig: explicit routes first, then per suffix the general route (dial by name, port from the map) and the names below an apex; a 404 last, a 502 for a failed dial', () => {
  const c = caddyConfig({ plan: routerPlan(routerRoutes([env()])), https: false });
  assert.deepEqual(c.admin, { listen: 'localhost:2019' });
  const http = c.apps.http.servers.http;
  assert.deepEqual(http?.listen, [':80']);
  assert.deepEqual(http?.automatic_https, { disable: true });
  assert.equal(c.apps.tls, undefined);
  assert.deepEqual(Object.keys(c.apps.http.servers), ['http', 'requests']);
  const routes = http?.routes ?? [];
  assert.deepEqual(proxied(routes), [
    { hosts: ['docs.v2.agent-1.test'], dials: ['10.224.1.11:8080'] },
    { hosts: ['*.*.test'], dials: ['{http.request.host}:{cilo.port}'] },
  ]);
  const general = routes[1];
  assert.deepEqual(general?.handle[0], {
    handler: 'map',
    source: '{http.request.host.labels.2}',
    destinations: ['{cilo.port}'],
    mappings: [['admin', 8080], ['api', 80], ['db', 5432], ['graphql', 80], ['shop', 8080], ['web', 8080], ['worker', 80]].map(([input, port]) => ({ input, outputs: [String(port)] })),
    defaults: ['80'],
  });
  const below = routes[2];
  assert.deepEqual(below?.match, [{ host: ['*.*.*.test', '*.*.*.*.test'] }]);
  assert.match(JSON.stringify(below), /\{http\.request\.host\.labels\.2\}\.\{http\.request\.host\.labels\.1\}\.test:\{cilo\.port\}/);
  assert.deepEqual(routes.at(-1), { handle: [{ handler: 'static_response', status_code: 404, body: 'cilo: no running environment serves {http.request.host}\n' }], terminal: true });
  assert.deepEqual(http?.errors, { routes: [{ handle: [{ handler: 'static_response', status_code: 502, body: 'cilo: no running environment serves {http.request.host}\n' }] }] });
  // A two-label suffix: the first label is one further left.
  const deep = caddyConfig({ plan: routerPlan(routerRoutes([env({ dns_suffix: '.dev.local' })])), https: false });
  assert.match(JSON.stringify(deep), /"\*\.\*\.dev\.local".*labels\.3/);
});

test('caddyConfig with the CA: HTTPS on :443 with the same routes, certificates on demand from cilo\'s CA for the routed suffixes only', () => {
  const c = caddyConfig({ plan: routerPlan(routerRoutes([env(), env({ name: 'b', dns_suffix: '.localhost' })])), https: true });
  const https = c.apps.http.servers.https;
  assert.deepEqual(https?.listen, [':443']);
  assert.deepEqual(https?.tls_connection_policies, [{}]);
  assert.deepEqual(https?.routes, c.apps.http.servers.http?.routes);
  // Only the name-constrained intermediate (as the root too: Caddy 2.6 wants a root's key); never cilo's root key.
  const intermediate = { certificate: '/data/cilo-ca/intermediate.crt', private_key: '/data/cilo-ca/intermediate.key', format: 'pem_file' };
  assert.deepEqual(c.apps.pki, { certificate_authorities: { cilo: { name: 'cilo', root: intermediate, intermediate, install_trust: false } } });
  assert.deepEqual(c.apps.tls, { automation: { on_demand: { ask: 'http://127.0.0.1:2020/ask' }, policies: [{ issuers: [{ module: 'internal', ca: 'cilo' }], on_demand: true }] } });
  const ask = c.apps.http.servers.ask;
  assert.deepEqual(ask?.listen, ['127.0.0.1:2020']);
  const pattern = new RegExp(((ask?.routes[0]?.match?.[0]?.vars_regexp as Record<string, { pattern: string }>)['{http.request.uri.query.domain}']?.pattern ?? '').replace('(?i)', ''), 'i');
  assert.equal(pattern.test('web.agent-1.test'), true);
  assert.equal(pattern.test('x.shop.b.localhost'), true);
  assert.equal(pattern.test('example.com'), false);
  assert.equal(pattern.test('test'), false);
});

test('caddyConfig: with no environment still an HTTP server (it answers 404 quickly, the probe connects to it)', () => {
  const c = caddyConfig({ plan: routerPlan([]), https: false });
  assert.deepEqual(Object.keys(c.apps.http.servers), ['http', 'requests']);
  assert.deepEqual(c.apps.http.servers.http?.routes.map((r) => 'match' in r), [false]);
});

test('caddyConfig: with an idle pause served, each request first makes a GET to the requests server (as forward_auth), whose access log alone goes to stdout', () => {
  assert.equal(needsRequestLog([env()]), false);
  assert.equal(needsRequestLog([env(), { ...env(), idle_pause_seconds: 600 }]), true);
  const without = caddyConfig({ plan: routerPlan(routerRoutes([env()])), https: true });
  for (const server of ['http', 'https']) assert.equal(JSON.stringify(without.apps.http.servers[server]?.routes).includes('127.0.0.1:2021'), false, 'no subrequest while no environment has an idle pause');
  const c = caddyConfig({ plan: routerPlan(routerRoutes([env()])), https: true, tellCilo: true });
  for (const server of ['http', 'https']) {
    assert.deepEqual(c.apps.http.servers[server]?.routes[0], {
      handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: '127.0.0.1:2021' }], rewrite: { method: 'GET', uri: '/' }, handle_response: [{ match: { status_code: [2] }, routes: [{ handle: [{ handler: 'vars' }] }] }] }],
    });
  }
  const requests = c.apps.http.servers.requests;
  assert.deepEqual(requests?.listen, ['127.0.0.1:2021']);
  assert.deepEqual(requests?.logs, { default_logger_name: 'cilo_request' });
  assert.deepEqual(requests?.routes, [{ handle: [{ handler: 'static_response', status_code: 204 }], terminal: true }]);
  const logs = c.logging?.logs ?? {};
  assert.deepEqual(logs.default, { exclude: ['http.log.access.cilo_request'] });
  assert.deepEqual(logs.cilo_request?.include, ['http.log.access.cilo_request']);
  assert.deepEqual(logs.cilo_request?.writer, { output: 'stdout' });
  // Nothing of any environment in it: an environment pausing or waking is no config change.
  assert.equal(JSON.stringify(c.logging).includes('agent-1'), false);
});

test('isRouted: running, starting and idle-paused; not stopped or paused by the user', () => {
  assert.deepEqual(
    ([{ status: 'running' }, { status: 'starting' }, { status: 'paused', paused_by: 'idle' }, { status: 'paused', paused_by: 'user' }, { status: 'paused' }, { status: 'stopped' }] as const).map((e) => isRouted(e)),
    [true, true, true, false, false, false],
  );
});

test('parseRouterRequestLine: the requests server\'s access log line gives the requested name and time; anything else null', () => {
  const line = '{"level":"info","ts":1796617747.3466852,"logger":"http.log.access.cilo_request","msg":"handled request","request":{"method":"GET","host":"Web.A1.localhost:18099"},"status":204}';
  assert.deepEqual(parseRouterRequestLine(line), { host: 'web.a1.localhost', at: 1796617747347 });
  assert.deepEqual(parseRouterRequestLine(line.replace('Web.A1.localhost:18099', 'api.a1.test.')), { host: 'api.a1.test', at: 1796617747347 });
  for (const other of [
    '',
    'not json http.log.access.cilo_request',
    '{"level":"info","ts":1796617721.62,"logger":"http.log","msg":"server running","name":"requests"}',
    line.replace('"logger":"http.log.access.cilo_request"', '"logger":"http.log.access"'),
    line.replace('"ts":1796617747.3466852', '"ts":"1796617747"'),
    line.replace('"host":"Web.A1.localhost:18099"', '"host":7'),
    line.replace('"host":"Web.A1.localhost:18099"', '"host":"[::1]:80"'),
    line.replace('"host":"Web.A1.localhost:18099"', '"host":""'),
    line.replace('"host":"Web.A1.localhost:18099"', '"host":"a b"'),
    line.replace('"request":{"method":"GET","host":"Web.A1.localhost:18099"}', '"request":null'),
    line.slice(0, 60),
    '[1,2] http.log.access.cilo_request',
  ]) {
    assert.equal(parseRouterRequestLine(other), null, other);
  }
});

test('environmentOfHost: the environment whose <env><suffix> the name is or ends in, the longest; null for others', () => {
  const envs = [{ name: 'a1', dns_suffix: '.test' }, { name: 'x.a1', dns_suffix: '.test' }, { name: 'b', dns_suffix: '.localhost' }];
  assert.equal(environmentOfHost('web.a1.test', envs)?.name, 'a1');
  assert.equal(environmentOfHost('a1.test', envs)?.name, 'a1');
  assert.equal(environmentOfHost('y.shop.a1.test', envs)?.name, 'a1');
  assert.equal(environmentOfHost('web.x.a1.test', envs)?.name, 'x.a1');
  assert.equal(environmentOfHost('web.b.localhost', envs)?.name, 'b');
  assert.equal(environmentOfHost('web.ba1.test', envs), null);
  assert.equal(environmentOfHost('web.b.test', envs), null);
  assert.equal(environmentOfHost('example.com', envs), null);
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
  assert.deepEqual(svc?.logging, { driver: 'local', options: { 'max-size': '10m', 'max-file': '3' } }, 'its log of requests is rotated');
  assert.equal(svc?.labels?.['cilo.home'], 'abc123');
  assert.equal(svc?.labels?.['cilo.router'], 'true');
  // On a user-defined network of its own from the start: Docker's DNS answers inside it.
  assert.equal(svc?.network_mode, undefined);
  assert.deepEqual(m.networks?.default, { name: 'cilo-router-abc123', labels: { cilo: 'true', 'cilo.home': 'abc123', 'cilo.router': 'true' } });
  assert.equal(svc?.labels?.[ROUTER_HASH_LABEL], routerModelHash(input));
  assert.notEqual(routerModelHash(input), routerModelHash({ ...input, httpPort: 80 }));
  assert.notEqual(routerModelHash(input), routerModelHash({ ...input, image: 'other' }));
});

test('requestWakes: an idle-paused environment, by a request after (or just before) its pause; never a running or user-paused one', () => {
  const pausedAt = Date.parse('2026-01-01T00:10:00Z');
  const idle = { status: 'paused', paused_by: 'idle', paused_at: '2026-01-01T00:10:00.000Z', idle_pause_seconds: 60 } as const;
  assert.equal(requestWakes(idle, pausedAt + 1), true);
  assert.equal(requestWakes(idle, pausedAt + 86_400_000), true);
  // Between the supervisor's judgement and paused_at (the containers freezing): it waits in a container, it wakes.
  assert.equal(requestWakes(idle, pausedAt - 2000), true);
  // Long before: it was seen by the supervisor as activity, and the environment was idle after it.
  assert.equal(requestWakes(idle, pausedAt - 60_000), false);
  // A short idle pause still counts half a second before.
  assert.equal(requestWakes({ ...idle, idle_pause_seconds: 2 }, pausedAt - 400), true);
  assert.equal(requestWakes({ ...idle, idle_pause_seconds: 2 }, pausedAt - 1500), false);
  assert.equal(requestWakes({ status: 'paused', paused_by: 'idle' }, 0), true, 'no paused_at: any request');
  assert.equal(requestWakes({ ...idle, paused_by: 'user' }, pausedAt + 1), false);
  assert.equal(requestWakes({ ...idle, status: 'running' }, pausedAt + 1), false);
});
