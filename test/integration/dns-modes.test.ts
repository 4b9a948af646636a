/**
 * Choosing how this machine reaches environments (issue #25), through the built CLI: `cilo init
 * --routing/--router-*-port/--dns-suffix` (checks, warnings, what it stores), cilo's DNS server
 * answering 127.0.0.1 for the names of environments in router mode (fake running environments
 * written into state, as dns.test.ts does), `.localhost` as the home's suffix, and a real
 * environment in router mode: its URLs in status, list and the manifest, its names answering
 * 127.0.0.1 on the host while inside its containers they still resolve to container addresses.
 */
import { afterEach, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentState, State } from '../../src/domain/state.js';
import { ciloPaths } from '../../src/state/paths.js';
import { readState } from '../../src/state/store.js';
import { waitForAddresses } from '../support/dns-query.js';
import { http as httpRequest, signIn, startUi } from './ui-helpers.js';
import { docker, editState, ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

before(() => ensureFixtureImage());

function home(): TestHome {
  const h = makeHome();
  cleanups.push(() => h.cleanup());
  return h;
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A TCP port on 127.0.0.1 held by this process, as another program would hold the router's port. */
async function holdPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const a = server.address();
  assert.ok(a && typeof a === 'object');
  return a.port;
}

/** A free port pair above 1024 for the router (nothing listens on them in these tests). */
function routerPorts(): [number, number] {
  const base = 30000 + ((process.pid * 11) % 15000);
  return [base, base + 1];
}

function fakeEnv(name: string, over: Partial<EnvironmentState> = {}): EnvironmentState {
  return {
    name,
    project: 'shop',
    source: '/nowhere',
    workspace: '/nowhere',
    subnet: '10.232.1.0/24',
    dns_suffix: '.test',
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    services: { web: { ip: '10.232.1.2', type: 'isolated' }, api: { ip: '10.232.1.3', type: 'isolated', hostnames: ['v1'] } },
    ingress: 'web',
    hostnames: ['admin'],
    shared: [],
    ...over,
  };
}

const stateOf = (h: TestHome): State => readState(ciloPaths(h.home));

test('init refuses a bad mode, a bad port and equal ports in one sentence, and changes nothing', async () => {
  const h = home();
  assert.equal((await h.cli(['init'])).code, 0);
  const unchanged = (): void => {
    const s = stateOf(h);
    assert.deepEqual([s.routing, s.dns_suffix], [undefined, undefined]);
  };
  const cases: [string[], RegExp][] = [
    [['--routing', 'proxy'], /^cilo: --routing "proxy" is not a routing mode: use auto, direct or router\.\n$/],
    [['--router-http-port', '0'], /^cilo: --router-http-port 0 is not a valid port: use a port between 1 and 65535/],
    [['--router-https-port', '70000'], /^cilo: --router-https-port 70000 is not a valid port/],
    [['--router-http-port', '443'], /^cilo: The router's HTTP and HTTPS ports would both be 443: give --router-http-port another port than --router-https-port/],
    [['--routing', 'router', '--router-http-port', '8080', '--router-https-port', '8080'], /both be 8080/],
    [['--dns-suffix', 'bad_suffix'], /^cilo: --dns-suffix "bad_suffix" is not a DNS suffix/],
  ];
  for (const [args, message] of cases) {
    const r = await h.cli(['init', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '');
    unchanged();
  }
  // A home that does not exist yet is not made by a refused init either.
  const fresh = makeHome();
  cleanups.push(() => fresh.cleanup());
  const gone = join(fresh.home, 'not-yet');
  const r = await fresh.cli(['init', '--routing', 'nope'], { env: { CILO_HOME: gone } });
  assert.equal(r.code, 2);
  assert.equal(existsSync(gone), false, 'the refused init made the home');
});

test('init stores the routing and the suffix, keeps what auto found, and says when the router\'s port is taken', async () => {
  const h = home();
  const [http, https] = routerPorts();
  const r = await h.cli(['init', '--routing', 'router', '--router-http-port', String(http), '--router-https-port', String(https), '--dns-suffix', '.LocalHost']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`Routing: router on 127\\.0\\.0\\.1:${http} \\(HTTP\\) and :${https} \\(HTTPS\\)`));
  assert.match(r.stdout, /Names under \.localhost need no resolver set-up/);
  assert.doesNotMatch(r.stdout, /dns setup/);
  assert.equal(r.stderr, '', 'free high ports: nothing to warn about');
  assert.deepEqual(stateOf(h).routing, { mode: 'router', http_port: http, https_port: https });
  assert.equal(stateOf(h).dns_suffix, '.localhost');

  // What auto found for a site (the router helper's probe) survives a change of ports.
  const probe = { mode: 'router' as const, engine_id: 'x', at: '2026-01-01T00:00:00Z', why: 'test' };
  await editState(h, (s) => {
    if (s.routing) s.routing.resolved = { '': probe };
  });
  const taken = await holdPort();
  const j = await h.cli(['init', '--routing', 'auto', '--router-http-port', String(taken), '--json']);
  assert.equal(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout) as { routing: unknown; dns_suffix: string; warnings: string[] };
  assert.deepEqual(out.routing, { mode: 'auto', http_port: taken, https_port: https, resolved: { '': probe } });
  assert.equal(out.dns_suffix, '.localhost');
  const warning = out.warnings.find((w) => w.includes(`Port ${taken} (HTTP)`));
  assert.ok(warning, out.warnings.join('\n'));
  assert.match(warning, /used by another program, so the router cannot publish there: choose another with `cilo init --router-http-port \d+`\./);
  assert.match(j.stderr, /warning: Port \d+ \(HTTP\) on 127\.0\.0\.1 is used by another program/);
  assert.ok(out.warnings.some((w) => /Names under \.localhost go to 127\.0\.0\.1 .*auto starts it only where.*`cilo init --routing router`/.test(w)), out.warnings.join('\n'));

  // Direct mode has no router: its ports are not looked at.
  const d = await h.cli(['init', '--routing', 'direct', '--json']);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(!(JSON.parse(d.stdout) as { warnings: string[] }).warnings.some((w) => w.includes('used by another program')));
});

test('changing routing while environments run is allowed and says they follow at their next up', async () => {
  const h = home();
  assert.equal((await h.cli(['init'])).code, 0);
  await editState(h, (s) => {
    s.environments['agent-1'] = fakeEnv('agent-1');
  });
  const [http, https] = routerPorts();
  const r = await h.cli(['init', '--routing', 'router', '--router-http-port', String(http), '--router-https-port', String(https)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Routing is now router on ports \d+\/\d+; 1 running environment\(s\) \(agent-1\) get their routes and URLs that way at their next `cilo up`\./);
  const again = await h.cli(['init', '--routing', 'router']);
  assert.doesNotMatch(again.stderr, /Routing is now/, 'no change, nothing to say');
});

test('DNS: names of environments in router mode answer 127.0.0.1, live as the mode changes; direct answers container addresses', async () => {
  const h = home();
  const port = h.dnsPort;
  await editState(h, (s) => {
    s.dns_port = port;
    s.environments['agent-1'] = fakeEnv('agent-1');
    s.environments['agent-2'] = fakeEnv('agent-2', { project: 'blog', dns_suffix: '.localhost', subnet: '10.232.2.0/24', services: { app: { ip: '10.232.2.2', type: 'isolated' } }, ingress: 'app', hostnames: [] });
    s.environments['remote-1'] = fakeEnv('remote-1', { host: 'box', subnet: '10.232.3.0/24', services: { web: { ip: '10.232.3.2', type: 'isolated' } }, hostnames: [] });
  });
  const started = await h.cli(['dns', 'start']);
  assert.equal(started.code, 0, started.stderr);
  const names = ['web.agent-1.test', 'api.agent-1.test', 'v1.agent-1.test', 'admin.agent-1.test', 'shop.agent-1.test', 'x.shop.agent-1.test'];
  for (const n of names) await waitForAddresses(port, n, [n.startsWith('api') || n.startsWith('v1') ? '10.232.1.3' : '10.232.1.2'], 'start (no routing in state: direct)');
  await waitForAddresses(port, 'app.agent-2.localhost', ['10.232.2.2'], 'start');

  await editState(h, (s) => {
    s.routing = { mode: 'router', http_port: 8080, https_port: 8443 };
  });
  for (const n of [...names, 'app.agent-2.localhost', 'blog.agent-2.localhost', 'web.remote-1.test']) await waitForAddresses(port, n, ['127.0.0.1'], 'routing router');
  await waitForAddresses(port, 'nope.agent-1.test', [], 'routing router');

  // auto: what the probe found, per site: the router here, direct on host "box".
  await editState(h, (s) => {
    s.routing = { mode: 'auto', http_port: 80, https_port: 443, resolved: { '': { mode: 'router', engine_id: 'a', at: '2026-01-01T00:00:00Z', why: 'test' }, box: { mode: 'direct', engine_id: 'b', at: '2026-01-01T00:00:00Z', why: 'test' } } };
  });
  await waitForAddresses(port, 'web.remote-1.test', ['10.232.3.2'], 'auto: direct on box');
  await waitForAddresses(port, 'web.agent-1.test', ['127.0.0.1'], 'auto: router here');

  await editState(h, (s) => {
    s.routing = { mode: 'direct', http_port: 80, https_port: 443 };
  });
  await waitForAddresses(port, 'web.agent-1.test', ['10.232.1.2'], 'routing direct');
  await waitForAddresses(port, 'app.agent-2.localhost', ['10.232.2.2'], 'routing direct');
});

test('dns setup leaves .localhost out and says it needs no set-up', async () => {
  const h = home();
  const root = tempDir('cilo-sysroot-');
  const env = { CILO_SYSTEM_ROOT: root };
  assert.equal((await h.cli(['init', '--dns-suffix', '.localhost'])).code, 0);
  const r = await h.cli(['dns', 'setup', '--dns-suffix', '.localhost', '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { suffixes: string[]; warnings: string[] };
  assert.deepEqual(out.suffixes, ['test']);
  assert.match(out.warnings.join('\n'), /Names under \.localhost need no resolver set-up: browsers and curl send them to 127\.0\.0\.1/);
  assert.match(readFileSync(join(root, 'etc', 'systemd', 'resolved.conf.d', 'cilo.conf'), 'utf8'), /^Domains=~test$/m);
});

test('router mode end to end: a .localhost environment from the home default, its URLs, and its names on the host and inside containers', async () => {
  const h = home();
  const project = uid('modes');
  cleanups.push(() => removeProjectResources(project));
  cleanups.push(async () => {
    await h.cli(['destroy', '--all', '--force']);
  });
  const dir = tempDir('cilo-modes-');
  mkdirSync(join(dir, '.cilo'));
  writeFileSync(join(dir, '.cilo', 'config.yml'), `project: ${project}\n`);
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'services:',
      '  web:',
      '    image: cilo-fixture/busybox:1',
      '    init: true',
      '    command: ["httpd", "-f", "-p", "8080", "-h", "/"]',
      '    expose: ["8080"]',
      '  probe:',
      '    image: cilo-fixture/busybox:1',
      '    init: true',
      '    command: ["sleep", "3600"]',
      '',
    ].join('\n'),
  );
  const [http, https] = routerPorts();
  const init = await h.cli(['init', '--routing', 'router', '--router-http-port', String(http), '--router-https-port', String(https), '--dns-suffix', '.localhost']);
  assert.equal(init.code, 0, init.stderr);
  const config = await h.cli(['config', '--json'], { cwd: dir });
  assert.equal(config.code, 0, config.stderr);
  assert.equal((JSON.parse(config.stdout) as { dns_suffix: string }).dns_suffix, '.localhost', 'cilo config shows the home default');

  const up = await h.cli(['up', 'e1', '--from', dir, '--json']);
  assert.equal(up.code, 0, up.stderr);
  const m = JSON.parse(up.stdout) as { routing: string; dns_suffix: string; url: string | null; urls: { http: string | null; https: string | null }; services: { name: string; ip: string; url: string; urls: { http: string | null; https: string | null } }[] };
  assert.equal(m.dns_suffix, '.localhost', 'the home default suffix, the project config naming none');
  assert.equal(m.routing, 'router');
  assert.equal(m.url, `http://${project}.e1.localhost:${http}`);
  assert.deepEqual(m.urls, { http: `http://${project}.e1.localhost:${http}`, https: `https://${project}.e1.localhost:${https}` });
  const web = m.services.find((s) => s.name === 'web');
  assert.deepEqual(web?.urls, { http: `http://web.e1.localhost:${http}`, https: `https://web.e1.localhost:${https}` });
  assert.equal(web?.url, `http://web.e1.localhost:${http}`);

  const list = await h.cli(['list', '--all', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const [row] = JSON.parse(list.stdout) as { routing: string; url: string; urls: unknown; services: { name: string; url: string; urls: unknown }[] }[];
  assert.equal(row?.routing, 'router');
  assert.equal(row?.url, `http://${project}.e1.localhost:${http}`);
  assert.deepEqual(row?.services.find((s) => s.name === 'web')?.urls, { http: `http://web.e1.localhost:${http}`, https: `https://web.e1.localhost:${https}` });
  const text = await h.cli(['status', 'e1']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`URL: +http://${project}\\.e1\\.localhost:${http}\\n`));
  assert.match(text.stdout, new RegExp(`HTTPS: +https://${project}\\.e1\\.localhost:${https}\\n`));

  // The host's queries: 127.0.0.1 (the router's address), the apex and the services alike.
  await waitForAddresses(h.dnsPort, `web.e1.localhost`, ['127.0.0.1'], 'up in router mode');
  await waitForAddresses(h.dnsPort, `${project}.e1.localhost`, ['127.0.0.1'], 'up in router mode');
  // Inside the containers: Docker's embedded DNS, container addresses as before.
  const [probe] = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-e1`, 'com.docker.compose.service=probe'] });
  assert.ok(probe, 'the probe container runs');
  const lookup = spawnSync('docker', ['exec', probe.Id, 'nslookup', 'web.e1.localhost'], { encoding: 'utf8' });
  assert.ok(web?.ip);
  assert.match(`${lookup.stdout}${lookup.stderr}`, new RegExp(`Address:? +${web.ip.replace(/\./g, '\\.')}\\b`), 'inside a container the name is the container address');
  assert.doesNotMatch(lookup.stdout.split(/\n\n/).slice(1).join('\n'), /127\.0\.0\.1/);

  // doctor expects 127.0.0.1 for the names of a router-mode environment, not its container addresses.
  const doctor = await h.cli(['doctor', '--json']);
  const findings = (JSON.parse(doctor.stdout) as { findings?: { kind: string; message: string }[] }).findings ?? [];
  assert.deepEqual(findings.filter((f) => f.kind === 'env.dns-record'), [], doctor.stdout);

  // The dashboard: the same URLs, http and https, in the list and on the environment's page.
  const ui = await startUi(h, ['--all']);
  cleanups.push(() => ui.stop());
  const cookie = await signIn(ui);
  const snap = JSON.parse((await httpRequest(ui.port, 'GET', '/api/snapshot', { headers: { cookie } })).body) as { environments: { name: string; url: string; urls: unknown }[] };
  assert.deepEqual(snap.environments.map((e) => [e.name, e.url, e.urls]), [['e1', `http://${project}.e1.localhost:${http}`, { http: `http://${project}.e1.localhost:${http}`, https: `https://${project}.e1.localhost:${https}` }]]);
  const page = JSON.parse((await httpRequest(ui.port, 'GET', '/api/env/e1', { headers: { cookie } })).body) as { urls: unknown; services: { name: string; urls: unknown }[] };
  assert.deepEqual(page.urls, { http: `http://${project}.e1.localhost:${http}`, https: `https://${project}.e1.localhost:${https}` });
  assert.deepEqual(page.services.find((s) => s.name === 'web')?.urls, { http: `http://web.e1.localhost:${http}`, https: `https://web.e1.localhost:${https}` });
  await ui.stop();

  // Back to direct: the host gets container addresses again and URLs name the container port.
  const direct = await h.cli(['init', '--routing', 'direct']);
  assert.equal(direct.code, 0, direct.stderr);
  assert.match(direct.stderr, /at their next `cilo up`/);
  await waitForAddresses(h.dnsPort, 'web.e1.localhost', [web.ip], 'routing direct');
  const st = await h.cli(['status', 'e1', '--json']);
  const d = JSON.parse(st.stdout) as typeof m;
  assert.equal(d.routing, 'direct');
  assert.deepEqual(d.services.find((s) => s.name === 'web')?.urls, { http: 'http://web.e1.localhost:8080', https: null });
  assert.equal(d.url, `http://${project}.e1.localhost`);
});
