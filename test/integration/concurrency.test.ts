/**
 * Concurrency (issue #23): several cilo commands on one new environment name at once (the
 * original's README loop runs every agent as `cilo up test`), destroy --all past an environment
 * it cannot remove, and doctor's repairs of what races and migrations leave (two networks of
 * one name, a workspace whose directory is not named after its environment).
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { State } from '../../src/domain/state.js';
import { ciloPaths } from '../../src/state/paths.js';
import { withStateLock } from '../../src/state/store.js';
import { tryLockEnvironment } from '../../src/state/env-lock.js';
import { ensureDbImages } from '../support/fixture-images.js';
import { CLI, copyFixture, docker, ensureFixtureImage, makeHome, removeProjectResources, tearDown, uid, waitFor, type CliResult, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

const PARALLEL = 4;
const stateOf = (h: TestHome): State => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as State;
const networksNamed = async (name: string) => (await docker.listNetworks({ name: [name] })).filter((n) => n.Name === name);
const all = (n: number, run: () => Promise<CliResult>): Promise<CliResult[]> => Promise.all(Array.from({ length: n }, run));

function assertAllOk(results: CliResult[], what: string): void {
  results.forEach((r, i) => assert.equal(r.code, 0, `${what} #${i + 1} exited ${r.code}: ${r.stderr}`));
}

describe('parallel commands of one new name', () => {
  const h = makeHome();
  const p = uid('cc');
  const dir = copyFixture('app-sleep');
  after(() => tearDown(h, p, dir));

  test(`${PARALLEL} parallel \`up <name>\` all succeed: one network, the environment running (three names in turn)`, async () => {
    for (const name of ['test', 'agent', 'web']) {
      const results = await all(PARALLEL, () => h.cli(['up', name, '--project', p], { cwd: dir }));
      assertAllOk(results, `up ${name}`);
      assert.equal((await networksNamed(`cilo_${p}_${name}`)).length, 1, `one network named for ${name}`);
      assert.equal(stateOf(h).environments[name]?.status, 'running');
    }
    const list = await h.cli(['list', '--json', '--project', p], { cwd: dir });
    assert.deepEqual((JSON.parse(list.stdout) as { name: string; status: string }[]).map((e) => [e.name, e.status]).sort(), [['agent', 'running'], ['test', 'running'], ['web', 'running']]);
  });

  test(`${PARALLEL} parallel \`create c1\`: one of them creates it, the others are given it (or, started after it was made, told it exists)`, async () => {
    const results = await all(PARALLEL, () => h.cli(['create', 'c1', '--project', p, '--json'], { cwd: dir }));
    // A caller whose process started only after the first had finished met an existing name,
    // as a later create would: it gets the one clear sentence (#23 allows either), never a half-made one.
    const late = results.filter((r) => r.code !== 0);
    for (const r of late) assert.match(r.stderr, /^cilo: Environment "c1" of project "[^"]+" already exists\.$/m, `a refused caller gets one clear sentence: ${r.stderr}`);
    assertAllOk(results.filter((r) => r.code === 0), 'create c1');
    assert.ok(late.length < PARALLEL, 'at least one caller created it');
    const docs = results.filter((r) => r.code === 0).map((r) => JSON.parse(r.stdout) as { environment: { name: string; workspace: string }; existing?: boolean });
    assert.equal(docs.filter((d) => d.existing !== true).length, 1, 'one caller created it');
    assert.ok(docs.every((d) => d.environment.name === 'c1' && existsSync(join(d.environment.workspace, 'compose.yaml'))));
    assert.equal((await networksNamed(`cilo_${p}_c1`)).length, 1, 'one network with the name');
    assert.equal(stateOf(h).environments.c1?.status, 'created');
  });

  test('a second `create` of an existing name is still refused', async () => {
    const r = await h.cli(['create', 'c1', '--project', p], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists/);
  });

  test('parallel `run --no-up` of one new name all run their command in the one environment', async () => {
    const results = await all(PARALLEL, () => h.cli(['run', '--project', p, '--no-up', 'sh', 'r1', '-c', 'printf %s "$CILO_ENV"'], { cwd: dir }));
    assertAllOk(results, 'run r1');
    assert.deepEqual(results.map((r) => r.stdout), Array(PARALLEL).fill('r1'));
    assert.equal((await networksNamed(`cilo_${p}_r1`)).length, 1, 'one network with the name');
  });
});

const dbSkip = ensureDbImages();
describe('parallel up of one new name with a private postgres database', { skip: dbSkip }, () => {
  const h = makeHome();
  const p = uid('ccpg');
  const dir = copyFixture('datasets-pg');
  after(() => tearDown(h, p, dir));

  test('every up succeeds, none reports a duplicate database, and the environment has its one database', async () => {
    const results = await all(3, () => h.cli(['up', 'test', '--project', p], { cwd: dir }));
    for (const r of results) assert.doesNotMatch(r.stderr, /duplicate key|pg_database_datname_index/);
    assertAllOk(results, 'up test');
    const env = stateOf(h).environments.test;
    assert.equal(env?.status, 'running');
    assert.deepEqual(Object.values(env?.datasets ?? {}).map((d) => [d.name, d.status]), [[`${p}_test`, 'ready']]);
    assert.equal((await networksNamed(`cilo_${p}_test`)).length, 1);
  });
});

describe('destroy --all past an environment it cannot remove', () => {
  const h = makeHome();
  const p = uid('ccd');
  const dir = copyFixture('app-sleep');
  after(() => tearDown(h, p, dir));

  test('the others are destroyed, and the one that could not be is named, with exit 1', async () => {
    for (const env of ['d1', 'd2']) {
      const r = await h.cli(['create', env, '--project', p], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
    }
    // An environment on a host that does not answer (nothing listens on its SSH port), listed
    // first: destroying it fails, as it does when a real host is down.
    await withStateLock((s) => {
      const d1 = s.environments.d1;
      assert.ok(d1);
      s.hosts = { gone: { name: 'gone', ssh: 'ssh://nobody@127.0.0.1:1', remote_socket: '/var/run/docker.sock', remote_root: '/tmp/cilo-gone', engine_id: 'gone-engine', subnet: '10.99.0.0/18', transport: 'ssh', added_at: new Date().toISOString() } };
      s.environments = { far: { ...d1, name: 'far', host: 'gone', subnet: '10.99.1.0/24', workspace: join(h.home, 'envs', p, 'far') }, ...s.environments };
    }, ciloPaths(h.home));

    const r = await h.cli(['destroy', '--all', '--force']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Destroyed environment d1/);
    assert.match(r.stdout, /Destroyed environment d2/);
    assert.match(r.stderr, /could not destroy far: /);
    assert.match(r.stderr, /1 of 3 environments could not be destroyed: far/);
    assert.deepEqual(Object.keys(stateOf(h).environments), ['far']);
    assert.equal(stateOf(h).environments.far?.status, 'created', 'the one that could not be reached is left as it was');
    assert.equal((await networksNamed(`cilo_${p}_d1`)).length + (await networksNamed(`cilo_${p}_d2`)).length, 0);
    // What the hint says works.
    const forget = await h.cli(['destroy', 'far', '--force', '--forget']);
    assert.equal(forget.code, 0, forget.stderr);
  });
});

/** A network the way the engine lets two requests at once make it: no check of the name. */
function createNetworkUnchecked(name: string, labels: Record<string, string>, subnet: string): Promise<void> {
  const body = JSON.stringify({ Name: name, CheckDuplicate: false, Labels: labels, IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } });
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock';
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/networks/create', method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`network create: HTTP ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Report {
  ok: boolean;
  findings: { kind: string; subject: string; fixed?: boolean; fix_error?: string }[];
}

async function doctor(h: TestHome, ...args: string[]): Promise<Report> {
  const r = await h.cli(['doctor', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

describe('doctor --fix: two networks with one name', () => {
  const h = makeHome();
  const p = uid('ccn');
  const dir = copyFixture('app-sleep');
  after(() => tearDown(h, p, dir));

  test("the environment's network is kept, the other removed", async () => {
    const up = await h.cli(['up', 'n1', '--project', p], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const name = `cilo_${p}_n1`;
    const [own] = await networksNamed(name);
    assert.ok(own);
    const subnet = stateOf(h).environments.n1?.subnet ?? '';
    // Another /24 of this home's range, which no environment of it holds.
    const other = subnet.replace(/^(\d+\.\d+)\.\d+\./, '$1.250.');
    await createNetworkUnchecked(name, own.Labels ?? {}, other);
    assert.equal((await networksNamed(name)).length, 2);

    const report = await doctor(h, '--fix');
    const dup = report.findings.find((f) => f.kind === 'network.duplicate');
    assert.ok(dup?.fixed, JSON.stringify(report.findings));
    const left = await networksNamed(name);
    assert.deepEqual(left.map((n) => [n.Id, n.IPAM.Config?.[0]?.Subnet]), [[own.Id, subnet]]);
    assert.equal((await h.cli(['status', 'n1'])).code, 0);
    assert.deepEqual(report.findings.filter((f) => !f.fixed), [], 'nothing is left to fix');
  });
});

describe('doctor --fix after a migration renamed an environment', () => {
  const h = makeHome();
  const pa = uid('cca');
  const pb = uid('ccb');
  after(async () => {
    await h.cleanup();
    await removeProjectResources(pa);
    await removeProjectResources(pb);
  });

  test('the migration says what it renamed, and doctor keeps the workspace state points to', async () => {
    // Two projects with an environment `dev` each: names are unique per host now, so the
    // migration renames the second; its workspace stays in the directory named `dev`.
    const base = h.baseSubnet.split('.').slice(0, 2).join('.');
    const env = (project: string, n: number) => ({ name: 'dev', project, created_at: '2025-01-15T10:00:00Z', subnet: `${base}.${n}.0/24`, status: 'stopped', source: `/nonexistent/${project}`, services: {} });
    const v2 = { version: 2, base_subnet: `${base}.`, dns_port: h.dnsPort, subnet_counter: 3, hosts: { local: { environments: { [`${pa}/dev`]: env(pa, 1), [`${pb}/dev`]: env(pb, 2) } } }, shared_services: {} };
    writeFileSync(join(h.home, 'state.json'), JSON.stringify(v2));
    for (const project of [pa, pb]) {
      mkdirSync(join(h.home, 'envs', project, 'dev'), { recursive: true });
      writeFileSync(join(h.home, 'envs', project, 'dev', 'work.txt'), `unsaved work of ${project}\n`);
    }

    const list = await h.cli(['list', '--all', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stderr, new RegExp(`"${pb}/dev" was renamed to "dev-${pb}"`));
    const again = await h.cli(['list', '--all', '--json']);
    assert.doesNotMatch(again.stderr, /renamed/, 'said once');
    const renamed = stateOf(h).environments[`dev-${pb}`];
    assert.equal(renamed?.workspace, join(h.home, 'envs', pb, 'dev'));

    const report = await doctor(h, '--fix', '--force');
    assert.deepEqual(report.findings.filter((f) => f.kind === 'orphan.workspace'), [], JSON.stringify(report.findings));
    for (const project of [pa, pb]) assert.equal(readFileSync(join(h.home, 'envs', project, 'dev', 'work.txt'), 'utf8'), `unsaved work of ${project}\n`);
    rmSync(join(h.home, 'envs'), { recursive: true, force: true });
  });
});

describe('a network whose subnet another network holds', () => {
  const p = uid('ccs');
  const foreign = uid('cilo-cc-foreign-');
  after(async () => {
    await docker.removeNetwork(foreign).catch(() => undefined);
    await removeProjectResources(p);
  });

  test('is refused at once, naming the holder (the engine says who holds it)', async () => {
    const { ensureNetwork } = await import('../../src/core/network/network.js');
    const h = makeHome();
    try {
      const subnet = h.baseSubnet.replace(/\.0\.0\/16$/, '.77.0/24');
      await docker.createNetwork(foreign, { 'cilo.test': p }, { subnet, gateway: subnet.replace(/0\/24$/, '1') });
      const now = new Date().toISOString();
      const env = { name: 'e1', project: p, source: '/nonexistent', workspace: '/nonexistent', subnet, dns_suffix: '.test', status: 'creating' as const, created_at: now, updated_at: now, services: {}, ingress: null, hostnames: [], shared: [] };
      await assert.rejects(ensureNetwork(docker, env, 'test-home'), (e: Error & { code?: string }) => e.code === 'SUBNET_CONFLICT' && e.message.includes(foreign));
      assert.equal((await networksNamed(`cilo_${p}_e1`)).length, 0);
    } finally {
      await h.cleanup();
    }
  });
});

describe('the lock of an environment name', () => {
  const h = makeHome();
  const p = uid('ccl');
  const dir = copyFixture('app-sleep');
  after(() => tearDown(h, p, dir));

  test('a command killed while holding it does not block the next one for good', async () => {
    const child = spawn(process.execPath, [CLI, 'up', 'k1', '--project', p], { cwd: dir, env: h.env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => existsSync(join(h.home, 'locks', 'env-k1.lock')), { what: 'the first up to take the lock of k1', deadlineMs: 120_000 });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.ok(existsSync(join(h.home, 'locks', 'env-k1.lock')), 'SIGKILL leaves the lock behind');
    const r = await h.cli(['up', 'k1', '--project', p], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stateOf(h).environments.k1?.status, 'running');
    assert.equal((await networksNamed(`cilo_${p}_k1`)).length, 1);
  });

  test('`down` waits for a command that holds the lock (as an `up` or a wake would) and then stops the environment', async () => {
    const u = await h.cli(['up', 'k3', '--project', p], { cwd: dir });
    assert.equal(u.code, 0, u.stderr);
    const paths = ciloPaths(h.home);
    // This test process holds the lock, as an `up` of k3 still starting would.
    const release = await tryLockEnvironment(paths, 'k3');
    assert.ok(release);
    let stderr = '';
    const child = spawn(process.execPath, [CLI, 'down', 'k3', '--project', p], { cwd: dir, env: { ...h.env, CILO_PROGRESS: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await waitFor(() => /Waiting for another cilo command/.test(stderr), { what: '`down` to say it waits for the lock', deadlineMs: 60_000 });
      const running = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-k3`], status: ['running'] });
      assert.ok(running.length > 0, 'nothing was stopped while another command held the lock');
      assert.equal(stateOf(h).environments.k3?.status, 'running');
    } finally {
      await release();
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stateOf(h).environments.k3?.status, 'stopped');
    assert.deepEqual(await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-k3`], status: ['running'] }), []);
  });

  test('doctor --fix leaves alone a creation another command is making, and repairs it once that command is gone', async () => {
    const c = await h.cli(['create', 'k2', '--project', p], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
    const paths = ciloPaths(h.home);
    await withStateLock((s) => {
      const e = s.environments.k2;
      if (e) e.status = 'creating';
    }, paths);
    // This test process holds the lock, as a running `cilo create k2` would.
    const release = await tryLockEnvironment(paths, 'k2');
    assert.ok(release);
    try {
      const busy = await doctor(h, '--fix');
      assert.deepEqual(busy.findings.filter((f) => f.subject === 'k2'), [], JSON.stringify(busy.findings));
      assert.equal(stateOf(h).environments.k2?.status, 'creating');
      assert.ok(existsSync(join(h.home, 'envs', p, 'k2', 'compose.yaml')), 'its workspace is left alone');
    } finally {
      await release();
    }
    const fixed = await doctor(h, '--fix');
    assert.ok(fixed.findings.find((f) => f.kind === 'env.interrupted-create' && f.subject === 'k2')?.fixed, JSON.stringify(fixed.findings));
    assert.equal(stateOf(h).environments.k2, undefined);
  });
});
