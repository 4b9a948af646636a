/**
 * The loopback router (issue #25) against the real engine and a real Caddy (Debian's package,
 * test/support/caddy-image.ts): requests by Host header to 127.0.0.1:<port> reach the right
 * environment and service; routes follow up, hostnames, down, pause and destroy live; a change
 * for one environment never drops a request to another (it is no config load at all); HTTPS
 * certificates issued on demand from cilo's CA; the router goes with the last environment. And
 * `auto` on this machine (root reaches containers): direct, no router left.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CADDY_IMAGE, ensureCaddyImage } from '../support/caddy-image.js';
import { getByHost as get, getTlsByHost as getTls, type Answer } from '../support/by-host.js';
import { copyFixture, docker, doctorJson, editState, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome, freeLoopbackPort } from './helpers.js';

let skip: string | undefined;
before(() => {
  ensureFixtureImage();
  skip = ensureCaddyImage();
});




/** A name no running environment serves: a 404 (no such name) or a 502 (no container answers it) that says so. */
function assertNotServed(a: Answer, host: string): void {
  assert.ok(a.status === 404 || a.status === 502, `${host}: ${a.status} ${a.body}`);
  assert.equal(a.body, `cilo: no running environment serves ${host}`);
}

/** Caddy's saved config and how many configs it has saved (one log line each: a load that changed something). */
async function caddyConfigState(container: string): Promise<{ config: string; loads: number }> {
  const saved = spawnSync('docker', ['exec', container, 'cat', '/config/caddy/autosave.json'], { encoding: 'utf8' });
  const logs = spawnSync('docker', ['logs', container], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { config: saved.stdout, loads: `${logs.stdout}${logs.stderr}`.split('\n').filter((l) => l.includes('"msg":"autosaved config')).length };
}

/** This home's router containers (labelled cilo.router and with the home's id, as src/state/paths.ts homeId makes it). */
async function routerContainers(h: TestHome) {
  const home = createHash('sha256').update(h.home).digest('hex').slice(0, 12);
  return docker.listContainers({ label: ['cilo.router=true', `cilo.home=${home}`] }, true);
}

function routing(h: TestHome): { mode: string; resolved?: Record<string, { mode: string; why: string; engine_id: string }> } | undefined {
  return (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { routing?: { mode: string } }).routing;
}

describe('loopback router', () => {
  let h: TestHome;
  let dir: string;
  let http = 0;
  let https = 0;
  const project = uid('rt');
  before(async () => {
    if (skip) return;
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    http = await freeLoopbackPort();
    https = await freeLoopbackPort();
    dir = copyFixture('router-web', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n` });
    const init = await h.cli(['init', '--routing', 'router', '--router-http-port', String(http), '--router-https-port', String(https)]);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    if (h) await tearDown(h, project, dir);
  });

  test('two environments at once: each name reaches its environment and service through 127.0.0.1', async (t) => {
    if (skip) return t.skip(skip);
    for (const env of ['a1', 'a2']) {
      const r = await h.cli(['up', env, '--timeout', '90'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
    }
    const [router] = await routerContainers(h);
    assert.ok(router, 'the router container is made with the first environment');
    assert.ok((router.Ports ?? []).filter((p) => p.PublicPort !== undefined).every((p) => p.IP === '127.0.0.1'), `published on 127.0.0.1 only: ${JSON.stringify(router.Ports)}`);
    assert.deepEqual(await get(http, `${project}.a1.test`), { status: 200, body: 'web-a1' });
    assert.deepEqual(await get(http, `${project}.a2.test`), { status: 200, body: 'web-a2' });
    assert.deepEqual(await get(http, 'api.a1.test'), { status: 200, body: 'api-a1' });
    assert.deepEqual(await get(http, 'web.a2.test'), { status: 200, body: 'web-a2' });
    assert.deepEqual(await get(http, `x.${project}.a2.test`), { status: 200, body: 'web-a2' }, 'the wildcard below the apex');
    assert.deepEqual(await get(http, `y.x.${project}.a2.test`), { status: 200, body: 'web-a2' }, 'two labels below the apex');
    // Below a name that is no project's apex: nothing (not a lookup of the parent name).
    assert.deepEqual(await get(http, 'x.api.a2.test'), { status: 404, body: 'cilo: no running environment serves x.api.a2.test' });
    // A name under the suffix with no running container: Docker's DNS finds nothing, a 502 that says so.
    const none = await get(http, 'nothing.a9.test');
    assert.equal(none.status, 502);
    assert.equal(none.body, 'cilo: no running environment serves nothing.a9.test');
    // Only names under a routed suffix are proxied: the router is no proxy to anything else.
    const other = await get(http, 'example.com');
    assert.equal(other.status, 404);
    assert.equal(other.body, 'cilo: no running environment serves example.com');
    // On each environment's network at .9, the address no service gets.
    const info = await docker.inspectContainer(router.Id);
    const state = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { subnet: string }> };
    for (const env of ['a1', 'a2']) {
      const subnet = state.environments[env]?.subnet ?? '';
      assert.equal(info?.NetworkSettings.Networks[`cilo_${project}_${env}`]?.IPAddress, subnet.replace(/\.0\/24$/, '.9'));
    }
  });

  test('HTTPS by SNI: the names of each environment (a2 made after the router) with a certificate issued on demand from the CA of cilo, verified against the CA file alone', async (t) => {
    if (skip) return t.skip(skip);
    const ca = readFileSync(join(h.home, 'ca', 'cilo-ca.crt'), 'utf8');
    assert.deepEqual(await getTls(https, `${project}.a1.test`, ca), { status: 200, body: 'web-a1' });
    assert.deepEqual(await getTls(https, 'api.a2.test', ca), { status: 200, body: 'api-a2' });
    assert.deepEqual(await getTls(https, `deep.${project}.a2.test`, ca), { status: 200, body: 'web-a2' }, 'the apex wildcard has its own *.<project>.<env> name');
    // Without the CA (Node's own roots only) the certificate is refused: the check is real.
    await assert.rejects(getTls(https, 'api.a1.test', undefined), /self.signed|unable to (get|verify)|certificate/i);
    // Certificates only for names under a routed suffix: no handshake for anything else.
    await assert.rejects(getTls(https, 'example.com', ca));
  });

  test("the router holds a name-constrained intermediate, never the root's key; curl trusting the root alone verifies the chain; the root's files an older cilo copied in are removed", async (t) => {
    if (skip) return t.skip(skip);
    const [router] = await routerContainers(h);
    assert.ok(router);
    const rootKey = readFileSync(join(h.home, 'ca', 'cilo-ca.key'), 'utf8');
    const rootCert = join(h.home, 'ca', 'cilo-ca.crt');
    const inContainer = (cmd: string, input?: string) => spawnSync('docker', ['exec', ...(input === undefined ? [] : ['-i']), router.Id, 'sh', '-c', cmd], { encoding: 'utf8', ...(input === undefined ? {} : { input }) });
    const noRootKey = () => {
      assert.deepEqual(inContainer('ls /data/cilo-ca').stdout.trim().split('\n').sort(), ['intermediate.crt', 'intermediate.key']);
      // Nowhere in Caddy's data or config is a line of the root's key.
      const line = rootKey.split('\n')[1] ?? '';
      assert.ok(line.length > 40);
      const found = inContainer(`grep -rlF -- '${line}' /data /config /etc /tmp`);
      assert.equal(found.status, 1, `the root's key is in the router: ${found.stdout}${found.stderr}`);
    };
    noRootKey();

    const name = `api.a1.test`;
    const curl = spawnSync('curl', ['-sS', '--max-time', '10', '--cacert', rootCert, '--resolve', `${name}:${https}:127.0.0.1`, `https://${name}:${https}/`], { encoding: 'utf8' });
    assert.equal(curl.status, 0, curl.stderr);
    assert.equal(curl.stdout.trim(), 'api-a1');

    // The chain the router sends: leaf, then the intermediate (signed by the root) with critical name constraints on the routed suffix.
    const socket = tlsConnect({ host: '127.0.0.1', port: https, servername: name, ca: readFileSync(rootCert, 'utf8') });
    await once(socket, 'secureConnect');
    const leaf = socket.getPeerCertificate(true);
    socket.destroy();
    const inter = leaf.issuerCertificate;
    assert.ok(inter && inter.raw && !inter.raw.equals(leaf.raw), 'the intermediate is sent');
    const interX = new X509Certificate(inter.raw);
    const root = new X509Certificate(readFileSync(rootCert));
    assert.equal(new X509Certificate(leaf.raw).checkIssued(interX), true, 'the leaf is signed by the intermediate');
    assert.equal(interX.checkIssued(root) && interX.verify(root.publicKey), true, 'the intermediate by the root');
    const nc = AsnConvert.parse(inter.raw, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === id_ce_nameConstraints);
    assert.equal(nc?.critical, true);
    assert.deepEqual([...(AsnConvert.parse(nc.extnValue.buffer, NameConstraints).permittedSubtrees ?? [])].map((s) => s.base.dNSName), ['test']);

    // A router an older cilo set up had the root's certificate and key here: the next sync removes them.
    assert.equal(inContainer(`cat > /data/cilo-ca/ca.key`, rootKey).status, 0);
    assert.equal(inContainer(`cat > /data/cilo-ca/ca.crt`, readFileSync(rootCert, 'utf8')).status, 0);
    assert.match(inContainer('ls /data/cilo-ca').stdout, /ca\.key/);
    assert.equal((await h.cli(['up', 'a1', '--timeout', '90'], { cwd: dir })).code, 0);
    noRootKey();
    assert.deepEqual(await getTls(https, name, readFileSync(rootCert, 'utf8')), { status: 200, body: 'api-a1' });
  });

  test('routes follow hostnames, down, pause and up at once', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal((await h.cli(['hostnames', 'add', 'a1', 'admin', 'docs.v2'])).code, 0);
    assert.deepEqual(await get(http, 'admin.a1.test'), { status: 200, body: 'web-a1' });
    assert.deepEqual(await get(http, 'docs.v2.a1.test'), { status: 200, body: 'web-a1' });
    // A deeper hostname gets its parent's wildcard on the environment's certificate at once.
    assert.deepEqual(await getTls(https, 'docs.v2.a1.test', readFileSync(join(h.home, 'ca', 'cilo-ca.crt'), 'utf8')), { status: 200, body: 'web-a1' });
    assert.equal((await h.cli(['hostnames', 'remove', 'a1', 'admin'])).code, 0);
    assertNotServed(await get(http, 'admin.a1.test'), 'admin.a1.test');
    // After an up, a hostname is its container's alias: served through Docker's DNS, and still
    // gone at once when removed (its alias stays until the next up).
    assert.equal((await h.cli(['hostnames', 'add', 'a1', 'admin'])).code, 0);
    assert.equal((await h.cli(['up', 'a1', '--timeout', '90'], { cwd: dir })).code, 0);
    assert.deepEqual(await get(http, 'admin.a1.test'), { status: 200, body: 'web-a1' });
    assert.equal((await h.cli(['hostnames', 'remove', 'a1', 'admin'])).code, 0);
    assertNotServed(await get(http, 'admin.a1.test'), 'admin.a1.test');

    assert.equal((await h.cli(['down', 'a2'])).code, 0);
    assertNotServed(await get(http, `${project}.a2.test`), `${project}.a2.test`);
    assert.deepEqual(await get(http, `${project}.a1.test`), { status: 200, body: 'web-a1' });
    assert.equal((await h.cli(['down', 'a2', '--pause'])).code, 0);
    assert.equal((await h.cli(['up', 'a2', '--timeout', '90'], { cwd: dir })).code, 0);
    assert.deepEqual(await get(http, `${project}.a2.test`), { status: 200, body: 'web-a2' });

    assert.equal((await h.cli(['down', 'a2', '--pause'])).code, 0);
    assertNotServed(await get(http, 'api.a2.test'), 'api.a2.test');
    assert.equal((await h.cli(['up', 'a2', '--timeout', '90'], { cwd: dir })).code, 0);
    assert.deepEqual(await get(http, 'api.a2.test'), { status: 200, body: 'api-a2' });
  });

  // Caddy 2.6 resets a connection or so at every config load: an environment's coming and going
  // is no load at all (the router is connected to its network; Docker's DNS finds its names).
  test('a change for one environment never drops a request to another: no config load for its up, down and destroy', async (t) => {
    if (skip) return t.skip(skip);
    const [router] = await routerContainers(h);
    assert.ok(router);
    let stop = false;
    const failures: string[] = [];
    const served = { fresh: 0, kept: 0 };
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const loop = async (kind: 'fresh' | 'kept'): Promise<void> => {
      while (!stop) {
        try {
          const r = await get(http, `${project}.a1.test`, 5000, kind === 'kept' ? keepAlive : false);
          if (r.status === 200 && r.body === 'web-a1') served[kind]++;
          else failures.push(`${kind}: ${r.status} ${r.body}`);
        } catch (e) {
          failures.push(`${kind}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    const before = await caddyConfigState(router.Id);
    const loops = Promise.all([loop('fresh'), loop('kept')]);
    try {
      const up = await h.cli(['up', 'b3', '--timeout', '90'], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
      assert.deepEqual(await get(http, `${project}.b3.test`), { status: 200, body: 'web-b3' });
      assert.deepEqual(await get(http, 'api.b3.test'), { status: 200, body: 'api-b3' });
      // Made after the router started: its certificate is issued at the first handshake.
      assert.deepEqual(await getTls(https, `${project}.b3.test`, readFileSync(join(h.home, 'ca', 'cilo-ca.crt'), 'utf8')), { status: 200, body: 'web-b3' });
      assert.equal((await h.cli(['down', 'b3'])).code, 0);
      assertNotServed(await get(http, `${project}.b3.test`), `${project}.b3.test`);
      assert.equal((await h.cli(['up', 'b3', '--timeout', '90'], { cwd: dir })).code, 0);
      assert.deepEqual(await get(http, `${project}.b3.test`), { status: 200, body: 'web-b3' });
      const destroy = await h.cli(['destroy', 'b3', '--force']);
      assert.equal(destroy.code, 0, destroy.stderr);
      assertNotServed(await get(http, `${project}.b3.test`), `${project}.b3.test`);
    } finally {
      stop = true;
      await loops;
      keepAlive.destroy();
    }
    const after = await caddyConfigState(router.Id);
    t.diagnostic(`served to a1 while b3 came and went: ${JSON.stringify(served)}; configs loaded before: ${before.loads}, after: ${after.loads}`);
    assert.ok(before.loads >= 1 && before.config.includes('"apps"'), 'the check is real: the router loaded its config before');
    assert.deepEqual(failures, [], `requests to a1 failed while b3 came and went (${JSON.stringify(served)} served)`);
    assert.ok(served.fresh > 10 && served.kept > 10, `the loops ran (${JSON.stringify(served)})`);
    assert.equal(after.loads, before.loads, 'no config was loaded for b3');
    assert.equal(after.config, before.config);
  });

  test('router status and doctor: mode, ports, container, routes; a missing router is found and made again', async (t) => {
    if (skip) return t.skip(skip);
    const st = await h.cli(['router', 'status', '--json']);
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout) as { mode: string; effective: string; http_port: number; container: { name: string; state: string; ports: string[] } | null; routes: { host: string; env: string }[]; in_sync: boolean | null };
    assert.equal(s.mode, 'router');
    assert.equal(s.effective, 'router');
    assert.equal(s.http_port, http);
    assert.equal(s.container?.state, 'running');
    assert.ok(s.container?.ports.includes(`127.0.0.1:${http}->80/tcp`), JSON.stringify(s.container));
    assert.ok(s.routes.some((r) => r.host === `${project}.a1.test` && r.env === 'a1'));
    assert.equal(s.in_sync, true);
    const plain = await h.cli(['router', 'status']);
    assert.match(plain.stdout, /Mode: +router/);
    assert.match(plain.stdout, new RegExp(`${project}\\.a2\\.test +a2 +web`));

    const clean = await doctorJson(h);
    assert.deepEqual(clean.findings.filter((f) => f.kind.startsWith('router.')), []);
    // The router's own network belongs to no environment, and is no orphan (--fix would remove the router with it).
    assert.deepEqual(clean.findings.filter((f) => f.kind.startsWith('orphan.')), [], JSON.stringify(clean.findings));
    const [router] = await routerContainers(h);
    assert.ok(router);
    await docker.removeContainer(router.Id, { force: true, volumes: true });
    const broken = await doctorJson(h);
    assert.deepEqual(broken.findings.filter((f) => f.kind.startsWith('router.')).map((f) => f.kind), ['router.missing']);
    const fixed = await doctorJson(h, '--fix');
    assert.ok(fixed.findings.some((f) => f.kind === 'router.missing' && f.fixed === true), JSON.stringify(fixed.findings));
    assert.deepEqual(await get(http, 'api.a1.test'), { status: 200, body: 'api-a1' });
  });

  test('the router goes with the last environment', async (t) => {
    if (skip) return t.skip(skip);
    assert.equal((await h.cli(['destroy', 'a1', '--force'])).code, 0);
    assert.equal((await routerContainers(h)).length, 1, 'a2 still needs it');
    assert.equal((await h.cli(['destroy', 'a2', '--force'])).code, 0);
    await waitFor(async () => (await routerContainers(h)).length === 0, { what: 'the router container to be removed', deadlineMs: 30_000, intervalMs: 200 });
    const home = createHash('sha256').update(h.home).digest('hex').slice(0, 12);
    assert.deepEqual((await docker.listNetworks({ name: [`cilo-router-${home}`] })).filter((n) => n.Name === `cilo-router-${home}`), [], 'its own network goes with it');
  });
});

describe('routing auto on a machine that reaches containers', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('ra');
  before(() => {
    if (skip) return;
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    // app-sleep's one service has no port: the probe asks the router's own :80.
    dir = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}\n` });
  });
  after(async () => {
    if (h) await tearDown(h, project, dir);
  });

  test('the first up finds direct, records it for the engine, and leaves no router', async (t) => {
    if (skip) return t.skip(skip);
    // High router ports: the probe's router must not compete for 80/443 with anything else here.
    const [http, https] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const init = await h.cli(['init', '--routing', 'auto', '--router-http-port', String(http), '--router-https-port', String(https)]);
    assert.equal(init.code, 0, init.stderr);
    const r = await h.cli(['up', 'p1', '--timeout', '90'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const found = routing(h)?.resolved?.[''];
    assert.equal(found?.mode, 'direct', JSON.stringify(routing(h)));
    assert.match(found?.why ?? '', /connect to the router at \d+\.\d+\.\d+\.9:80: connected/);
    assert.ok((found?.engine_id ?? '') !== '');
    assert.equal((await routerContainers(h)).length, 0, 'direct: the router made to ask is removed');
    const st = JSON.parse((await h.cli(['router', 'status', '--json'])).stdout) as { mode: string; effective: string; probe: { mode: string } | null; routes: unknown[] };
    assert.deepEqual([st.mode, st.effective, st.probe?.mode, st.routes.length], ['auto', 'direct', 'direct', 0]);
  });
});

describe('a router that cannot start', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('rf');
  before(() => {
    if (skip) return;
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    dir = copyFixture('router-web', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n` });
  });
  after(async () => {
    if (h) await tearDown(h, project, dir);
  });

  test('its port taken: up still succeeds with a warning that says so, and no router container is left', async (t) => {
    if (skip) return t.skip(skip);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const addr = taken.address();
    const port = addr && typeof addr === 'object' ? addr.port : 0;
    try {
      const https = await freeLoopbackPort();
      // Written as a later change of the machine would leave it: init refuses nothing here, but it would warn.
      await editState(h, (s) => {
        s.routing = { mode: 'router', http_port: port, https_port: https };
      });
      const r = await h.cli(['up', 'f1', '--json', '--timeout', '90'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const m = JSON.parse(r.stdout) as { status: string; warnings: string[] };
      assert.equal(m.status, 'running');
      assert.ok(m.warnings.some((w) => w.includes('loopback router could not be updated') && w.includes(`127.0.0.1:${port}`)), JSON.stringify(m.warnings));
      assert.equal((await routerContainers(h)).length, 0, 'nothing half-made');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // Once the port is free, the next change makes it.
    assert.equal((await h.cli(['up', 'f1', '--timeout', '90'], { cwd: dir })).code, 0);
    assert.equal((await routerContainers(h)).length, 1);
    assert.deepEqual(await get(port, 'web.f1.test'), { status: 200, body: 'web-f1' });
  });
});
