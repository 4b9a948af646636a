import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, ensureFixtureImage, makeHome, removeProjectResources, uid, waitFor, type TestHome, tearDown } from './helpers.js';

/** test/fixtures/shared-db: an app that needs a healthy database, the database shared; its grace from `.env`. */
const sharedProject = (grace?: string): string => copyFixture('shared-db', grace ? { '.env': `SHARED_GRACE=${grace}\n` } : {});

interface SharedState {
  shared_services: Record<string, { users: string[]; ips: Record<string, string>; grace_until: string | null; grace_seconds: number; config_hash: string }>;
  environments: Record<string, { shared: string[]; services: Record<string, { ip: string; type: string }> }>;
}
const readStateOf = (h: TestHome): SharedState => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));
const sharedName = (project: string, service: string) => `cilo_shared_${project}_${service}`;

async function sharedContainers(project: string, service: string) {
  return docker.listContainers({ label: ['cilo.shared=true', `cilo.project=${project}`, `cilo.service=${service}`] });
}

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

before(() => ensureFixtureImage());

describe('shared services: the seed scenarios on a real engine', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sh');
  before(() => {
    h = makeHome();
    // Long enough that `down` and `up` fit in it on a loaded machine (2 s did not, under a load of 20).
    dir = sharedProject('30s');
  });
  after(async () => {
    await h.cleanup();
    await removeProjectResources(project);
    for (const v of await docker.listVolumes({ label: [`cilo.project=${project}`] })) await docker.removeVolume(v.Name);
    rmSync(dir, { recursive: true, force: true });
  });

  test('env1 up creates the shared container; env2 reuses it; exactly one runs, on both networks', async () => {
    const one = await h.cli(['up', 'env1', '--project', project], { cwd: dir });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /db\s+shared\s+10\.\d+\.\d+\.\d+/);
    assert.match(one.stdout, /app\s+isolated/);
    const first = await sharedContainers(project, 'db');
    assert.equal(first.length, 1);
    assert.equal(first[0]!.Names[0], `/${sharedName(project, 'db')}`);

    const two = await h.cli(['up', 'env2', '--project', project], { cwd: dir });
    assert.equal(two.code, 0, two.stderr);
    const second = await sharedContainers(project, 'db');
    assert.equal(second.length, 1, 'never duplicated');
    assert.equal(second[0]!.Id, first[0]!.Id, 'the same container is reused');

    const s = readStateOf(h);
    const rec = s.shared_services[`${project}/db`]!;
    assert.deepEqual(rec.users, ['env1', 'env2']);
    assert.equal(rec.grace_seconds, 30, "the project's grace (SHARED_GRACE in its .env)");
    const info = (await docker.inspectContainer(first[0]!.Id))!;
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks).sort(), [`cilo_${project}_env1`, `cilo_${project}_env2`], 'attached to both, nothing else (no default bridge)');
    for (const env of ['env1', 'env2']) {
      const ip = info.NetworkSettings.Networks[`cilo_${project}_${env}`]!.IPAddress;
      assert.equal(ip, rec.ips[env]);
      assert.equal(s.environments[env]!.services.db!.ip, ip);
      assert.equal(s.environments[env]!.services.db!.type, 'shared');
      const others = Object.entries(s.environments[env]!.services).filter(([n]) => n !== 'db').map(([, v]) => v.ip);
      assert.ok(!others.includes(ip), 'the shared IP never collides with the environment’s own services');
      assert.equal(info.NetworkSettings.Networks[`cilo_${project}_${env}`]!.Aliases?.includes('db'), true);
    }
    // isolated services are not shared: each environment has its own app and cache, and no own db
    const own = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-env1`] });
    assert.deepEqual(own.map((c) => c.Labels['com.docker.compose.service']).sort(), ['app', 'cache']);
  });

  test('environments reach the shared service by its name; status shows it as shared', async () => {
    const apps = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-env2`, 'com.docker.compose.service=app'] });
    const r = dexec(apps[0]!.Id, ['nslookup', 'db']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(readStateOf(h).shared_services[`${project}/db`]!.ips.env2!.replace(/\./g, '\\.')));
    const st = JSON.parse((await h.cli(['status', 'env2', '--json'])).stdout);
    const db = st.services.find((x: { name: string }) => x.name === 'db');
    assert.equal(db.type, 'shared');
    assert.match(db.state, /^running/);
    const list = JSON.parse((await h.cli(['shared', 'list', '--json'])).stdout);
    assert.equal(list.shared_services.length, 1);
    assert.deepEqual(list.shared_services[0].users, ['env1', 'env2']);
    assert.match(list.shared_services[0].config_hash, /^[0-9a-f]{16}$/);
  });

  test('a changed definition is refused naming what differs, without printing secret values', async () => {
    const ws = join(h.home, 'envs', project, 'env2', 'compose.yaml');
    writeFileSync(ws, readFileSync(ws, 'utf8').replace('hunter2', 'changed-secret'));
    const r = await h.cli(['up', 'env2']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Shared service "db" .* different definition .* environment\.DB_PASSWORD/);
    assert.doesNotMatch(r.stderr, /hunter2|changed-secret/);
    // env1 uses it too: the hint never proposes to replace it under env1
    assert.match(r.stderr, /--isolate db.*wait until env1 no longer uses it/);
    assert.doesNotMatch(r.stderr, /--recreate/);
    // put it back: the same definition is accepted again
    writeFileSync(ws, readFileSync(ws, 'utf8').replace('changed-secret', 'hunter2'));
    const ok = await h.cli(['up', 'env2']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('down env1 detaches it and keeps it for env2', async () => {
    const before = (await sharedContainers(project, 'db'))[0]!;
    const d = await h.cli(['down', 'env1']);
    assert.equal(d.code, 0, d.stderr);
    const info = (await docker.inspectContainer(before.Id))!;
    assert.equal(info.State.Running, true);
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [`cilo_${project}_env2`]);
    const rec = readStateOf(h).shared_services[`${project}/db`]!;
    assert.deepEqual(rec.users, ['env2']);
    assert.equal(rec.grace_until, null);
  });

  test('data in the shared volume survives recreation; --recreate reattaches other users', async () => {
    const c = (await sharedContainers(project, 'db'))[0]!;
    assert.equal(dexec(c.Id, ['sh', '-c', 'echo kept > /data/row']).code, 0);
    const up1 = await h.cli(['up', 'env1']);
    assert.equal(up1.code, 0, up1.stderr);
    const ws = join(h.home, 'envs', project, 'env1', 'compose.yaml');
    writeFileSync(ws, readFileSync(ws, 'utf8').replace('hunter2', 'rotated'));
    const r = await h.cli(['up', 'env1', '--recreate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /env2/, 'says which environments are affected');
    const now = await sharedContainers(project, 'db');
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.Id, c.Id);
    assert.equal(dexec(now[0]!.Id, ['cat', '/data/row']).out.trim(), 'kept', 'the volume belongs to the project');
    const info = (await docker.inspectContainer(now[0]!.Id))!;
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks).sort(), [`cilo_${project}_env1`, `cilo_${project}_env2`]);
    const rec = readStateOf(h).shared_services[`${project}/db`]!;
    assert.equal(info.NetworkSettings.Networks[`cilo_${project}_env2`]!.IPAddress, rec.ips.env2);
    // env2's definition now differs from the running one: refused until it matches or recreates
    const env2 = await h.cli(['up', 'env2']);
    assert.equal(env2.code, 1);
    const iso = await h.cli(['up', 'env2', '--isolate', 'db']);
    assert.equal(iso.code, 0, iso.stderr);
    const own = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-env2`, 'com.docker.compose.service=db'] });
    assert.equal(own.length, 1, '--isolate gives env2 its own db');
    const st = readStateOf(h);
    assert.deepEqual(st.shared_services[`${project}/db`]!.users, ['env1'], 'env2 released its reference');
    assert.equal(st.environments.env2!.services.db!.type, 'isolated');
  });

  test('after the last user leaves, the grace period starts; an up within it reuses the container', async () => {
    const c = (await sharedContainers(project, 'db'))[0]!;
    const d = await h.cli(['down', 'env1']);
    assert.equal(d.code, 0, d.stderr);
    const rec = readStateOf(h).shared_services[`${project}/db`]!;
    assert.deepEqual(rec.users, []);
    assert.ok(rec.grace_until && Date.parse(rec.grace_until) > Date.now(), 'grace deadline persisted in state');
    const up = await h.cli(['up', 'env1']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await sharedContainers(project, 'db'))[0]!.Id, c.Id, 'reused within grace');
    assert.equal(readStateOf(h).shared_services[`${project}/db`]!.grace_until, null);
  });

  test('destroy releases the reference and detaches; after grace a cilo command removes it, volumes stay', async () => {
    const des = await h.cli(['destroy', 'env1', '--force']);
    assert.equal(des.code, 0, des.stderr);
    assert.equal(await docker.inspectNetwork(`cilo_${project}_env1`), null, 'the network could be removed');
    const rec = readStateOf(h).shared_services[`${project}/db`]!;
    assert.deepEqual(rec.users, []);
    const deadline = Date.parse(rec.grace_until ?? '');
    assert.ok(Number.isFinite(deadline), `a grace deadline is recorded (${rec.grace_until})`);
    await waitFor(() => Date.now() > deadline + 100, { what: `the grace deadline ${rec.grace_until} to pass`, deadlineMs: 120_000 });
    const list = await h.cli(['list', '--all', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal((await sharedContainers(project, 'db')).length, 0, 'reaped after grace');
    assert.equal(readStateOf(h).shared_services[`${project}/db`], undefined);
    assert.ok((await docker.listVolumes({ label: [`cilo.project=${project}`, 'cilo.shared=true'] })).length >= 1, 'its volume stays');
  });
});

describe('shared services: flags, concurrency, stop', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sf');
  before(() => {
    h = makeHome();
    dir = sharedProject('60s');
  });
  after(() => tearDown(h, project, dir));

  test('two first ups at the same moment make exactly one shared container', async () => {
    const [a, b] = await Promise.all([h.cli(['up', 'c1', '--project', project], { cwd: dir }), h.cli(['up', 'c2', '--project', project], { cwd: dir })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await sharedContainers(project, 'db')).length, 1);
    assert.deepEqual(readStateOf(h).shared_services[`${project}/db`]!.users, ['c1', 'c2']);
    assert.equal(readStateOf(h).shared_services[`${project}/db`]!.grace_seconds, 60, 'the grace from the project\'s .env');
  });

  test('--shared (space or comma separated) shares more services; unknown names are refused', async () => {
    const r = await h.cli(['up', 'c3', '--project', project, '--shared', 'cache'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await sharedContainers(project, 'cache')).length, 1);
    assert.deepEqual(readStateOf(h).environments.c3!.shared, ['cache', 'db']);
    const bad = await h.cli(['up', 'c3', '--shared', 'nosuch,cache']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shared names "nosuch"/);
  });

  test('shared stop refuses while in use, then stops with --force; volumes stay', async () => {
    const refused = await h.cli(['shared', 'stop', 'cache']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /in use by c3/);
    const forced = await h.cli(['shared', 'stop', 'cache', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await sharedContainers(project, 'cache')).length, 0);
    assert.equal(readStateOf(h).shared_services[`${project}/cache`], undefined);
    assert.deepEqual(readStateOf(h).environments.c3!.shared, ['db']);
  });
});

describe('shared services: the DNS server process reaps after grace, with no command from the user', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sv');
  before(() => {
    h = makeHome();
    dir = sharedProject('1s');
  });
  after(() => tearDown(h, project, dir));

  test('after the last down, the shared container goes away on its own; its volume stays', async () => {
    const up = await h.cli(['up', 'sv1', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const st = await h.cli(['dns', 'status', '--json']);
    assert.equal(JSON.parse(st.stdout).running, true, 'up started the DNS server, the supervisor');
    const down = await h.cli(['down', 'sv1']);
    assert.equal(down.code, 0, down.stderr);
    // From here on no cilo command runs: only Docker and the state file are watched.
    // The container goes first, then its state entry (one transaction later).
    await waitFor(async () => (await sharedContainers(project, 'db')).length === 0 && readStateOf(h).shared_services[`${project}/db`] === undefined, {
      what: 'the supervisor to remove the shared db (container and state entry) after its 1 s grace',
      deadlineMs: 60_000,
    });
    assert.equal(readStateOf(h).shared_services[`${project}/db`], undefined);
    assert.ok((await docker.listVolumes({ label: [`cilo.project=${project}`, 'cilo.shared=true'] })).length >= 1);
    // and isolation choices are remembered across ups
    const iso = await h.cli(['up', 'sv1', '--isolate', 'db']);
    assert.equal(iso.code, 0, iso.stderr);
    const again = await h.cli(['up', 'sv1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readStateOf(h).environments.sv1!.services.db!.type, 'isolated', 'a later up without flags keeps --isolate');
    assert.equal((await sharedContainers(project, 'db')).length, 0);
  });
});
