/**
 * Issue #23, "Truth" of shared services: a shared service keeps the aliases it declares; a
 * refused one-shot shared service leaves no volume; unused shared volumes and dataset templates
 * are listed and removed by `cilo shared rm` / `doctor --fix`.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, doctorJson, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { ensureDbImages } from '../support/fixture-images.js';

interface StateFile {
  shared_services: Record<string, { users: string[]; ips: Record<string, string>; grace_until: string | null }>;
  environments: Record<string, { datasets?: Record<string, { name: string; status: string; template: string | null }> }>;
}
const stateOf = (h: TestHome): StateFile => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as StateFile;

/** The database fixture images (postgres...), or why they cannot be built here. */
const noDbImages = ensureDbImages();
if (noDbImages) console.log(`# the dataset cases of shared-truth.test.ts are skipped: ${noDbImages}`);

/** A query as the shared postgres's admin (the fixtures' user app, password app). */
function pgAdmin(project: string, sql: string): string {
  const r = spawnSync('docker', ['exec', '-e', 'PGPASSWORD=app', `cilo_shared_${project}_db`, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', 'postgres', '-Atc', sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const sharedIp = (h: TestHome, project: string, service: string, env: string): string => stateOf(h).shared_services[`${project}/${service}`]!.ips[env]!;

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** When the container was last started (the typed inspect leaves it out). */
function startedAt(id: string): string {
  const r = spawnSync('docker', ['inspect', '-f', '{{.State.StartedAt}}', id], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

async function appOf(project: string, env: string): Promise<string> {
  const apps = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, 'com.docker.compose.service=app'] });
  assert.equal(apps.length, 1, `one app container of ${env}`);
  return apps[0]!.Id;
}

before(() => ensureFixtureImage());

describe('a shared service keeps the aliases it declares', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sa');
  before(() => {
    h = makeHome();
    dir = copyFixture('shared-alias');
  });
  after(() => tearDown(h, project, dir));

  test('`aliases: [database]` resolves from each environment to the shared container, on its first and on a later environment', async () => {
    for (const env of ['a1', 'a2']) {
      const up = await h.cli(['up', env, '--project', project], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
      const app = await appOf(project, env);
      const ip = sharedIp(h, project, 'db', env);
      for (const name of ['db', 'database']) {
        const r = dexec(app, ['nslookup', name]);
        assert.equal(r.code, 0, `${name} from ${env}: ${r.out}`);
        assert.match(r.out, new RegExp(`Address:?\\s+${ip.replace(/\./g, '\\.')}`), `${name} from ${env} is the shared db at ${ip}: ${r.out}`);
      }
    }
  });
});

describe('up of a paused environment with a dataset resumes without making anything again', { skip: noDbImages }, () => {
  let h: TestHome;
  let dir: string;
  const project = uid('pr');
  before(() => {
    h = makeHome();
    // A grace of 1 s: a shared service released by the pause would be gone long before the resume.
    dir = copyFixture('datasets-pg', { '.cilo/config.yml': 'shared_grace_period: 1s\n' });
  });
  after(() => tearDown(h, project, dir));

  test('the paused environment keeps its shared postgres; up thaws the same containers and reuses the dataset', async () => {
    const up = await h.cli(['up', 'p1', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const shared = await docker.inspectContainer(`cilo_shared_${project}_db`);
    assert.ok(shared?.State.Running, 'the shared postgres runs');
    const started = startedAt(shared.Id);
    const api = (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-p1`, 'com.docker.compose.service=api'] }))[0]!;
    const dataset = stateOf(h).environments.p1!.datasets!.db!;
    assert.equal(dataset.status, 'ready');
    const oid = pgAdmin(project, `SELECT oid FROM pg_database WHERE datname = '${dataset.name}'`);
    assert.match(oid, /^\d+$/);

    const down = await h.cli(['down', 'p1', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    const rec = stateOf(h).shared_services[`${project}/db`];
    assert.deepEqual(rec?.users, ['p1'], 'the paused environment still holds the shared postgres');
    assert.equal(rec?.grace_until, null, 'so no grace period runs out under it');
    // A command reaps shared services whose grace ended (before-command): this one is not.
    assert.equal((await h.cli(['shared', 'list'])).code, 0);

    const resume = await h.cli(['up', 'p1', '--json']);
    assert.equal(resume.code, 0, resume.stderr);
    assert.equal(JSON.parse(resume.stdout).timings.compose_up_ms, 0, 'compose was not run');
    const after = await docker.inspectContainer(`cilo_shared_${project}_db`);
    assert.equal(after?.Id, shared.Id, 'the same shared container');
    assert.equal(startedAt(after!.Id), started, 'not restarted');
    const apiAfter = await docker.inspectContainer(api.Id);
    assert.equal(apiAfter?.State.Running, true, 'the same api container runs again');
    assert.equal(pgAdmin(project, `SELECT oid FROM pg_database WHERE datname = '${dataset.name}'`), oid, 'the same database, not made again');
  });
});

describe('a refused one-shot shared service', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sj');
  before(() => {
    h = makeHome();
    dir = copyFixture('shared-job-volume');
  });
  after(() => tearDown(h, project, dir));

  test('leaves no volume behind (nor a container), every time', async () => {
    for (const env of ['j1', 'j2']) {
      const r = await h.cli(['up', env, '--project', project], { cwd: dir });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /Shared service "migrate" exited \(code 0\) right after it started/);
      assert.deepEqual((await docker.listContainers({ label: ['cilo.shared=true', `cilo.project=${project}`] })).map((c) => c.Names), [], 'no shared container');
      assert.deepEqual((await docker.listVolumes({ label: [`cilo.project=${project}`] })).map((v) => v.Name), [], 'no volume');
    }
  });
});

interface Leftover {
  kind: 'volume' | 'template';
  project: string;
  service: string;
  name: string;
}

/** `cilo shared list --json`'s unused volumes and templates (the command also reaps shared services whose grace ended). */
async function unusedOf(h: TestHome, project: string): Promise<Leftover[]> {
  const r = await h.cli(['shared', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { unused: Leftover[] }).unused.filter((l) => l.project === project);
}

const volumesOf = async (project: string): Promise<string[]> => (await docker.listVolumes({ label: ['cilo.shared=true', `cilo.project=${project}`] })).map((v) => v.Name).sort();

describe('unused shared volumes: listed, removed by shared rm and doctor --fix, never while in use', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('su');
  before(() => {
    h = makeHome();
    // test/fixtures/shared-db: a shared db with a named volume; its grace 1 s.
    dir = copyFixture('shared-db', { '.env': 'SHARED_GRACE=1s\n' });
  });
  after(() => tearDown(h, project, dir));

  /** Brings env up and destroys it again; resolves once its shared db is reaped and the volume is unused. */
  async function leaveVolume(env: string): Promise<string> {
    const up = await h.cli(['up', env, '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const [volume] = await volumesOf(project);
    assert.ok(volume, 'the shared db has its volume');
    const d = await h.cli(['destroy', env, '--force']);
    assert.equal(d.code, 0, d.stderr);
    await waitFor(async () => (await unusedOf(h, project)).some((l) => l.kind === 'volume' && l.name === volume), { what: `volume ${volume} to be listed unused once the shared db is reaped`, deadlineMs: 120_000 });
    return volume;
  }

  test('shared rm refuses a volume in use, naming the environment; removes it once nothing uses it', async () => {
    const up = await h.cli(['up', 'u1', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const volumes = await volumesOf(project);
    assert.equal(volumes.length, 1);
    assert.deepEqual(await unusedOf(h, project), [], 'a volume in use is not listed unused');
    const refused = await h.cli(['shared', 'rm', 'db', '--project', project, '--force']);
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /Shared service "db" of project \S+ is still in use, so nothing was removed: .*used by u1/);
    assert.match(refused.stderr, /hint: Destroy u1 first/);
    assert.deepEqual(await volumesOf(project), volumes, 'nothing removed');
    const none = await h.cli(['shared', 'rm', '--unused', '--project', project, '--force']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /Nothing to remove/);
    assert.deepEqual(await volumesOf(project), volumes);
    // Stopped, the environment still exists: its next up wants the data back.
    assert.equal((await h.cli(['down', 'u1'])).code, 0);
    await waitFor(async () => readFileSync(join(h.home, 'state.json'), 'utf8').includes(`"${project}/db"`) === false, { what: 'the shared db to be reaped after its grace', deadlineMs: 120_000 });
    const stopped = await h.cli(['shared', 'rm', 'db', '--project', project, '--force']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /environments u1 of project \S+ exist/);
    assert.deepEqual(await volumesOf(project), volumes);

    const d = await h.cli(['destroy', 'u1', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual((await unusedOf(h, project)).map((l) => [l.kind, l.service, l.name]), [['volume', 'db', volumes[0]]]);
    const rm = await h.cli(['shared', 'rm', 'db', '--project', project, '--force', '--json']);
    assert.equal(rm.code, 0, rm.stderr);
    const out = JSON.parse(rm.stdout) as { removed: Leftover[]; failed: unknown[] };
    assert.deepEqual(out.removed.map((l) => [l.kind, l.name]), [['volume', volumes[0]]]);
    assert.deepEqual(out.failed, []);
    assert.deepEqual(await volumesOf(project), [], 'the volume is gone');
  });

  test('without a terminal and without --force, shared rm asks for nothing and removes nothing', async () => {
    const volume = await leaveVolume('u2');
    const r = await h.cli(['shared', 'rm', '--unused']);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, new RegExp(`Refusing to remove volume ${volume} .* without confirmation`));
    assert.deepEqual(await volumesOf(project), [volume]);
  });

  test('doctor lists an unused shared volume; --fix --force removes it, saying which', async () => {
    const [volume] = await volumesOf(project);
    assert.ok(volume, 'left by the case before');
    const report = await doctorJson(h);
    const finding = report.findings.find((f) => f.kind === 'shared.unused-volume');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.match(finding.message, new RegExp(`Volume ${volume} of shared service db`));
    const noForce = await doctorJson(h, '--fix');
    assert.equal(noForce.findings.find((f) => f.kind === 'shared.unused-volume')?.needs_force, true, 'a volume may hold data: --force');
    assert.deepEqual(await volumesOf(project), [volume]);
    const fixed = await h.cli(['doctor', '--fix', '--force']);
    assert.match(fixed.stdout, new RegExp(`shared.unused-volume .*${volume}[\\s\\S]*fixed: remove volume ${volume}`));
    assert.deepEqual(await volumesOf(project), []);
  });
});

describe('unused dataset templates: listed and dropped, never one an environment was made from', { skip: noDbImages }, () => {
  let h: TestHome;
  let dir: string;
  const project = uid('st');
  before(() => {
    h = makeHome();
    dir = copyFixture('datasets-pg');
  });
  after(() => tearDown(h, project, dir));

  test('shared rm --unused drops a template no dataset was made from, and nothing else; doctor lists it first', async () => {
    const one = await h.cli(['up', 't1', '--project', project], { cwd: dir });
    assert.equal(one.code, 0, one.stderr);
    const template = stateOf(h).environments.t1!.datasets!.db!.template;
    assert.match(template ?? '', /^cilo_tpl_/);
    const two = await h.cli(['up', 't2', '--project', project, '--db-from', 't1'], { cwd: dir });
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(await unusedOf(h, project), [], 't1 was made from the template');
    const refused = await h.cli(['shared', 'rm', 'db', '--project', project, '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`template ${template}: the datasets of t1 were made from it`));
    assert.match(refused.stderr, /hint: Destroy t1 first/);

    assert.equal((await h.cli(['destroy', 't1', '--force'])).code, 0);
    assert.deepEqual((await unusedOf(h, project)).map((l) => [l.kind, l.name]), [['template', template]], 'the template is unused');
    const report = await doctorJson(h);
    assert.ok(report.findings.some((f) => f.kind === 'shared.unused-template' && f.subject.endsWith(`:${template}`)), JSON.stringify(report.findings));
    const rm = await h.cli(['shared', 'rm', '--unused', '--force']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, new RegExp(`Removed template ${template} \\(shared db of project ${project}\\)`));
    assert.equal(pgAdmin(project, `SELECT count(*) FROM pg_database WHERE datname = '${template}'`), '0', 'dropped');
    const t2 = stateOf(h).environments.t2!.datasets!.db!.name;
    assert.equal(pgAdmin(project, `SELECT count(*) FROM pg_database WHERE datname = '${t2}'`), '1', "t2's dataset stays");
    assert.deepEqual(await unusedOf(h, project), []);
  });
});

describe('a shared service killed while up waits for it', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sk');
  before(() => {
    h = makeHome();
    // Healthy only once /tmp/ready exists, which nothing makes: up waits until the test kills it.
    dir = copyFixture('shared-db-idle', {
      'compose.yaml': [
        'services:',
        '  app:',
        '    image: cilo-fixture/busybox:1',
        '    init: true',
        '    command: ["sleep", "3600"]',
        '  db:',
        '    image: cilo-fixture/busybox:1',
        '    init: true',
        '    command: ["sleep", "3600"]',
        '    healthcheck: { test: ["CMD", "test", "-f", "/tmp/ready"], interval: 1s, retries: 1000 }',
        '    labels: { cilo.share: "true" }',
        '',
      ].join('\n'),
    });
  });
  after(() => tearDown(h, project, dir));

  test('is reported as killed from outside, not as a one-shot job that cannot be shared', async () => {
    const name = `cilo_shared_${project}_db`;
    const up = h.cli(['up', 'k1', '--project', project, '--timeout', '300'], { cwd: dir });
    await waitFor(async () => (await docker.inspectContainer(name))?.State.Running === true, { what: 'the shared container running' });
    const kill = spawnSync('docker', ['kill', name], { encoding: 'utf8' });
    assert.equal(kill.status, 0, kill.stderr);
    const r = await up;
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Shared service "db" was killed by SIGKILL \(exit code 137\) from outside cilo while cilo waited for it to be ready/);
    assert.doesNotMatch(r.stderr, /only a service that keeps running can be shared/);
    assert.match(r.stderr, /docker events --filter container=/);
  });
});
