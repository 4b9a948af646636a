/**
 * Issue #25's end-to-end proof: on a simulated Docker Desktop (test/support/desktop-sim.ts: an
 * unprivileged user whose traffic to the container ranges is rejected), that user runs cilo,
 * curl, psql and node, and reaches two environments at once through cilo's loopback router and
 * published ports only: HTTP by name (a `.localhost` name curl resolves by itself, and a Host
 * header to 127.0.0.1), HTTPS verified against cilo's CA, a redis PING and a postgres connection
 * on the manifest's host_ports and dsn. Routes follow down/up/destroy, and the router goes with
 * the last environment. Skipped, saying why, without root or iptables (.ci/run runs as root).
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CADDY_IMAGE, ensureCaddyImage } from '../support/caddy-image.js';
import { desktopSimSkip, reachAsRoot, startDesktopSim, type DesktopSim, type RunResult } from '../support/desktop-sim.js';
import { ensureDbImages } from '../support/fixture-images.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, removeProjectResources, uid, waitFor, type TestHome, freeLoopbackPort } from './helpers.js';

const skip = desktopSimSkip() || ensureDbImages() || ensureCaddyImage() || false;
if (skip) console.log(`# desktop-reach.test.ts skipped: ${skip}`);

/** Docker's default address pools, where shared services' and the router's own networks get theirs. */
const DOCKER_POOLS = ['172.16.0.0/12', '192.168.0.0/16'];

interface ManifestService {
  name: string;
  ip: string;
  port: number | null;
  url: string;
  urls?: { http: string | null; https: string | null };
  container: string | null;
  host_ports?: Record<string, number>;
  datasets?: { engine: string; name: string; dsn?: string }[];
}
interface Manifest {
  env: string;
  url: string;
  services: ManifestService[];
  ca_file?: string;
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base) & mask) >>> 0);
}

describe('a simulated Docker Desktop reaches environments through the router', { skip }, () => {
  let h: TestHome;
  let sim: DesktopSim;
  let dir: string;
  let httpPort: number;
  let httpsPort: number;
  let caFile: string;
  const project = uid('reach');
  const manifests = new Map<string, Manifest>();

  /** cilo as the simulated user, in the test home. */
  const cilo = (args: string[], opts: { input?: string } = {}): Promise<RunResult> => sim.run(process.execPath, [CLI, ...args], { cwd: dir, env: h.env, ...opts });
  const must = async (args: string[]): Promise<RunResult> => {
    const r = await cilo(args);
    assert.equal(r.code, 0, `cilo ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const manifest = async (env: string): Promise<Manifest> => JSON.parse((await must(['status', env, '--json'])).stdout) as Manifest;
  const service = (m: Manifest, name: string): ManifestService => {
    const s = m.services.find((x) => x.name === name);
    assert.ok(s, `${m.env} has no service ${name}: ${JSON.stringify(m.services.map((x) => x.name))}`);
    return s;
  };
  /** curl as the user: status code and body (`-k` never: HTTPS is verified against cilo's CA). */
  const curl = async (args: string[]): Promise<{ status: number; body: string; err: string }> => {
    const r = await sim.run('curl', ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...args], { timeoutMs: 30_000 });
    const lines = r.stdout.split('\n');
    const status = Number(lines.pop());
    return { status: r.code === 0 ? status : 0, body: lines.join('\n').trim(), err: r.stderr.trim() };
  };
  const page = (env: string): string => `web-of-${env}`;
  const httpByName = (env: string): Promise<{ status: number; body: string; err: string }> => curl([`http://web.${env}.localhost:${httpPort}/`]);
  const httpsByName = (env: string): Promise<{ status: number; body: string; err: string }> => curl(['--cacert', caFile, `https://web.${env}.localhost:${httpsPort}/`]);
  const routerContainer = async (): Promise<string | undefined> => {
    const r = await cilo(['router', 'status', '--json']);
    if (r.code !== 0) return undefined;
    const s = JSON.parse(r.stdout) as { container?: { name?: string; id?: string } | string | null };
    const c = s.container;
    return typeof c === 'string' ? c : (c?.name ?? c?.id ?? undefined);
  };

  before(async () => {
    ensureFixtureImage();
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    sim = startDesktopSim([h.baseSubnet, ...DOCKER_POOLS]);
    sim.own(h.home);
    dir = copyFixture('desktop-reach', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n` });
    sim.own(dir);
    httpPort = await freeLoopbackPort();
    httpsPort = await freeLoopbackPort();
    await must(['init', '--routing', 'auto', '--router-http-port', String(httpPort), '--router-https-port', String(httpsPort), '--dns-suffix', '.localhost']);
  });
  after(async () => {
    await cilo(['destroy', '--all', '--force']).catch(() => undefined);
    await h?.cleanup();
    await removeProjectResources(project);
    sim?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('two environments come up as the user; auto chose the router, and the user cannot reach a container address (root can)', async () => {
    // One after the other: the first `up` probes and makes the router, the second joins it.
    for (const env of ['alpha', 'beta']) {
      await must(['up', env]);
      manifests.set(env, await manifest(env));
    }
    const state = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { routing?: { mode: string; resolved?: Record<string, { mode: string; why: string }> } };
    assert.equal(state.routing?.mode, 'auto');
    assert.equal(state.routing?.resolved?.['']?.mode, 'router', `auto's probe found: ${JSON.stringify(state.routing?.resolved)}`);
    // The simulation is honest: each container of the test has its addresses inside the rejected ranges,
    const web = service(manifests.get('alpha')!, 'web');
    const inspect = spawnSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=cilo-${project}-alpha`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    assert.ok(inspect.length >= 2, `alpha's containers: ${inspect.join(', ')}`);
    for (const id of inspect) {
      const ips = spawnSync('docker', ['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', id], { encoding: 'utf8' }).stdout.trim().split(' ').filter(Boolean);
      for (const ip of ips) assert.ok(sim.blocked.some((c) => inCidr(ip, c)), `container ${id} has ${ip}, outside the rejected ${sim.blocked.join(', ')}`);
    }
    // and the user's connection to web's address is refused while root's gets through.
    assert.equal(await reachAsRoot(web.ip, 8080), 'connected');
    assert.equal(await sim.reach(web.ip, 8080), 'EHOSTUNREACH');
    assert.match((await curl([`http://${web.ip}:8080/`])).err, /No route to host|Couldn't connect/);
  });

  test('HTTP by name through the router, a .localhost name and a Host header, for both environments at once', async () => {
    const answers = await Promise.all(['alpha', 'beta'].flatMap((env) => [httpByName(env), curl(['-H', `Host: web.${env}.localhost`, `http://127.0.0.1:${httpPort}/`])]));
    assert.deepEqual(
      answers.map((a) => `${a.status} ${a.body}`),
      [`200 ${page('alpha')}`, `200 ${page('alpha')}`, `200 ${page('beta')}`, `200 ${page('beta')}`],
      answers.map((a) => a.err).join('\n'),
    );
    // The manifest hands out the router's URL, and it works as printed.
    const web = service(manifests.get('alpha')!, 'web');
    const url = web.url;
    assert.equal(url, `http://web.alpha.localhost:${httpPort}`);
    assert.deepEqual(web.urls, { http: url, https: `https://web.alpha.localhost:${httpsPort}` });
    assert.equal((await curl([`${url}/`])).body, page('alpha'));
  });

  test("HTTPS by name, verified against cilo's CA (cilo trust --print)", async () => {
    caFile = (await must(['trust', '--print'])).stdout.trim();
    assert.match(caFile, /^\//, `trust --print gave ${caFile}`);
    const [a, b] = await Promise.all([httpsByName('alpha'), httpsByName('beta')]);
    assert.equal(`${a.status} ${a.body}`, `200 ${page('alpha')}`, a.err);
    assert.equal(`${b.status} ${b.body}`, `200 ${page('beta')}`, b.err);
    // Not accepted without the CA: the verification is real.
    const bare = await curl([`https://web.alpha.localhost:${httpsPort}/`]);
    assert.equal(bare.status, 0);
    assert.match(bare.err, /certificate/i);
    assert.equal(manifests.get('alpha')!.ca_file, caFile);
  });

  test("redis PING and a postgres connection on the manifest's host_ports and dsn, both environments", async () => {
    const results = await Promise.all(
      ['alpha', 'beta'].map(async (env) => {
        const m = manifests.get(env)!;
        const redisPort = service(m, 'cache').host_ports?.['6379'];
        assert.ok(typeof redisPort === 'number', `${env}'s cache has no host_ports["6379"]: ${JSON.stringify(service(m, 'cache'))}`);
        const ping = await sim.run(process.execPath, ['-e', `const s=require('net').connect(${redisPort},'127.0.0.1',()=>s.write('PING\\r\\n'));s.setTimeout(10000,()=>{console.log('timeout');s.destroy()});s.on('data',(d)=>{process.stdout.write(String(d));s.destroy()});s.on('error',(e)=>console.log(e.code))`]);
        const ds = service(m, 'db').datasets?.[0];
        assert.ok(ds?.dsn, `${env}'s db dataset has no dsn: ${JSON.stringify(service(m, 'db'))}`);
        assert.match(ds.dsn, /^postgres(ql)?:\/\/[^@]*@127\.0\.0\.1:\d+\//);
        const psql = await sim.run('psql', [ds.dsn, '-XAtc', 'select current_database()'], { env: { PGPASSWORD: 'app', PGCONNECT_TIMEOUT: '10' } });
        return { env, ping: ping.stdout.trim(), db: psql.stdout.trim(), err: psql.stderr.trim(), dataset: ds.name };
      }),
    );
    for (const r of results) {
      assert.equal(r.ping, '+PONG', `${r.env}: redis answered ${r.ping}`);
      assert.equal(r.db, r.dataset, `${r.env}: psql: ${r.err}`);
    }
    assert.notEqual(results[0]?.db, results[1]?.db);
  });

  test('routes follow down, up and destroy live; the other environment keeps answering', async () => {
    await must(['down', 'beta']);
    await waitFor(async () => (await httpByName('beta')).body !== page('beta'), { what: "beta's route to go with down", deadlineMs: 60_000, intervalMs: 200 });
    assert.equal((await httpByName('alpha')).body, page('alpha'));
    await must(['up', 'beta']);
    await waitFor(async () => (await httpByName('beta')).body === page('beta'), { what: "beta's route to come back with up", deadlineMs: 60_000, intervalMs: 200 });
    assert.equal((await httpsByName('beta')).body, page('beta'));
    await must(['destroy', 'beta', '--force']);
    await waitFor(async () => (await httpByName('beta')).body !== page('beta'), { what: "beta's route to go with destroy", deadlineMs: 60_000, intervalMs: 200 });
    assert.equal((await httpByName('alpha')).body, page('alpha'));
    assert.equal((await httpsByName('alpha')).body, page('alpha'));
  });

  test('the router goes when the last environment goes', async () => {
    const router = await routerContainer();
    assert.ok(router, 'cilo router status --json names no container while alpha runs');
    assert.equal(spawnSync('docker', ['inspect', router], { stdio: 'ignore' }).status, 0);
    await must(['destroy', 'alpha', '--force']);
    await waitFor(() => spawnSync('docker', ['inspect', router], { stdio: 'ignore' }).status !== 0, { what: `the router container ${router} to be removed`, deadlineMs: 60_000, intervalMs: 200 });
    const r = await curl([`http://web.alpha.localhost:${httpPort}/`]);
    assert.equal(r.status, 0, 'nothing listens on the router port any more');
  });
});
