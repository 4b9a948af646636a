/**
 * Environments on a remote Docker engine (issue 19), on one machine: the setup builds a fake
 * remote host (test/support/fake-remote.ts: a network namespace behind a veth pair on
 * 192.0.2.0/24, its own mount namespace with a second dockerd and an sshd), loads the fixture
 * image into its engine over SSH, and removes all of it afterwards, checking nothing is left.
 * Skipped, with the reason printed, where root, /dev/net/tun or the packages are missing.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { get } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { overlaps, parseCidr } from '../../src/domain/subnet.js';
import { tunnelInterface } from '../../src/domain/hosts.js';
import { resolveA } from '../support/dns-query.js';
import { DB_IMAGES, ensureDbImages } from '../support/fixture-images.js';
import { CADDY_IMAGE, ensureCaddyImage } from '../support/caddy-image.js';
import { fakeRemoteUnavailable, processesOfContainers, startFakeRemote, type FakeRemote } from '../support/fake-remote.js';
import { http, openEvents, signIn, startUi } from './ui-helpers.js';
import { copyFixture, docker, ensureFixtureImage, FIXTURE_IMAGE, makeHome, removeProjectResources, uid, waitFor, type TestHome, freeLoopbackPort } from './helpers.js';

const skip = fakeRemoteUnavailable();
if (skip) console.log(`# remote.test.ts skipped: ${skip}`);

const P = uid('rw');
/** The project with a private redis index per environment, on this machine and on the host. */
const P2 = uid('rd');
/** The project with a named volume, forked on the host. */
const P3 = uid('rf');
const dbSkip = skip ? undefined : ensureDbImages();
if (dbSkip) console.log(`# remote.test.ts: the datasets test is skipped: ${dbSkip}`);
const HOST = 'box';
let h: TestHome;
let fake: FakeRemote | undefined;
let project: string;
let project2: string | undefined;
let project3: string | undefined;
/** Every container the fake machine's engine had, to check none of their processes outlives it. */
const remoteContainers = new Set<string>();

function sshTo(f: FakeRemote): string[] {
  return ['-i', f.identity, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${f.ip}`];
}

/** `docker save | ssh box docker load`: the remote engine has no registry either. */
function loadImageOverSsh(f: FakeRemote, image = FIXTURE_IMAGE): void {
  const r = spawnSync('sh', ['-c', `docker save ${image} | ssh ${sshTo(f).map((a) => `'${a}'`).join(' ')} docker load`], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `loading the image over ssh failed: ${r.stderr}`);
}

function fetchText(url: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** GET / from ip:port through a SOCKS5 proxy on 127.0.0.1 (RFC 1928, no authentication). */
function httpViaSocks5(proxyPort: number, ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(proxyPort, '127.0.0.1');
    let stage = 0;
    let body = '';
    s.setTimeout(30_000, () => s.destroy(new Error('the SOCKS5 proxy did not answer within 30 s')));
    s.on('error', reject);
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('data', (d: Buffer) => {
      if (stage === 0) {
        stage = 1;
        const addr = ip.split('.').map(Number);
        s.write(Buffer.from([5, 1, 0, 1, ...addr, port >> 8, port & 255]));
      } else if (stage === 1) {
        if (d[1] !== 0) return reject(new Error(`the SOCKS5 proxy refused the connection (reply ${d[1]})`));
        stage = 2;
        s.write(`GET / HTTP/1.0\r\nHost: ${ip}\r\n\r\n`);
      } else body += d.toString();
    });
    s.on('end', () => resolve(body));
  });
}

/** Sends SELECT <index> and one command to the redis a `redis://127.0.0.1:PORT/N` DSN names, from this machine; the command's reply without its line end. */
function redisOn(dsn: string, command: string): Promise<string> {
  const url = new URL(dsn);
  return new Promise((resolve, reject) => {
    const s = connect(Number(url.port), '127.0.0.1');
    let got = '';
    s.setTimeout(15_000, () => s.destroy(new Error(`no answer from ${dsn} within 15 s`)));
    s.on('error', reject);
    s.on('connect', () => s.write(`SELECT ${url.pathname.slice(1)}\r\n${command}\r\n`));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      const m = /^\+OK\r\n([\s\S]*?)\r\n(?:([\s\S]*?)\r\n)?$/.exec(got);
      if (m && (!m[1]?.startsWith('$') || m[1] === '$-1' || m[2] !== undefined)) {
        s.destroy();
        resolve(m[2] === undefined ? (m[1] ?? '') : `${m[1]}\r\n${m[2]}`);
      }
    });
  });
}

function remoteLabelled(f: FakeRemote, kind: 'ps' | 'network', env: string): string[] {
  const args = kind === 'ps' ? ['ps', '-aq'] : ['network', 'ls', '-q'];
  const r = f.docker([...args, '--filter', `label=cilo.env=${env}`]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

async function stateOf(): Promise<{ environments: Record<string, { subnet: string; host?: string; services: Record<string, { ip: string }> }>; hosts?: Record<string, { subnet: string }> }> {
  return JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));
}

function getViaLoopback(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path: '/', headers: { host }, timeout: 10_000 }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function getHttpsViaLoopback(port: number, servername: string, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, servername, ca, headers: { host: servername }, timeout: 10_000 }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Everything this file made, removed whatever state it is in; returns what was left before the fake machine went. */
async function teardown(): Promise<void> {
  if (h) {
    await h.cli(['destroy', '--all', '--force', '--forget']).catch(() => undefined);
    await h.cli(['host', 'rm', HOST]).catch(() => undefined);
    await h.cleanup().catch(() => undefined);
    await removeProjectResources(P).catch(() => undefined);
    await removeProjectResources(P2).catch(() => undefined);
    await removeProjectResources(P3).catch(() => undefined);
  }
  fake?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
  if (project2) rmSync(project2, { recursive: true, force: true });
  if (project3) rmSync(project3, { recursive: true, force: true });
}

describe('remote hosts', { skip }, () => {
  before(async () => {
    ensureFixtureImage();
    h = makeHome();
    project = copyFixture('remote-web');
    fake = startFakeRemote();
    loadImageOverSsh(fake);
  });
  after(teardown);

  test('host add shows the key fingerprint first, then trusts only that key, checks the engine and gives a range', async () => {
    const f = fake as FakeRemote;
    const first = await h.cli(['host', 'add', HOST, `ssh://root@${f.ip}`, '-i', f.identity]);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /not trusted yet/);
    assert.ok(first.stderr.includes(f.hostKeyFingerprint), `the fingerprint ${f.hostKeyFingerprint} is shown: ${first.stderr}`);
    const wrong = await h.cli(['host', 'add', HOST, `ssh://root@${f.ip}`, '-i', f.identity, '--accept-host-key', 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not SHA256:AAAA/);

    const added = await h.cli(['host', 'add', HOST, `ssh://root@${f.ip}`, '-i', f.identity, '--accept-host-key', f.hostKeyFingerprint, '--transport', 'wireguard', '--json']);
    assert.equal(added.code, 0, added.stderr);
    const host = (JSON.parse(added.stdout) as { host: { engine_id: string; subnet: string } }).host;
    assert.notEqual(host.engine_id, (await docker.info()).ID, "the remote engine is not this machine's");
    assert.ok(readFileSync(join(h.home, 'hosts', 'known_hosts'), 'utf8').includes(f.ip));

    const again = await h.cli(['host', 'add', 'box-again', `ssh://root@${f.ip}`, '-i', f.identity]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /engine reached through host "box-again" is the one of host "box"/);
    // A Docker context names the same engine: resolved to its ssh:// endpoint, and refused alike.
    const dockerConfig = mkdtempSync(join(tmpdir(), 'cilo-rt-docker-config-'));
    try {
      const env = { DOCKER_CONFIG: dockerConfig };
      const made = spawnSync('docker', ['context', 'create', 'rt-box', '--docker', `host=ssh://root@${f.ip}`], { encoding: 'utf8', env: { ...process.env, ...env } });
      assert.equal(made.status, 0, made.stderr);
      const byContext = await h.cli(['host', 'add', 'box-context', 'rt-box', '-i', f.identity], { env });
      assert.equal(byContext.code, 1);
      assert.match(byContext.stderr, /is the one of host "box"/);
      const noContext = await h.cli(['host', 'add', 'box-none', 'no-such-context'], { env });
      assert.equal(noContext.code, 2);
      assert.match(noContext.stderr, /neither an SSH destination nor a Docker context/);
    } finally {
      rmSync(dockerConfig, { recursive: true, force: true });
    }

    const status = await h.cli(['host', 'status', HOST, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { reachable: boolean; engine_version: string; tunnel: { up: boolean; interface: string } };
    assert.equal(s.reachable, true);
    assert.equal(s.tunnel.up, true);
    assert.equal(s.tunnel.interface, tunnelInterface(host.subnet));
    const list = JSON.parse((await h.cli(['host', 'list', '--json'])).stdout) as { hosts: { name: string; subnet: string }[] };
    assert.deepEqual(list.hosts.map((x) => x.name), [HOST]);
  });

  test('up --host runs the project on the remote engine, its bind-mounted file from the synced copy', async () => {
    const f = fake as FakeRemote;
    const logins = (): number => (readFileSync(join(f.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length;
    const loginsBefore = logins();
    const up = await h.cli(['up', 'far', '--host', HOST, '--project', P], { cwd: project });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(remoteLabelled(f, 'ps', 'far').length, 2, 'both containers run on the remote engine');
    assert.equal((await docker.listContainers({ label: ['cilo.env=far'] })).length, 0, 'none on this machine');
    const sharedName = `cilo_shared_${P}_cache`;
    assert.match(f.docker(['ps', '--filter', `name=${sharedName}`, '--format', '{{.Names}} {{.State}}']).stdout, new RegExp(`${sharedName} running`), 'the shared service runs on the host');
    assert.equal(await docker.inspectContainer(sharedName), null, 'and not here');
    const generated = readFileSync(join(h.home, 'generated', P, 'far', 'compose.yml'), 'utf8');
    assert.match(generated, /source: \/root\/\.cilo-remote\//, 'the bind mount points at the copy on the host');
    const exec = await h.cli(['exec', 'far', 'api', 'cat', '/www/index.html']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout.trim(), 'hello from the remote workspace');
    const st = await h.cli(['status', 'far']);
    assert.match(st.stdout, /Status:\s+running/);
    assert.match(st.stdout, /Host:\s+box/);
    const logs = await h.cli(['logs', 'far', 'api', '--tail', '5']);
    assert.equal(logs.code, 0, logs.stderr);
    const net = JSON.parse((await h.cli(['network', 'status', '--json'])).stdout) as { environments: { name: string; subnet: string; network_subnet: string | null; in_range: boolean; host?: string }[] };
    const far = net.environments.find((e) => e.name === 'far');
    assert.deepEqual(far && [far.network_subnet === far.subnet, far.in_range, far.host], [true, true, HOST], 'network status reads the network from the host engine');
    const ps = await h.cli(['compose', 'far', 'ps', '--services']);
    assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['api', 'worker'], ps.stderr);
    // down keeps the containers on the host, stopped; the next up starts them again there.
    const down = await h.cli(['down', 'far']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=far', '--format', '{{.State}}']).stdout, /^(exited\n)+$/);
    const again = await h.cli(['up', 'far']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=far', '--format', '{{.State}}']).stdout, /^(running\n)+$/);
    assert.equal(logins(), loginsBefore, 'every command (sync, engine, compose, exec) rode on the one SSH connection: no new login');
  });

  test("the dashboard shows the remote environment from the host's engine: its state, its services, its logs, its changes", async () => {
    const f = fake as FakeRemote;
    // A line on the worker's output (PID 1 is the init process compose's `init: true` adds).
    const marker = `marker-${process.pid}`;
    const printed = await h.cli(['exec', 'far', 'worker', 'sh', '-c', `echo ${marker} > /proc/1/fd/1`]);
    assert.equal(printed.code, 0, printed.stderr);
    const u = await startUi(h, ['--all']);
    try {
      const cookie = await signIn(u);
      const snap = JSON.parse((await http(u.port, 'GET', '/api/snapshot', { headers: { cookie } })).body) as { environments: { name: string; status: string; health: { level: string } }[] };
      const row = snap.environments.find((e) => e.name === 'far');
      assert.deepEqual([row?.status, row?.health.level], ['running', 'ok'], JSON.stringify(snap.environments));
      const detail = JSON.parse((await http(u.port, 'GET', '/api/env/far', { headers: { cookie } })).body) as { status: string; services: { name: string; state: string }[] };
      assert.equal(detail.status, 'running');
      assert.deepEqual(detail.services.map((s) => [s.name, s.state]).sort(), [['api', 'running'], ['cache', 'running'], ['worker', 'running']]);
      const logs = await openEvents(u.port, '/api/env/far/logs?service=worker&tail=20', cookie);
      try {
        assert.deepEqual(await logs.next('line', (d) => (d as { line: string }).line === marker), { service: 'worker', line: marker });
      } finally {
        logs.close();
      }
      // A container stopped on the host by other means than cilo: the host engine's events
      // bring the page a new snapshot, and again when it runs again.
      const farHealth = (d: unknown): string | undefined => (d as { environments: { name: string; health: { text: string } }[] }).environments.find((e) => e.name === 'far')?.health.text;
      const events = await openEvents(u.port, '/api/events', cookie);
      const worker = f.docker(['ps', '-q', '--filter', 'label=cilo.env=far', '--filter', 'label=com.docker.compose.service=worker']).stdout.trim();
      assert.notEqual(worker, '');
      try {
        await events.next('snapshot', (d) => farHealth(d) === '3/3 running');
        assert.equal(f.docker(['stop', '-t', '0', worker]).status, 0);
        const stopped = (await events.next('snapshot', (d) => farHealth(d) === '2/3 running')) as { generated_at: string };
        assert.equal(f.docker(['start', worker]).status, 0);
        await events.next('snapshot', (d) => farHealth(d) === '3/3 running' && (d as { generated_at: string }).generated_at > stopped.generated_at);
      } finally {
        f.docker(['start', worker]);
        events.close();
      }
    } finally {
      await u.stop();
    }
  });

  test("api.<env>.test resolves through cilo's DNS to the remote container, which answers through the tunnel", async () => {
    const state = await stateOf();
    const ip = state.environments.far?.services.api?.ip ?? '';
    const answers = await resolveA(h.dnsPort, 'api.far.test');
    assert.deepEqual(answers, [ip]);
    assert.ok(overlaps(parseCidr(`${ip}/24`), parseCidr(state.hosts?.[HOST]?.subnet ?? '')), 'the address is in the host range');
    assert.equal((await fetchText(`http://${answers[0]}/`)).trim(), 'hello from the remote workspace');
    assert.deepEqual(await resolveA(h.dnsPort, 'cache.far.test'), [state.environments.far?.services.cache?.ip ?? '']);
  });

  test("without root: the same address answers through the host connection's SOCKS5 proxy", async () => {
    const ip = (await stateOf()).environments.far?.services.api?.ip ?? '';
    const hs = JSON.parse((await h.cli(['host', 'status', HOST, '--json'])).stdout) as { socks: string };
    const [, port] = hs.socks.split(':');
    assert.match(await httpViaSocks5(Number(port), ip, 80), /hello from the remote workspace/);
  });

  test('in router mode the router runs on the host, and its ports answer on this machine through the SSH connection (HTTP and HTTPS)', async () => {
    const why = ensureCaddyImage();
    if (why) return void console.log(`# router on a host skipped: ${why}`);
    const f = fake as FakeRemote;
    loadImageOverSsh(f, CADDY_IMAGE);
    const [httpPort, httpsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    const env = { CILO_ROUTER_IMAGE: CADDY_IMAGE };
    try {
      const init = await h.cli(['init', '--routing', 'router', '--router-http-port', String(httpPort), '--router-https-port', String(httpsPort)], { env });
      assert.equal(init.code, 0, init.stderr);
      const up = await h.cli(['up', 'far'], { env });
      assert.equal(up.code, 0, up.stderr);
      assert.doesNotMatch(up.stderr, /router could not be updated/, up.stderr);
      const routers = f.docker(['ps', '--filter', 'label=cilo.router=true', '--format', '{{.Names}} {{.State}}']).stdout;
      assert.match(routers, /cilo-router-\S+ running/, 'the router runs on the host');
      const routerName = routers.trim().split(' ')[0] ?? '';
      assert.equal(await docker.inspectContainer(routerName), null, 'and not on this machine');
      // The host's 127.0.0.1 ports, forwarded here over the one SSH connection.
      const body = await waitFor(async () => (await getViaLoopback(httpPort, 'api.far.test').catch(() => '')).includes('hello from the remote workspace') && 'ok', { what: 'the router on the host to answer here', deadlineMs: 60_000, intervalMs: 500 });
      assert.equal(body, 'ok');
      const ca = (await h.cli(['trust', '--print'])).stdout.trim();
      assert.match(await getHttpsViaLoopback(httpsPort, 'api.far.test', readFileSync(ca)), /hello from the remote workspace/, 'HTTPS verified against cilo\'s CA');
    } finally {
      // Back to direct for the tests after this one: the router on the host goes at the next up.
      await h.cli(['init', '--routing', 'direct'], { env });
      const back = await h.cli(['up', 'far'], { env });
      assert.equal(back.code, 0, back.stderr);
    }
    assert.equal(f.docker(['ps', '-aq', '--filter', 'label=cilo.router=true']).stdout.trim(), '', 'the router left the host with router mode');
  });

  test('a local environment beside it gets a subnet that overlaps no remote one, and its own shared service', async () => {
    const up = await h.cli(['up', 'near', '--project', P], { cwd: project });
    assert.equal(up.code, 0, up.stderr);
    const state = await stateOf();
    const near = state.environments.near;
    const far = state.environments.far;
    assert.ok(near && far);
    assert.equal(near.host, undefined);
    assert.ok(!overlaps(parseCidr(near.subnet), parseCidr(far.subnet)));
    assert.ok(!overlaps(parseCidr(near.subnet), parseCidr(state.hosts?.[HOST]?.subnet ?? '')));
    const list = JSON.parse((await h.cli(['list', '--all', '--format', 'json'])).stdout) as { name: string; status: string; host?: string }[];
    assert.deepEqual(list.map((e) => [e.name, e.status, e.host ?? null]), [['far', 'running', HOST], ['near', 'running', null]]);
    // Shared services are per engine: one cache here for near, one on the host for far.
    const shared = JSON.parse((await h.cli(['shared', 'list', '--json'])).stdout) as { shared_services: { service: string; host?: string; users: string[]; state: string }[] };
    assert.deepEqual(
      shared.shared_services.map((s) => [s.service, s.host ?? null, s.users, s.state]).sort(),
      [['cache', null, ['near'], 'running'], ['cache', 'box', ['far'], 'running']],
    );
    assert.ok(await docker.inspectContainer(`cilo_shared_${P}_cache`), 'the local one runs here');
    const doctor = JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string; subject: string }[] };
    assert.deepEqual(doctor.findings.filter((x) => x.kind !== 'dns.system-resolver'), [], 'doctor sees both engines as they should be');
    const down = await h.cli(['destroy', 'near', '--force']);
    assert.equal(down.code, 0, down.stderr);
  });

  test("datasets live in each engine's own shared service: db reset, db list, doctor and fork act on the environment's engine; snapshots of it are refused, nothing made", { skip: dbSkip }, async () => {
    const f = fake as FakeRemote;
    loadImageOverSsh(f, DB_IMAGES.redis);
    project2 = copyFixture('datasets-redis');
    const shared = `cilo_shared_${P2}_cache`;
    try {
      for (const [env, host] of [['dnear', []], ['dfar', ['--host', HOST]]] as const) {
        const up = await h.cli(['up', env, ...host, '--project', P2], { cwd: project2 });
        assert.equal(up.code, 0, up.stderr);
      }
      assert.ok(await docker.inspectContainer(shared), 'the local redis runs here');
      assert.match(f.docker(['ps', '--filter', `name=${shared}`, '--format', '{{.State}}']).stdout, /running/, 'and one runs on the host');
      // Each app writes a key through its own REDIS_URL: its private index in its own engine's redis.
      const redis = async (env: string, cmd: string): Promise<string> => {
        const r = await h.cli(['exec', env, 'api', 'sh', '-c', `redis-cli -u "$REDIS_URL" ${cmd}`]);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout.trim();
      };
      assert.equal(await redis('dnear', 'SET mine near'), 'OK');
      assert.equal(await redis('dfar', 'SET mine far'), 'OK');
      assert.equal(await redis('dfar', 'GET greeting'), 'seeded');

      // Issue #25: each engine's redis publishes its port on its own machine's 127.0.0.1; the
      // host's is forwarded here through the SSH connection, and its DSN reaches dfar's index there.
      const dsnOf = async (env: string): Promise<string> => {
        const m = JSON.parse((await h.cli(['status', env, '--json'])).stdout) as { services: { name: string; datasets?: { dsn?: string }[] }[] };
        return m.services.find((x) => x.name === 'cache')?.datasets?.[0]?.dsn ?? '';
      };
      const [nearDsn, farDsn] = [await dsnOf('dnear'), await dsnOf('dfar')];
      assert.match(farDsn, /^redis:\/\/127\.0\.0\.1:\d+\/\d+$/);
      assert.notEqual(new URL(farDsn).port, new URL(nearDsn).port, "the two engines' redis have ports of their own");
      assert.equal(await redisOn(farDsn, 'GET mine'), '$3\r\nfar', 'through the forward, the host\'s redis on dfar\'s index');
      assert.equal(await redisOn(nearDsn, 'GET mine'), '$4\r\nnear');
      // The master connection ends (ControlPersist, a lost link): the next command's new one forwards the port again.
      spawnSync('ssh', ['-o', `ControlPath=${join(h.home, 'hosts', HOST, 'ssh.ctl')}`, '-O', 'exit', 'box'], { encoding: 'utf8' });
      await assert.rejects(redisOn(farDsn, 'PING'), 'no forward without the master');
      assert.equal((await h.cli(['status', 'dfar'])).code, 0);
      assert.equal(await redisOn(farDsn, 'GET mine'), '$3\r\nfar', 'forwarded again by the new master');

      // db reset of the remote environment resets its index on the host, and nothing here.
      const reset = await h.cli(['db', 'reset', 'dfar', '--json']);
      assert.equal(reset.code, 0, reset.stderr);
      assert.equal(await redis('dfar', 'GET mine'), '', "dfar's index is back to its seed");
      assert.equal(await redis('dfar', 'GET greeting'), 'seeded');
      assert.equal(await redis('dnear', 'GET mine'), 'near', "dnear's data is untouched");

      // db list reads each dataset's size from its own engine.
      assert.equal(await redis('dnear', 'SET other 1'), 'OK');
      const list = (JSON.parse((await h.cli(['db', 'list', '--json'])).stdout) as { datasets: { env: string; size: number | null; unit: string; host?: string }[] }).datasets;
      const sizes = Object.fromEntries(list.filter((d) => d.env === 'dnear' || d.env === 'dfar').map((d) => [d.env, [d.size, d.unit, d.host ?? null]]));
      // Keys: cilo's owner mark and the seed's greeting in both; dnear's mine and other besides.
      assert.deepEqual(sizes, { dnear: [4, 'keys', null], dfar: [2, 'keys', HOST] });
      const table = await h.cli(['db', 'list']);
      assert.match(table.stdout, /^ENV\s+HOST\s+SERVICE/);
      assert.match(table.stdout, /\ndfar\s+box\s+cache\s+redis\s+db-index\s/);
      const sharedList = JSON.parse((await h.cli(['shared', 'list', '--json'])).stdout) as { shared_services: { project: string; host?: string; datasets: { env: string }[] }[] };
      const byEngine = Object.fromEntries(sharedList.shared_services.filter((s) => s.project === P2).map((s) => [s.host ?? 'this machine', s.datasets.map((d) => d.env)]));
      assert.deepEqual(byEngine, { [HOST]: ['dfar'], 'this machine': ['dnear'] }, "each shared redis lists its own engine's datasets");

      // doctor checks each engine's datasets against the environments on it: nothing to report...
      const datasetFindings = async (): Promise<string[][]> =>
        (JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string; subject: string }[] }).findings.filter((x) => x.kind.startsWith('dataset.')).map((x) => [x.kind, x.subject]);
      assert.deepEqual(await datasetFindings(), []);
      // ...and an up on the host killed between making its dataset and recording it is found on
      // the host, and finished there by --fix.
      const killed = await h.cli(['up', 'dkill', '--host', HOST, '--project', P2], { cwd: project2, env: { CILO_TEST_FAILPOINT: 'dataset-created' } });
      assert.notEqual(killed.code, 0);
      const half = (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { datasets?: Record<string, { name: string; status: string }> }> }).environments.dkill?.datasets?.cache;
      assert.equal(half?.status, 'creating');
      assert.deepEqual(await datasetFindings(), [['dataset.unfinished', `${HOST}:dkill/cache:${half?.name}`]]);
      const fix = await h.cli(['doctor', '--fix']);
      assert.equal(JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments.dkill.datasets.cache.status, 'ready', fix.stdout + fix.stderr);
      assert.deepEqual(await datasetFindings(), []);
      const again = await h.cli(['up', 'dkill']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await redis('dkill', 'GET greeting'), 'seeded', 'its dataset, made before the kill, serves it');

      // A fork of dfar is made on the host, its index a copy of dfar's in the host's redis.
      assert.equal(await redis('dfar', 'SET mine far-again'), 'OK');
      const fork = await h.cli(['fork', 'dfar', 'dcopy', '--up', '--json']);
      assert.equal(fork.code, 0, fork.stderr);
      assert.deepEqual((JSON.parse(fork.stdout) as { datasets: { service: string }[] }).datasets.map((d) => d.service), ['cache']);
      assert.equal((await stateOf()).environments.dcopy?.host, HOST);
      assert.equal(await redis('dcopy', 'GET mine'), 'far-again');
      assert.equal(await redis('dcopy', 'SET mine copy'), 'OK');
      assert.equal(await redis('dfar', 'GET mine'), 'far-again', "the fork's writes stay in the fork");
      assert.equal(await redis('dnear', 'GET mine'), 'near');

      // Snapshots keep their copies on this machine: refused for dfar, before anything is made.
      const snapshotsBefore = existsSync(join(h.home, 'snapshots')) ? readdirSync(join(h.home, 'snapshots')) : [];
      const snap = await h.cli(['snapshot', 'create', 'dfar', '--name', 'far-snap']);
      assert.equal(snap.code, 1);
      assert.match(snap.stderr, /^cilo: Environment dfar runs on host box, and snapshots are kept on this machine, away from its volumes and datasets, so cilo cannot take a snapshot of it\.\nhint: To keep a copy of it, fork it \(`cilo fork dfar <new>` copies it on box\)/);
      const snapJson = await h.cli(['snapshot', 'create', 'dfar', '--name', 'far-snap', '--json']);
      assert.equal((JSON.parse(snapJson.stdout) as { code: string }).code, 'REMOTE_UNSUPPORTED');
      const nearSnap = await h.cli(['snapshot', 'create', 'dnear', '--name', 'near-snap']);
      assert.equal(nearSnap.code, 0, nearSnap.stderr);
      const restore = await h.cli(['snapshot', 'restore', 'dfar', 'near-snap']);
      assert.equal(restore.code, 1);
      assert.match(restore.stderr, /so cilo cannot restore a snapshot into it\./);
      assert.deepEqual(readdirSync(join(h.home, 'snapshots')).sort(), [...snapshotsBefore, 'near-snap'].sort(), 'no snapshot of dfar');
      assert.equal(await redis('dfar', 'GET mine'), 'far-again', 'dfar still runs with its data');
      assert.equal(await redis('dnear', 'GET mine'), 'near');

      assert.equal((await h.cli(['snapshot', 'rm', 'near-snap'])).code, 0);
    } finally {
      // Whatever failed above: nothing of this project is left for the tests after it.
      for (const env of ['dnear', 'dfar', 'dkill', 'dcopy']) await h.cli(['destroy', env, '--force']);
      // Their shared redis has a grace period: stopped now, here and on the host.
      for (const host of [[], ['--host', HOST]]) await h.cli(['shared', 'stop', 'cache', '--project', P2, '--force', ...host]);
    }
    assert.equal(await docker.inspectContainer(shared), null);
    assert.equal(f.docker(['ps', '-aq', '--filter', `name=${shared}`]).stdout.trim(), '');
    const left = Object.keys((await stateOf()).environments).filter((e) => ['dnear', 'dfar', 'dkill', 'dcopy'].includes(e));
    assert.deepEqual(left, [], 'all four destroyed');
  });

  test('fork of an environment on a host is made on the host, its volume copied there by a helper container', async () => {
    const f = fake as FakeRemote;
    project3 = copyFixture('fork-volume');
    const exec = async (env: string, script: string): Promise<string> => {
      const r = await h.cli(['exec', env, 'web', 'sh', '-c', script]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    try {
      const up = await h.cli(['up', 'vsrc', '--host', HOST, '--project', P3], { cwd: project3 });
      assert.equal(up.code, 0, up.stderr);
      await exec('vsrc', 'echo hello-volume > /data/marker');
      // A copy that fails while the source is frozen: the half-made fork is removed from the host, the source thawed.
      const failed = await h.cli(['fork', 'vsrc', 'vfail'], { env: { CILO_TEST_FAILPOINT: 'volume-copy' } });
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /failpoint volume-copy/);
      assert.equal((await stateOf()).environments.vfail, undefined);
      assert.deepEqual([...remoteLabelled(f, 'ps', 'vfail'), ...remoteLabelled(f, 'network', 'vfail')], []);
      assert.equal(f.docker(['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=cilo-${P3}-vfail`]).stdout.trim(), '', 'its volume went with it');
      assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=vsrc', '--format', '{{.State}}']).stdout, /^(running\n)+$/, 'the source was thawed');
      // Killed while the source is frozen: doctor --fix thaws it on the host and removes the half-made fork.
      const killed = await h.cli(['fork', 'vsrc', 'vkill'], { env: { CILO_TEST_FAILPOINT: 'volume-copy-kill' } });
      assert.notEqual(killed.code, 0);
      assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=vsrc', '--format', '{{.State}}']).stdout, /paused/, 'the source was frozen when the fork died');
      const doc = JSON.parse((await h.cli(['doctor', '--fix', '--json'])).stdout) as { findings: { kind: string; subject: string; fixed?: boolean }[] };
      assert.ok(doc.findings.some((x) => x.kind === 'env.interrupted-create' && x.subject === 'vkill' && x.fixed), JSON.stringify(doc.findings));
      assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=vsrc', '--format', '{{.State}}']).stdout, /^(running\n)+$/, 'thawed by doctor --fix');
      assert.equal((await stateOf()).environments.vkill, undefined);
      assert.deepEqual([...remoteLabelled(f, 'ps', 'vkill'), ...remoteLabelled(f, 'network', 'vkill')], []);
      const fork = await h.cli(['fork', 'vsrc', 'vcopy', '--up', '--json']);
      assert.equal(fork.code, 0, fork.stderr);
      const r = JSON.parse(fork.stdout) as { method: string; volumes: { volume: string; method: string }[]; environment: { host?: string } };
      assert.deepEqual([r.method, r.volumes.map((v) => v.volume), r.environment.host], ['container', ['data'], HOST], 'copied on the host by a helper container');
      assert.equal(remoteLabelled(f, 'ps', 'vcopy').length, 2, 'the fork runs on the host');
      assert.equal((await docker.listContainers({ label: ['cilo.env=vcopy'] })).length, 0, 'and nothing of it here');
      assert.equal(await exec('vcopy', 'cat /data/marker'), 'hello-volume');
      await exec('vcopy', 'echo changed > /data/marker');
      assert.equal(await exec('vsrc', 'cat /data/marker'), 'hello-volume', "the fork's writes stay in the fork");
      assert.match(f.docker(['ps', '-a', '--filter', 'label=cilo.env=vsrc', '--format', '{{.State}}']).stdout, /^(running\n)+$/, 'the source was thawed');
      assert.equal(f.docker(['ps', '-aq', '--filter', 'label=cilo.helper=volume-copy']).stdout.trim(), '', 'no helper container left on the host');
    } finally {
      for (const env of ['vcopy', 'vkill', 'vfail', 'vsrc']) await h.cli(['destroy', env, '--force']);
    }
    assert.deepEqual([...remoteLabelled(f, 'ps', 'vsrc'), ...remoteLabelled(f, 'ps', 'vcopy')], []);
    assert.equal(f.docker(['volume', 'ls', '-q', '--filter', `label=cilo.project=${P3}`]).stdout.trim(), '', 'their volumes went with them');
  });

  test('destroy removes the containers, network and workspace copy on the host', async () => {
    const f = fake as FakeRemote;
    const d = await h.cli(['destroy', 'far', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(remoteLabelled(f, 'ps', 'far'), []);
    assert.deepEqual(remoteLabelled(f, 'network', 'far'), []);
    assert.equal(f.docker(['ps', '-aq', '--filter', 'label=cilo.shared=true']).stdout.trim(), '', 'its shared service went with its last user (grace 0)');
    assert.equal(f.sh(`ls /root/.cilo-remote/*/${P}/far`).status !== 0, true, 'the workspace copy is gone');
  });

  test('a host whose link goes silent shows unreachable within seconds, and comes back with it', async () => {
    const f = fake as FakeRemote;
    const made = await h.cli(['create', 'quiet', '--host', HOST, '--project', P], { cwd: project });
    assert.equal(made.code, 0, made.stderr);
    const up = await h.cli(['up', 'quiet']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(spawnSync('ip', ['link', 'set', f.link, 'down']).status, 0);
    try {
      // It answers (the link is dead, not slow: without cilo's bound it would wait for TCP to give up).
      const st = await h.cli(['status', 'quiet']);
      assert.match(st.stdout, /Status:\s+unreachable/);
    } finally {
      spawnSync('ip', ['link', 'set', f.link, 'up']);
    }
    // The next command connects afresh (the silent connection was dropped).
    await waitFor(async () => /Status:\s+running/.test((await h.cli(['status', 'quiet'])).stdout), { what: 'quiet running again once the link is back', deadlineMs: 60_000, intervalMs: 500 });
    const d = await h.cli(['destroy', 'quiet', '--force']);
    assert.equal(d.code, 0, d.stderr);
  });

  test('what destroy --forget left on a host that did not answer, doctor finds there once it answers, and --fix removes', async () => {
    const f = fake as FakeRemote;
    const up = await h.cli(['up', 'stray', '--host', HOST, '--project', P], { cwd: project });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(spawnSync('ip', ['link', 'set', f.link, 'down']).status, 0);
    try {
      const forgot = await h.cli(['destroy', 'stray', '--force', '--forget']);
      assert.equal(forgot.code, 0, forgot.stderr);
      assert.match(forgot.stderr, /removed here only/);
    } finally {
      spawnSync('ip', ['link', 'set', f.link, 'up']);
    }
    assert.equal(remoteLabelled(f, 'ps', 'stray').length, 2, 'its containers stayed on the host');
    const findings = async (): Promise<{ kind: string; subject: string; message: string }[]> => {
      const r = await h.cli(['doctor', '--json']);
      return (JSON.parse(r.stdout) as { findings: { kind: string; subject: string; message: string }[] }).findings.filter((x) => x.kind !== 'dns.system-resolver');
    };
    let found: { kind: string; subject: string; message: string }[] = [];
    await waitFor(async () => (found = await findings()).every((x) => x.kind !== 'host.unreachable'), { what: 'the host answering doctor again', deadlineMs: 60_000, intervalMs: 500 });
    const orphans = found.filter((x) => x.kind.startsWith('orphan.'));
    assert.deepEqual(orphans.map((x) => x.kind).sort(), ['orphan.container', 'orphan.container', 'orphan.network'], JSON.stringify(found));
    assert.ok(orphans.every((x) => x.subject.startsWith(`${HOST}:`) && x.message.startsWith(`On host ${HOST}: `)), JSON.stringify(orphans));
    assert.ok(found.some((x) => x.kind === 'shared.unmanaged'), 'and the shared service it alone used, which state forgot with it');
    const fix = await h.cli(['doctor', '--fix']);
    assert.deepEqual(remoteLabelled(f, 'ps', 'stray'), [], fix.stdout + fix.stderr);
    assert.deepEqual(remoteLabelled(f, 'network', 'stray'), []);
    assert.equal(f.docker(['ps', '-aq', '--filter', 'label=cilo.shared=true']).stdout.trim(), '');
    assert.deepEqual((await findings()).filter((x) => x.kind.startsWith('orphan.')), []);
  });

  test('with the remote engine stopped, status and list say unreachable within seconds', async () => {
    const f = fake as FakeRemote;
    // `run` creates and starts it on the host, and hands the command the remote addresses.
    const run = await h.cli(['run', '--host', HOST, '--project', P, 'sh', 'gone', '-c', 'echo $CILO_SERVICE_API_IP'], { cwd: project });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), (await stateOf()).environments.gone?.services.api?.ip);
    assert.equal((await stateOf()).environments.gone?.host, HOST);
    for (const id of f.containerIds()) remoteContainers.add(id);
    assert.ok(remoteContainers.size > 0);
    process.kill(f.dockerdPid, 'SIGTERM');
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (!existsSync(`/proc/${f.dockerdPid}`)) {
          clearInterval(t);
          resolve();
        }
      }, 100);
    });
    const st = await h.cli(['status', 'gone']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /Status:\s+unreachable/);
    const list = JSON.parse((await h.cli(['list', '--all', '--format', 'json'])).stdout) as { name: string; status: string }[];
    assert.equal(list.find((e) => e.name === 'gone')?.status, 'unreachable');
    const hs = await h.cli(['host', 'status', HOST]);
    assert.equal(hs.code, 1);
    assert.match(hs.stdout, /unreachable/);
    const refused = await h.cli(['destroy', 'gone', '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--forget/);
    const forgot = await h.cli(['destroy', 'gone', '--force', '--forget']);
    assert.equal(forgot.code, 0, forgot.stderr);
  });

  test('host rm and the teardown leave no namespace, link, route, process or tunnel behind', async () => {
    const f = fake as FakeRemote;
    const range = (await stateOf()).hosts?.[HOST]?.subnet ?? '';
    await h.cli(['destroy', '--all', '--force', '--forget']);
    const rm = await h.cli(['host', 'rm', HOST]);
    assert.equal(rm.code, 0, rm.stderr);
    const iface = tunnelInterface(range);
    assert.notEqual(spawnSync('ip', ['link', 'show', iface]).status, 0, `${iface} is gone`);
    assert.ok(!spawnSync('ip', ['route'], { encoding: 'utf8' }).stdout.includes(range), `no route for ${range}`);
    assert.ok(!existsSync(join(h.home, 'hosts', HOST)));
    const mine = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(iface) || l.includes(join(h.home, 'hosts')));
    assert.deepEqual(mine, [], 'no wireguard-go or ssh master of this home is left');
    f.stop();
    assert.deepEqual(f.processes(), [], 'no process of the fake machine is left');
    assert.deepEqual(processesOfContainers([...remoteContainers]), [], 'no process of its containers is left');
    assert.ok(!spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(f.ns), 'the namespace is gone');
    assert.notEqual(spawnSync('ip', ['link', 'show', f.link]).status, 0, 'the veth pair is gone');
    assert.ok(!existsSync(f.dir));
    const rules = spawnSync('iptables', ['-S'], { encoding: 'utf8' }).stdout;
    assert.ok(!rules.includes(iface), 'no iptables rule of the tunnel on this machine');
  });
});
