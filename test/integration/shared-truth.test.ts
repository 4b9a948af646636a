/**
 * Issue #23, "Truth" of shared services: a shared service keeps the aliases it declares; a
 * refused one-shot shared service leaves no volume; unused shared volumes and dataset templates
 * are listed and removed by `cilo shared rm` / `doctor --fix`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';
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
