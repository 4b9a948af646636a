import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EnvironmentState, State } from '../domain/state.js';
import { emptyState } from '../state/schema.js';
import { suffixLabels } from '../domain/names.js';
import { answer, buildZone, DNS_TTL } from './zone.js';

function env(name: string, over: Partial<EnvironmentState> = {}): EnvironmentState {
  return {
    name,
    project: 'shop',
    source: '/src/shop',
    workspace: `/home/u/.cilo/envs/shop/${name}`,
    subnet: '10.224.1.0/24',
    dns_suffix: '.test',
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    services: { web: { ip: '10.224.1.2', type: 'isolated' }, api: { ip: '10.224.1.3', type: 'isolated' }, db: { ip: '10.224.1.50', type: 'shared' } },
    ingress: 'web',
    hostnames: ['admin', 'docs.v2'],
    shared: ['db'],
    ...over,
  };
}

function stateOf(...envs: EnvironmentState[]): State {
  const s = emptyState();
  for (const e of envs) s.environments[e.name] = e;
  return s;
}

const zone = buildZone(
  stateOf(
    env('agent-1'),
    env('agent-2', { project: 'blog', dns_suffix: '.dev.local', subnet: '10.224.2.0/24', services: { app: { ip: '10.224.2.2', type: 'isolated' } }, ingress: 'app', hostnames: [] }),
    env('stopped-1', { status: 'stopped', services: { web: { ip: '10.224.3.2', type: 'isolated' } } }),
    env('no-ingress', { ingress: null, hostnames: ['admin'], services: { worker: { ip: '10.224.4.2', type: 'isolated' } } }),
  ),
);

const a = (name: string, type = 'A') => answer(zone, name, type);
const ips = (name: string, type = 'A') => a(name, type).answers.map((r) => r.data);

test('services resolve to their IP, isolated and shared alike', () => {
  assert.deepEqual(ips('api.agent-1.test'), ['10.224.1.3']);
  assert.deepEqual(ips('web.agent-1.test'), ['10.224.1.2']);
  assert.deepEqual(ips('db.agent-1.test'), ['10.224.1.50']);
  const r = a('api.agent-1.test');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.authoritative, true);
  assert.deepEqual(r.answers, [{ name: 'api.agent-1.test', type: 'A', ttl: DNS_TTL, data: '10.224.1.3' }]);
});

test('custom hostnames, the apex and the wildcard at any depth resolve to the ingress', () => {
  assert.deepEqual(ips('admin.agent-1.test'), ['10.224.1.2']);
  assert.deepEqual(ips('docs.v2.agent-1.test'), ['10.224.1.2']);
  assert.deepEqual(ips('shop.agent-1.test'), ['10.224.1.2']);
  assert.deepEqual(ips('x.shop.agent-1.test'), ['10.224.1.2']);
  assert.deepEqual(ips('a.b.c.shop.agent-1.test'), ['10.224.1.2']);
});

test('exactly one answer per name', () => {
  for (const n of ['shop.agent-1.test', 'x.shop.agent-1.test', 'web.agent-1.test', 'admin.agent-1.test']) assert.equal(a(n).answers.length, 1, n);
});

test('a service named like the project does not hide the apex (the base URL reaches the ingress)', () => {
  const z = buildZone(stateOf(env('e1', { services: { web: { ip: '10.0.0.2', type: 'isolated' }, shop: { ip: '10.0.0.9', type: 'isolated' } } })));
  assert.deepEqual(answer(z, 'shop.e1.test', 'A').answers.map((r) => r.data), ['10.0.0.2']);
});

test('a service wins over a custom hostname of the same name', () => {
  const z = buildZone(stateOf(env('e1', { hostnames: ['api'] })));
  assert.deepEqual(answer(z, 'api.e1.test', 'A').answers.map((r) => r.data), ['10.224.1.3']);
});

test('names are case-insensitive and answered in the question spelling', () => {
  const r = a('API.Agent-1.TEST.');
  assert.deepEqual(r.answers, [{ name: 'API.Agent-1.TEST', type: 'A', ttl: DNS_TTL, data: '10.224.1.3' }]);
  assert.deepEqual(ips('X.SHOP.agent-1.Test'), ['10.224.1.2']);
});

test('an unknown name under a suffix is NXDOMAIN, authoritative', () => {
  for (const n of ['nope.agent-1.test', 'api.agent-9.test', 'x.api.agent-1.test', 'foo.test', 'deep.nope.test', 'x.dev.local']) {
    const r = a(n);
    assert.equal(r.rcode, 'NXDOMAIN', n);
    assert.equal(r.authoritative, true, n);
    assert.deepEqual(r.answers, [], n);
  }
});

test('names that only have names below them are NOERROR without data (RFC 8020), not NXDOMAIN', () => {
  for (const n of ['agent-1.test', 'test', 'agent-2.dev.local', 'dev.local', 'v2.agent-1.test']) {
    const r = a(n);
    assert.equal(r.rcode, 'NOERROR', n);
    assert.equal(r.authoritative, true, n);
    assert.deepEqual(r.answers, [], n);
  }
});

test('a suffix apex with nothing below it is NXDOMAIN', () => {
  const z = buildZone(emptyState());
  assert.equal(answer(z, 'test', 'A').rcode, 'NXDOMAIN');
  assert.equal(answer(z, 'anything.test', 'A').rcode, 'NXDOMAIN');
});

test('other types for a known name: NOERROR, no answer; ANY gets the A record', () => {
  for (const t of ['AAAA', 'MX', 'TXT', 'TYPE65']) {
    const r = a('api.agent-1.test', t);
    assert.equal(r.rcode, 'NOERROR', t);
    assert.equal(r.authoritative, true, t);
    assert.deepEqual(r.answers, [], t);
  }
  assert.equal(a('x.shop.agent-1.test', 'AAAA').rcode, 'NOERROR');
  assert.deepEqual(ips('api.agent-1.test', 'ANY'), ['10.224.1.3']);
});

test('names outside every suffix are REFUSED, not authoritative', () => {
  for (const n of ['example.com', 'api.agent-1.test.example.com', 'localhost', '.', 'xtest', 'local']) {
    const r = a(n);
    assert.equal(r.rcode, 'REFUSED', n);
    assert.equal(r.authoritative, false, n);
  }
});

test("a project's own suffix is served", () => {
  assert.deepEqual(ips('app.agent-2.dev.local'), ['10.224.2.2']);
  assert.deepEqual(ips('blog.agent-2.dev.local'), ['10.224.2.2']);
  assert.deepEqual(ips('x.y.blog.agent-2.dev.local'), ['10.224.2.2']);
  assert.equal(a('app.agent-2.test').rcode, 'NXDOMAIN');
});

test('an environment being (re)started keeps its names', () => {
  const z = buildZone(stateOf(env('e1', { status: 'starting', dns_suffix: '.other' })));
  assert.equal(answer(z, 'api.e1.other', 'A').rcode, 'NOERROR');
});

test('environments that are not running get no records, but their suffix stays served', () => {
  assert.equal(a('web.stopped-1.test').rcode, 'NXDOMAIN');
  assert.equal(a('shop.stopped-1.test').rcode, 'NXDOMAIN');
  for (const status of ['creating', 'created', 'stopped', 'error', 'destroying'] as const) {
    const z = buildZone(stateOf(env('e1', { status, dns_suffix: '.other' })));
    assert.equal(answer(z, 'api.e1.other', 'A').rcode, 'NXDOMAIN', status);
    assert.equal(answer(z, 'e1.other', 'A').rcode, 'NXDOMAIN', status);
  }
});

test('without an ingress there is no apex, wildcard or hostname record', () => {
  assert.deepEqual(ips('worker.no-ingress.test'), ['10.224.4.2']);
  assert.equal(a('shop.no-ingress.test').rcode, 'NXDOMAIN');
  assert.equal(a('x.shop.no-ingress.test').rcode, 'NXDOMAIN');
  assert.equal(a('admin.no-ingress.test').rcode, 'NXDOMAIN');
});

test('junk IPs in state are skipped, not served', () => {
  const z = buildZone(stateOf(env('e1', { services: { web: { ip: '10.0.0.2 10.0.0.3', type: 'shared' }, api: { ip: '10.0.0.4', type: 'isolated' } } })));
  assert.equal(answer(z, 'web.e1.test', 'A').rcode, 'NXDOMAIN');
  assert.equal(answer(z, 'shop.e1.test', 'A').rcode, 'NXDOMAIN');
  assert.deepEqual(answer(z, 'api.e1.test', 'A').answers.map((r) => r.data), ['10.0.0.4']);
});

test('suffixes are normalized and the longest one decides', () => {
  assert.equal(suffixLabels('.Dev.Local.'), 'dev.local');
  assert.equal(suffixLabels('test'), 'test');
  const z = buildZone(stateOf(env('e1', { dns_suffix: 'Dev.Local' })));
  assert.deepEqual(z.suffixes, ['dev.local', 'test']);
  assert.deepEqual(answer(z, 'api.e1.dev.local', 'A').answers.map((r) => r.data), ['10.224.1.3']);
});

test('a hostname written as a full name is not doubled', () => {
  const z = buildZone(stateOf(env('e1', { hostnames: ['admin.e1.test'] })));
  assert.deepEqual(answer(z, 'admin.e1.test', 'A').answers.map((r) => r.data), ['10.224.1.2']);
});

test('a scaled service answers with every replica; one that never ran, or is scaled to zero, has no name', () => {
  const z = buildZone(
    stateOf(
      env('e1', {
        services: {
          web: { ip: '10.224.1.192', type: 'isolated', replicas: ['10.224.1.192', '10.224.1.193'] },
          worker: { ip: '', type: 'isolated', replicas: [] },
        },
      }),
    ),
  );
  assert.deepEqual(answer(z, 'web.e1.test', 'A').answers.map((r) => r.data), ['10.224.1.192', '10.224.1.193']);
  assert.deepEqual(answer(z, 'shop.e1.test', 'A').answers.map((r) => r.data), ['10.224.1.192', '10.224.1.193'], 'a scaled ingress too');
  assert.equal(answer(z, 'worker.e1.test', 'A').rcode, 'NXDOMAIN');
});

test('a service\'s own hostnames answer with that service\'s IP; the ingress keeps its names', () => {
  const z = buildZone(
    stateOf(
      env('e2', {
        services: { web: { ip: '10.224.1.2', type: 'isolated' }, api: { ip: '10.224.1.3', type: 'isolated', hostnames: ['v1', 'admin'] }, db: { ip: '10.224.1.50', type: 'shared', hostnames: ['pg'] } },
      }),
    ),
  );
  const at = (n: string) => answer(z, n, 'A').answers.map((r) => r.data);
  assert.deepEqual(at('v1.e2.test'), ['10.224.1.3']);
  assert.deepEqual(at('pg.e2.test'), ['10.224.1.50']);
  assert.deepEqual(at('admin.e2.test'), ['10.224.1.2'], 'the ingress\'s hostname wins a name both claim');
});

test('router mode: every name of the environment answers 127.0.0.1 (services, hostnames, apex, wildcard, shared)', () => {
  const s = stateOf(env('agent-1'), env('agent-3', { services: { web: { ip: '10.224.5.2', type: 'isolated', replicas: ['10.224.5.2', '10.224.5.3'] }, worker: { ip: '', type: 'isolated', replicas: [] } } }));
  s.routing = { mode: 'router', http_port: 8080, https_port: 8443 };
  const z = buildZone(s);
  const at = (n: string) => answer(z, n, 'A').answers.map((r) => r.data);
  for (const n of ['web.agent-1.test', 'api.agent-1.test', 'db.agent-1.test', 'admin.agent-1.test', 'docs.v2.agent-1.test', 'shop.agent-1.test', 'x.y.shop.agent-1.test']) {
    assert.deepEqual(at(n), ['127.0.0.1'], n);
  }
  assert.deepEqual(at('web.agent-3.test'), ['127.0.0.1'], 'a scaled service: one loopback answer, not one per replica');
  assert.equal(answer(z, 'worker.agent-3.test', 'A').rcode, 'NXDOMAIN', 'a service with no replica still has no name');
  assert.equal(answer(z, 'nope.agent-1.test', 'A').rcode, 'NXDOMAIN');
});

test('auto mode follows what the probe found for the site: router here, direct on a host that reaches containers', () => {
  const s = stateOf(env('here'), env('there', { host: 'box', subnet: '10.230.1.0/24', services: { web: { ip: '10.230.1.2', type: 'isolated' } } }));
  s.routing = { mode: 'auto', http_port: 80, https_port: 443, resolved: { '': { mode: 'router', engine_id: 'e1', at: '2026-01-01T00:00:00Z', why: 'connect timed out' }, box: { mode: 'direct', engine_id: 'e2', at: '2026-01-01T00:00:00Z', why: 'connected' } } };
  const z = buildZone(s);
  assert.deepEqual(answer(z, 'web.here.test', 'A').answers.map((r) => r.data), ['127.0.0.1']);
  assert.deepEqual(answer(z, 'web.there.test', 'A').answers.map((r) => r.data), ['10.230.1.2']);
});

test('direct mode (and auto before any probe) answers container addresses, as before', () => {
  for (const routing of [undefined, { mode: 'direct' as const, http_port: 80, https_port: 443 }, { mode: 'auto' as const, http_port: 80, https_port: 443 }]) {
    const s = stateOf(env('agent-1'));
    s.routing = routing;
    assert.deepEqual(answer(buildZone(s), 'api.agent-1.test', 'A').answers.map((r) => r.data), ['10.224.1.3'], String(routing?.mode));
  }
});

test('the home default suffix (cilo init --dns-suffix) is served before any environment uses it', () => {
  const s = emptyState();
  s.dns_suffix = '.localhost';
  const z = buildZone(s);
  assert.deepEqual(z.suffixes, ['localhost', 'test']);
  assert.equal(answer(z, 'web.e1.localhost', 'A').rcode, 'NXDOMAIN');
  const withEnv = stateOf(env('e1', { dns_suffix: '.localhost' }));
  withEnv.routing = { mode: 'router', http_port: 80, https_port: 443 };
  assert.deepEqual(answer(buildZone(withEnv), 'api.e1.localhost', 'A').answers.map((r) => r.data), ['127.0.0.1']);
});

test('an idle-paused environment keeps its names, each answer marked with the environment to wake', () => {
  const z = buildZone(stateOf(env('awake'), env('asleep', { status: 'paused', paused_by: 'idle', paused_at: '2024-01-01T00:00:00Z', subnet: '10.224.5.0/24', services: { web: { ip: '10.224.5.2', type: 'isolated' } } })));
  const web = answer(z, 'web.asleep.test', 'A');
  assert.deepEqual([web.rcode, web.answers.map((r) => r.data), web.env, web.wake], ['NOERROR', ['10.224.5.2'], 'asleep', 'asleep']);
  // Apex, wildcard, custom hostname: every name of it wakes it; so does a query for another type.
  for (const name of ['shop.asleep.test', 'x.y.shop.asleep.test', 'admin.asleep.test']) assert.equal(answer(z, name, 'A').wake, 'asleep', name);
  const aaaa = answer(z, 'web.asleep.test', 'AAAA');
  assert.deepEqual([aaaa.rcode, aaaa.answers.length, aaaa.wake], ['NOERROR', 0, 'asleep']);
  // A running environment's answers name it (a use) but wake nothing; names of no environment are unmarked.
  const running = answer(z, 'x.shop.awake.test', 'A');
  assert.deepEqual([running.env, running.wake], ['awake', undefined]);
  for (const r of [answer(z, 'nope.asleep.test', 'A'), answer(z, 'asleep.test', 'A'), answer(z, 'example.com', 'A')]) assert.deepEqual([r.env, r.wake], [undefined, undefined]);
});

test('an environment paused by the user (down --pause) or stopped still does not resolve', () => {
  for (const over of [{ status: 'paused', paused_by: 'user' }, { status: 'paused' }, { status: 'stopped', paused_by: 'idle' }] as const) {
    const z = buildZone(stateOf(env('e1', over)));
    const r = answer(z, 'web.e1.test', 'A');
    assert.deepEqual([r.rcode, r.wake, r.env], ['NXDOMAIN', undefined, undefined], JSON.stringify(over));
    assert.equal(z.sleeping.size, 0);
  }
});
