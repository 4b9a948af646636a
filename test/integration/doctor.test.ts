import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ciloPaths } from '../../src/state/paths.js';
import type { State } from '../../src/domain/state.js';
import { withStateLock } from '../../src/state/store.js';
import { copyFixture, docker, ensureFixtureImage, FIXTURE_IMAGE, makeHome, uid, type TestHome, tearDown } from './helpers.js';

interface Report {
  ok: boolean;
  engine: { reachable: boolean };
  findings: { kind: string; subject: string; message: string; fixed?: boolean; needs_force?: boolean }[];
}

async function doctor(h: TestHome, ...args: string[]): Promise<Report> {
  const r = await h.cli(['doctor', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout) as Report;
}
/**
 * This file's projects. Doctor also reports cilo-labelled resources that no home claims, machine-wide:
 * those of other tests running on the same engine are not findings of these tests.
 */
const ours: string[] = [];
const own = (project: string): string => (ours.push(project), project);
const kinds = (r: Report): string[] =>
  r.findings
    .filter((f) => !/^(unmanaged\.|shared\.unmanaged$)/.test(f.kind) || ours.some((p) => f.subject.includes(p)))
    .map((f) => f.kind)
    .sort();
const stateOf = (h: TestHome) => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

/** Changes the state as a cilo process would: under its lock (the DNS supervisor writes too). */
async function editState(h: TestHome, fn: (s: State) => void): Promise<void> {
  await withStateLock(fn, ciloPaths(h.home));
}

/** app, and db shared (grace 1 s) with a named volume. */
const project = (): string => copyFixture('shared-db-idle');

before(() => ensureFixtureImage());

describe('doctor: shared services (seed scenario: finds and fixes orphans)', () => {
  let h: TestHome;
  let dir: string;
  const p = own(uid('dr'));
  const shared = `cilo_shared_${p}_db`;
  before(async () => {
    h = makeHome();
    dir = project();
    const r = await h.cli(['up', 'd1', '--project', p], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => tearDown(h, p, dir));

  test('a healthy setup has no findings', async () => {
    const r = await doctor(h);
    assert.deepEqual(kinds(r), [], JSON.stringify(r.findings));
    assert.equal(r.ok, true);
  });

  test('stopped: a used shared container that is not running is started', async () => {
    await docker.stopContainer(shared, 0);
    assert.deepEqual(kinds(await doctor(h)), ['shared.stopped']);
    const fixed = await doctor(h, '--fix');
    assert.ok(fixed.findings.every((f) => f.fixed));
    assert.equal((await docker.inspectContainer(shared))?.State.Running, true);
  });

  test('detached: a user network without the shared container is re-attached with its address', async () => {
    const ip = stateOf(h).shared_services[`${p}/db`].ips.d1;
    await docker.disconnectNetwork(`cilo_${p}_d1`, shared);
    assert.deepEqual(kinds(await doctor(h)), ['shared.detached']);
    await doctor(h, '--fix');
    assert.equal((await docker.inspectContainer(shared))?.NetworkSettings.Networks[`cilo_${p}_d1`]?.IPAddress, ip);
    assert.deepEqual(kinds(await doctor(h)), []);
  });

  test('missing: users but no container; fix brings the user up again, which recreates it', async () => {
    await docker.removeContainer(shared, { force: true });
    assert.deepEqual(kinds(await doctor(h)), ['shared.missing']);
    await doctor(h, '--fix');
    assert.equal((await docker.inspectContainer(shared))?.State.Running, true);
    assert.deepEqual(kinds(await doctor(h)), []);
  });

  test('orphaned: a container with no users and no grace is removed, its volume stays', async () => {
    await editState(h, (s) => {
      s.shared_services[`${p}/db`]!.users = [];
      s.shared_services[`${p}/db`]!.ips = {};
      s.shared_services[`${p}/db`]!.grace_until = null;
      s.environments.d1!.shared = [];
    });
    const r = await doctor(h);
    assert.ok(kinds(r).includes('shared.orphaned'), JSON.stringify(r));
    await doctor(h, '--fix');
    assert.equal(await docker.inspectContainer(shared), null);
    assert.equal(stateOf(h).shared_services[`${p}/db`], undefined);
    assert.ok((await docker.listVolumes({ label: [`cilo.project=${p}`, 'cilo.shared=true'] })).length > 0, 'volume kept');
    const up = await h.cli(['up', 'd1']);
    assert.equal(up.code, 0, up.stderr);
  });

  test('stale grace: an expired grace with the container still there is reaped', async () => {
    // The DNS server's supervisor would reap it first: stop it to see doctor find it.
    assert.equal((await h.cli(['dns', 'stop'])).code, 0);
    await editState(h, (s) => {
      s.shared_services[`${p}/db`]!.users = [];
      s.shared_services[`${p}/db`]!.ips = {};
      s.shared_services[`${p}/db`]!.grace_until = new Date(Date.now() - 60_000).toISOString();
      s.environments.d1!.shared = [];
    });
    // `doctor` itself must not reap before reporting, so read the report straight from the core
    const { runDoctor } = await import('../../src/core/doctor/doctor.js');
    const { defaultContext } = await import('../../src/default-context.js');
    const { ciloPaths } = await import('../../src/state/paths.js');
    const ctx = defaultContext({ paths: ciloPaths(h.home) });
    const report = await runDoctor(ctx, {});
    assert.ok(report.findings.some((f) => f.kind === 'shared.stale-grace'), JSON.stringify(report.findings));
    await runDoctor(ctx, { fix: true });
    assert.equal(await docker.inspectContainer(shared), null);
    const up = await h.cli(['up', 'd1']);
    assert.equal(up.code, 0, up.stderr);
  });

  test('unmanaged: a labelled shared container unknown to state is removed', async () => {
    await editState(h, (s) => {
      delete s.shared_services[`${p}/db`];
      s.environments.d1!.shared = [];
    });
    assert.ok(kinds(await doctor(h)).includes('shared.unmanaged'));
    await doctor(h, '--fix');
    assert.equal(await docker.inspectContainer(shared), null);
  });
});

describe('doctor: environments, orphans and state', () => {
  let h: TestHome;
  let dir: string;
  const p = own(uid('de'));
  before(() => {
    h = makeHome();
    dir = project();
  });
  after(() => tearDown(h, p, dir));

  test('a missing network and a stopped service of a running environment are repaired', async () => {
    const up = await h.cli(['up', 'e1', '--project', p, '--isolate', 'db'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const app = (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-e1`, 'com.docker.compose.service=app'] }))[0]!;
    await docker.stopContainer(app.Id, 0);
    const r = await doctor(h);
    assert.ok(kinds(r).includes('env.services'), JSON.stringify(r.findings));
    await doctor(h, '--fix');
    const again = (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-e1`, 'com.docker.compose.service=app'] }))[0]!;
    assert.equal(again.State, 'running');
  });

  test('orphan containers, networks, workspaces and volumes; data is only deleted with --force', async () => {
    const name = uid('orphan-');
    await docker.createNetwork(`cilo_${p}_${name}`, { cilo: 'true', 'cilo.home': homeIdOf(h), 'cilo.project': p, 'cilo.env': name }, { subnet: '10.250.99.0/24', gateway: '10.250.99.1' });
    const id = await docker.createContainer(`cilo-${p}-${name}-x`, { Image: FIXTURE_IMAGE, Cmd: ['sleep', '60'], Labels: { cilo: 'true', 'cilo.home': homeIdOf(h), 'cilo.project': p, 'cilo.env': name } });
    await docker.call('POST', '/volumes/create', { Name: `${p}-${name}-vol`, Labels: { cilo: 'true', 'cilo.home': homeIdOf(h), 'cilo.project': p, 'cilo.env': name } });
    const ws = join(h.home, 'envs', p, name);
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'work.txt'), 'unsaved work');
    const r = await doctor(h);
    assert.deepEqual(kinds(r).filter((k) => k.startsWith('orphan')), ['orphan.container', 'orphan.network', 'orphan.volume', 'orphan.workspace']);
    const fixed = await doctor(h, '--fix');
    assert.equal(fixed.findings.find((f) => f.kind === 'orphan.volume')?.needs_force, true);
    assert.equal(await docker.inspectContainer(id), null);
    assert.equal(await docker.inspectNetwork(`cilo_${p}_${name}`), null);
    assert.ok(existsSync(join(ws, 'work.txt')), 'a workspace is not deleted without --force');
    assert.equal((await docker.listVolumes({ label: [`cilo.env=${name}`] })).length, 1, 'a volume is not deleted without --force');
    await doctor(h, '--fix', '--force');
    assert.equal(existsSync(ws), false);
    assert.equal((await docker.listVolumes({ label: [`cilo.env=${name}`] })).length, 0);
  });

  test('an interrupted create is cleaned up; permissions are made private again', async () => {
    mkdirSync(join(h.home, 'envs', p, 'half'), { recursive: true });
    await editState(h, (s) => {
      s.environments.half = { ...s.environments.e1!, name: 'half', status: 'creating', workspace: join(h.home, 'envs', p, 'half'), subnet: '10.99.200.0/24', services: {}, shared: [] };
    });
    chmodSync(join(h.home, 'state.json'), 0o644);
    const r = await doctor(h);
    assert.ok(kinds(r).includes('env.interrupted-create'));
    assert.ok(kinds(r).includes('home.permissions'));
    await doctor(h, '--fix');
    assert.equal(stateOf(h).environments.half, undefined);
    assert.equal(existsSync(join(h.home, 'envs', p, 'half')), false);
    assert.equal(statSync(join(h.home, 'state.json')).mode & 0o777, 0o600);
  });

  test('a DNS port taken by another program is named by doctor and by dns start', async () => {
    await h.cli(['dns', 'stop']);
    const { createSocket } = await import('node:dgram');
    const squatter = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(h.dnsPort, '127.0.0.1', () => r()));
    try {
      const r = await doctor(h);
      const f = r.findings.find((x) => x.kind === 'dns.port-taken');
      assert.ok(f, JSON.stringify(r.findings));
      assert.match(f.message, new RegExp(`Port ${h.dnsPort} .* another program`));
      const start = await h.cli(['dns', 'start']);
      assert.equal(start.code, 1);
      assert.match(start.stderr, new RegExp(String(h.dnsPort)));
    } finally {
      squatter.close();
    }
  });

  test('a corrupted state is reported (never reset, the engine still checked) and doctor --fix restores the backup', async () => {
    const good = stateOf(h);
    const text = readFileSync(join(h.home, 'state.json'), 'utf8');
    writeFileSync(join(h.home, 'state.json'), text.slice(0, Math.floor(text.length / 2)));
    const list = await h.cli(['list', '--all']);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /state file .* is corrupted/);
    assert.match(list.stderr, /doctor --fix/);
    const create = await h.cli(['create', 'x1', '--project', p], { cwd: dir });
    assert.equal(create.code, 1, 'no command writes over a corrupt state');
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), text.slice(0, Math.floor(text.length / 2)));
    // The engine is fine: doctor says so, and names the state file as the problem.
    const shown = await h.cli(['doctor']);
    assert.equal(shown.code, 1, shown.stderr);
    assert.match(shown.stdout, /Docker engine: reachable/);
    assert.doesNotMatch(shown.stdout, /NOT reachable/);
    assert.match(shown.stdout, /\[error\] state\.corrupt .*is corrupted/);
    const before = await doctor(h);
    assert.equal(before.engine.reachable, true, JSON.stringify(before));
    assert.ok(!before.findings.some((x) => x.kind === 'docker.unreachable'), JSON.stringify(before.findings));
    const r = await doctor(h, '--fix');
    assert.equal(r.findings[0]?.kind, 'state.corrupt');
    assert.equal(r.findings[0]?.fixed, true);
    assert.deepEqual(Object.keys(stateOf(h).environments).sort(), Object.keys(good.environments).sort());
  });
});

function homeIdOf(h: TestHome): string {
  return spawnSync(process.execPath, ['-e', `process.stdout.write(require('crypto').createHash('sha256').update(${JSON.stringify(h.home)}).digest('hex').slice(0,12))`], { encoding: 'utf8' }).stdout;
}
