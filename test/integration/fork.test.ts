/**
 * Fork and snapshots (issue #17) against the real engine: volumes copied while the source is
 * frozen, a real postgres forked under writes, datasets in a shared postgres, failures that
 * leave nothing behind, and the reflink path on a small XFS file system made here.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, lstatSync, readlinkSync, chownSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VolumeDataCopier } from '../../src/workspace/volume-copy.js';
import { ensureDbImages } from '../support/fixture-images.js';
import { CLI, copyFixture, docker, doctorJson, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

interface ForkJson {
  environment: { name: string; status: string; workspace: string };
  from: string;
  snapshot: string | null;
  volumes: { volume: string; method: string; ms: number }[];
  method: string;
  datasets: { service: string; name: string; from: string; method: string }[];
  frozen_ms: number;
}

function container(project: string, env: string, service: string): string {
  const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=cilo-${project}-${env}`, '--filter', `label=com.docker.compose.service=${service}`], { encoding: 'utf8' });
  const id = r.stdout.trim().split('\n')[0];
  assert.ok(id, `no ${service} container in ${env}`);
  return id;
}

function sh(id: string, line: string, env: string[] = []): string {
  const r = spawnSync('docker', ['exec', ...env.flatMap((e) => ['-e', e]), id, 'sh', '-c', line], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  return r.stdout.trim();
}

const stateOf = (h: TestHome): { environments: Record<string, { status: string; fork?: unknown }> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

async function containerStates(project: string, env: string): Promise<string[]> {
  return (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`] })).map((c) => c.State);
}

/** Nothing of environment `env` is left: state entry, network, volumes, workspace. */
async function assertGone(h: TestHome, project: string, env: string): Promise<void> {
  assert.equal(stateOf(h).environments[env], undefined, 'state entry left');
  assert.equal(await docker.inspectNetwork(`cilo_${project}_${env}`), null, 'network left');
  assert.deepEqual((await docker.listVolumes({ label: [`com.docker.compose.project=cilo-${project}-${env}`] })).map((v) => v.Name), [], 'volumes left');
  assert.equal(existsSync(join(h.home, 'envs', project, env)), false, 'workspace left');
}

describe('fork and snapshots of named volumes', () => {
  let h: TestHome;
  let dir: string;
  const p = uid('fk');
  before(async () => {
    h = makeHome();
    dir = copyFixture('fork-volume');
    const up = await h.cli(['up', 'src', '--project', p], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    sh(container(p, 'src', 'web'), 'echo from-source > /data/marker && mkdir -p /data/sub && chown 65534:65534 /data/sub && chmod 0750 /data/sub && ln -s marker /data/link');
    // uncommitted work in the workspace travels with the fork
    writeFileSync(join(h.home, 'envs', p, 'src', 'notes.txt'), 'work in progress\n');
  });
  after(() => tearDown(h, p, dir));

  test('a marker file in a volume appears in the fork, owners, modes and symlinks kept; writes in the fork stay there', async () => {
    const r = await h.cli(['fork', 'src', 'copy', '--up', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as ForkJson;
    assert.equal(j.environment.name, 'copy');
    assert.equal(j.environment.status, 'running');
    assert.deepEqual(j.volumes.map((v) => v.volume), ['data']);
    assert.ok(['copy', 'reflink'].includes(j.method), j.method);
    assert.ok(j.frozen_ms >= 0);
    assert.equal(readFileSync(join(j.environment.workspace, 'notes.txt'), 'utf8'), 'work in progress\n');
    const web = container(p, 'copy', 'web');
    assert.equal(sh(web, 'cat /data/marker'), 'from-source');
    assert.equal(sh(web, 'stat -c "%u:%g %a" /data/sub'), '65534:65534 750');
    assert.equal(sh(web, 'readlink /data/link'), 'marker');
    sh(web, 'echo from-fork > /data/marker');
    assert.equal(sh(container(p, 'src', 'web'), 'cat /data/marker'), 'from-source');
    // the source ran on: nothing left paused
    assert.deepEqual([...new Set(await containerStates(p, 'src'))], ['running']);
  });

  test('a helper container copies where cilo is told not to reach the volume directly', async () => {
    const r = await h.cli(['fork', 'src', 'viahelper', '--json'], { env: { CILO_VOLUME_COPY: 'container' } });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as ForkJson;
    assert.equal(j.method, 'container');
    const up = await h.cli(['up', 'viahelper']);
    assert.equal(up.code, 0, up.stderr);
    const web = container(p, 'viahelper', 'web');
    assert.equal(sh(web, 'cat /data/marker'), 'from-source');
    assert.equal(sh(web, 'stat -c "%u:%g %a" /data/sub'), '65534:65534 750');
    // no helper container is left
    assert.deepEqual(await docker.listContainers({ label: ['cilo.helper=volume-copy'] }), []);
  });

  test('snapshot create / list / restore / fork --from-snapshot / rm; kept when the environment is destroyed', async () => {
    const c = await h.cli(['snapshot', 'create', 'copy', '--name', 'before', '--json']);
    assert.equal(c.code, 0, c.stderr);
    const dirOf = join(h.home, 'snapshots');
    assert.equal(statSync(dirOf).mode & 0o777, 0o700);
    assert.equal(statSync(join(dirOf, 'before')).mode & 0o777, 0o700);
    const web = container(p, 'copy', 'web');
    sh(web, 'echo after-snapshot > /data/marker; echo extra > /data/new');
    writeFileSync(join(h.home, 'envs', p, 'copy', 'after-snapshot.txt'), 'later work\n');
    const list = await h.cli(['snapshot', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const snaps = (JSON.parse(list.stdout) as { snapshots: { name: string; env: string; status: string }[] }).snapshots;
    assert.deepEqual(snaps.map((s) => [s.name, s.env, s.status]), [['before', 'copy', 'ready']]);

    const restore = await h.cli(['snapshot', 'restore', 'copy', 'before']);
    assert.equal(restore.code, 0, restore.stderr);
    await waitFor(async () => (await containerStates(p, 'copy')).every((s) => s === 'running'), { what: 'copy running again' });
    const web2 = container(p, 'copy', 'web');
    assert.equal(sh(web2, 'cat /data/marker'), 'from-fork');
    assert.equal(sh(web2, 'test -e /data/new && echo yes || echo no'), 'no');

    const f = await h.cli(['fork', '--from-snapshot', 'before', 'fromsnap', '--up', '--json']);
    assert.equal(f.code, 0, f.stderr);
    assert.equal((JSON.parse(f.stdout) as ForkJson).snapshot, 'before');
    assert.equal(sh(container(p, 'fromsnap', 'web'), 'cat /data/marker'), 'from-fork');

    const d = await h.cli(['destroy', 'copy', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(existsSync(join(dirOf, 'before', 'snapshot.json')), 'destroy removed the snapshot');

    // The snapshot holds the workspace as it was: a fork from it needs nothing of the destroyed environment.
    const orphan = await h.cli(['fork', '--from-snapshot', 'before', 'afterdestroy', '--json']);
    assert.equal(orphan.code, 0, orphan.stderr);
    const ws = join(h.home, 'envs', p, 'afterdestroy');
    assert.equal(readFileSync(join(ws, 'notes.txt'), 'utf8'), 'work in progress\n', 'uncommitted work of the moment of the snapshot');
    assert.equal(existsSync(join(ws, 'after-snapshot.txt')), false, 'nothing written after the snapshot');
    const upOrphan = await h.cli(['up', 'afterdestroy']);
    assert.equal(upOrphan.code, 0, upOrphan.stderr);
    assert.equal(sh(container(p, 'afterdestroy', 'web'), 'cat /data/marker'), 'from-fork');
    const rm = await h.cli(['snapshot', 'rm', 'before']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(existsSync(join(dirOf, 'before')), false);
  });

  test('restore into an environment paused by down --pause leaves it paused, and up resumes it with the restored data', async () => {
    sh(container(p, 'src', 'web'), 'echo before-pause-snapshot > /data/pmarker');
    const c = await h.cli(['snapshot', 'create', 'src', '--name', 'paused-one']);
    assert.equal(c.code, 0, c.stderr);
    sh(container(p, 'src', 'web'), 'echo changed > /data/pmarker');
    const down = await h.cli(['down', 'src', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    const r = await h.cli(['snapshot', 'restore', 'src', 'paused-one']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await containerStates(p, 'src')).every((st) => st === 'paused'), 'still paused, as its state says');
    const up = await h.cli(['up', 'src']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(sh(container(p, 'src', 'web'), 'cat /data/pmarker'), 'before-pause-snapshot');
    assert.equal((await h.cli(['snapshot', 'rm', 'paused-one'])).code, 0);
  });

  test('a fork whose copy fails leaves no state entry, network, volume or workspace, and the source was thawed', async () => {
    const r = await h.cli(['fork', 'src', 'broken'], { env: { CILO_TEST_FAILPOINT: 'volume-copy' } });
    assert.equal(r.code, 1, r.stdout);
    await assertGone(h, p, 'broken');
    assert.deepEqual([...new Set(await containerStates(p, 'src'))], ['running']);
    assert.equal(sh(container(p, 'src', 'web'), 'cat /data/marker'), 'from-source');
  });

  test('a fork killed while the source is frozen is cleaned by doctor --fix, which thaws the source', async () => {
    const r = await h.cli(['fork', 'src', 'killed'], { env: { CILO_TEST_FAILPOINT: 'volume-copy-kill' } });
    assert.notEqual(r.code, 0);
    assert.equal(stateOf(h).environments.killed?.status, 'creating');
    assert.ok((await containerStates(p, 'src')).includes('paused'), 'the source was frozen when the fork died');
    const doc = await doctorJson(h, '--fix');
    assert.ok(doc.findings.some((f) => f.kind === 'env.interrupted-create' && f.subject === 'killed' && f.fixed), JSON.stringify(doc.findings));
    await assertGone(h, p, 'killed');
    assert.deepEqual([...new Set(await containerStates(p, 'src'))], ['running']);
  });
});

/** Runs the CLI on a terminal (util-linux `script`), answering `answer` to its question. */
function onTerminal(h: TestHome, args: string[], answer: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const line = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qec', line, '/dev/null'], { env: h.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
      if (!answered && output.includes('[y/N]')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 128, output }));
  });
}

describe('snapshot restore: whose snapshot, in which order, and a service that does not come back', () => {
  let h: TestHome;
  let dir: string;
  const p = uid('rs');
  before(async () => {
    h = makeHome();
    dir = copyFixture('restore-order');
    for (const e of ['one', 'two']) {
      const up = await h.cli(['up', e, '--project', p], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
    }
  });
  after(() => tearDown(h, p, dir));
  /** The services of `env` in the order they started, from their log in its workspace (a restore leaves the workspace alone). */
  const starts = (env: string): string[] => readFileSync(join(h.home, 'envs', p, env, 'log', 'starts'), 'utf8').split('\n').filter(Boolean);

  test("another environment's snapshot is refused without --from-other (nothing touched), asked on a terminal, restored with it", async () => {
    sh(container(p, 'one', 'web'), 'echo one > /data/marker');
    sh(container(p, 'two', 'web'), 'echo two > /data/marker');
    const snap = await h.cli(['snapshot', 'create', 'one', '--name', 'of-one']);
    assert.equal(snap.code, 0, snap.stderr);
    const web = container(p, 'two', 'web');
    const startsBefore = starts('two').length;

    const r = await h.cli(['snapshot', 'restore', 'two', 'of-one']);
    assert.equal(r.code, 1, `refused with exit 1: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /Snapshot "of-one" was taken from environment one, not two/);
    assert.match(r.stderr, /--from-other/);
    assert.equal(sh(web, 'cat /data/marker'), 'two', "two's data unchanged");
    assert.deepEqual([...new Set(await containerStates(p, 'two'))], ['running']);
    assert.equal(starts('two').length, startsBefore, 'no container of two was stopped and started');

    const asked = await onTerminal(h, ['snapshot', 'restore', 'two', 'of-one'], 'n');
    assert.equal(asked.code, 1, asked.output);
    assert.match(asked.output, /taken from one\. Replace the volumes and datasets of two/);
    assert.match(asked.output, /Nothing was restored/);
    assert.equal(sh(web, 'cat /data/marker'), 'two', "two's data unchanged after no");

    const ok = await h.cli(['snapshot', 'restore', 'two', 'of-one', '--from-other', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { from: string }).from, 'one');
    assert.equal(sh(container(p, 'two', 'web'), 'cat /data/marker'), 'one');
  });

  test('restore starts the services again in their depends_on order, each ready before the next', async () => {
    const before = starts('one').length;
    const r = await h.cli(['snapshot', 'restore', 'one', 'of-one', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(starts('one').slice(before), ['db', 'api', 'web']);
    assert.deepEqual((JSON.parse(r.stdout) as { started: string[] }).started, ['db', 'api', 'web']);
    assert.deepEqual([...new Set(await containerStates(p, 'one'))], ['running']);
  });

  test('a service that does not come back after a restore fails it with exit 1, naming the service', async () => {
    const web = container(p, 'one', 'web');
    sh(web, 'touch /data/broken');
    const snap = await h.cli(['snapshot', 'create', 'one', '--name', 'broken']);
    assert.equal(snap.code, 0, snap.stderr);
    sh(web, 'rm /data/broken');
    const r = await h.cli(['snapshot', 'restore', 'one', 'broken']);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /Service "web" of environment "one" exited with code 3/);
    assert.match(r.stderr, /broken data in \/data/);
  });
});

const dbSkip = ensureDbImages();
if (dbSkip) console.log(`# fork.test.ts postgres tests skipped: ${dbSkip}`);

describe('fork of a postgres environment under writes', { skip: dbSkip }, () => {
  let h: TestHome;
  let dir: string;
  const p = uid('fkpg');
  const PG = ['PGPASSWORD=app'];
  const psql = (id: string, sql: string): string => sh(id, `psql -h 127.0.0.1 -U app -d shop -Atc "${sql}"`, PG);
  before(async () => {
    h = makeHome();
    dir = copyFixture('fork-pg');
    const up = await h.cli(['up', 'main', '--project', p], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    psql(container(p, 'main', 'db'), 'CREATE TABLE t (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
  });
  after(() => tearDown(h, p, dir));

  test('the fork starts (postgres recovers), has the rows committed before the freeze, and accepts writes; restore brings back the snapshot rows', async () => {
    const db = container(p, 'main', 'db');
    // A client writing all the time, one row per transaction.
    spawnSync('docker', ['exec', '-d', '-e', 'PGPASSWORD=app', db, 'sh', '-c', 'while [ ! -e /tmp/stop-writer ]; do psql -h 127.0.0.1 -U app -d shop -qc "INSERT INTO t DEFAULT VALUES" >/dev/null 2>&1; done'], { encoding: 'utf8' });
    await waitFor(() => Number(psql(db, 'SELECT count(*) FROM t')) > 20, { what: 'the writer writing' });
    const before = Number(psql(db, 'SELECT count(*) FROM t'));
    const r = await h.cli(['fork', 'main', 'branch', '--up', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as ForkJson;
    assert.deepEqual(j.volumes.map((v) => v.volume), ['pgdata']);
    const fork = container(p, 'branch', 'db');
    const rows = Number(psql(fork, 'SELECT count(*) FROM t'));
    assert.ok(rows >= before, `fork has ${rows} rows, ${before} were committed before the fork began`);
    // no gaps: every committed row up to the freeze, in order
    assert.equal(psql(fork, 'SELECT max(id) - min(id) + 1 = count(*) FROM t'), 't');
    psql(fork, 'INSERT INTO t DEFAULT VALUES');
    assert.equal(Number(psql(fork, 'SELECT count(*) FROM t')), rows + 1);
    // the source was thawed and goes on writing
    await waitFor(() => Number(psql(db, 'SELECT count(*) FROM t')) > rows + 10, { what: 'the source writing after the fork' });
    console.log(`# postgres fork: ${rows} rows in the fork, source frozen ${j.frozen_ms} ms, volume ${j.method}`);

    // snapshot → more rows → restore: back to the snapshot's rows
    sh(db, 'touch /tmp/stop-writer');
    const snap = await h.cli(['snapshot', 'create', 'branch', '--name', 'pgsnap']);
    assert.equal(snap.code, 0, snap.stderr);
    const atSnapshot = Number(psql(fork, 'SELECT count(*) FROM t'));
    psql(fork, 'INSERT INTO t SELECT FROM generate_series(1, 100)');
    const restore = await h.cli(['snapshot', 'restore', 'branch', 'pgsnap']);
    assert.equal(restore.code, 0, restore.stderr);
    await waitFor(() => {
      const q = spawnSync('docker', ['exec', '-e', 'PGPASSWORD=app', fork, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', 'shop', '-Atc', 'SELECT count(*) FROM t'], { encoding: 'utf8' });
      return q.status === 0 && Number(q.stdout.trim()) === atSnapshot;
    }, { what: `the restored database answering with ${atSnapshot} rows`, deadlineMs: 60_000 });
  });
});

/** Environment `one` of a fixture project, up for the whole suite (in `before`), torn down after it. */
function withEnvOne(fixture: string, p: string): () => TestHome {
  let h: TestHome | undefined;
  let dir = '';
  before(async () => {
    h = makeHome();
    dir = copyFixture(fixture);
    const up = await h.cli(['up', 'one', '--project', p], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
  });
  after(() => (h ? tearDown(h, p, dir) : undefined));
  return () => {
    assert.ok(h, 'the suite set up no home');
    return h;
  };
}

describe('fork of a private dataset in a shared postgres', { skip: dbSkip }, () => {
  const p = uid('fkds');
  const home = withEnvOne('datasets-pg', p);

  test("the fork's database is a file copy of the source's (no session on it), and the source accepts connections after", async () => {
    const api = container(p, 'one', 'api');
    sh(api, 'psql "$DATABASE_URL" -qc "CREATE TABLE forked (v text); INSERT INTO forked VALUES (\'one\')"');
    const r = await home().cli(['fork', 'one', 'two', '--up', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as ForkJson;
    assert.deepEqual(j.datasets.map((d) => [d.service, d.method]), [['db', 'template']], 'no session on the source: a file copy');
    const api2 = container(p, 'two', 'api');
    assert.equal(sh(api2, 'psql "$DATABASE_URL" -Atc "SELECT v FROM forked"'), 'one');
    sh(api2, 'psql "$DATABASE_URL" -qc "INSERT INTO forked VALUES (\'two\')"');
    assert.equal(sh(api, 'psql "$DATABASE_URL" -Atc "SELECT count(*) FROM forked"'), '1');
    // the source database accepts connections again
    assert.equal(sh(api, 'psql "$DATABASE_URL" -Atc "SELECT 1"'), '1');
  });

  test("a snapshot keeps a copy of the dataset that restore brings back; doctor leaves it alone; rm drops it", async () => {
    const api = container(p, 'one', 'api');
    const snap = await home().cli(['snapshot', 'create', 'one', '--name', 'ds', '--json']);
    assert.equal(snap.code, 0, snap.stderr);
    const s = (JSON.parse(snap.stdout) as { snapshot: { datasets: { service: string; name: string }[] } }).snapshot;
    assert.deepEqual(s.datasets.map((d) => d.service), ['db']);
    const copy = s.datasets[0]!.name;
    const admin = (sql: string): string => sh(`cilo_shared_${p}_db`, `psql -h 127.0.0.1 -U app -d postgres -Atc "${sql}"`, ['PGPASSWORD=app']);
    assert.equal(admin(`SELECT count(*) FROM pg_database WHERE datname = '${copy}'`), '1');
    sh(api, 'psql "$DATABASE_URL" -qc "DELETE FROM forked"');
    const doc = await doctorJson(home());
    assert.ok(!doc.findings.some((f) => f.kind.startsWith('dataset.')), JSON.stringify(doc.findings));
    const r = await home().cli(['snapshot', 'restore', 'one', 'ds']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sh(api, 'psql "$DATABASE_URL" -Atc "SELECT v FROM forked"'), 'one');
    const rm = await home().cli(['snapshot', 'rm', 'ds']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(admin(`SELECT count(*) FROM pg_database WHERE datname = '${copy}'`), '0');
  });

  test("a restore whose dataset copy fails leaves the environment's dataset as it was", async () => {
    const api = container(p, 'one', 'api');
    const snap = await home().cli(['snapshot', 'create', 'one', '--name', 'lost', '--json']);
    assert.equal(snap.code, 0, snap.stderr);
    const copy = (JSON.parse(snap.stdout) as { snapshot: { datasets: { name: string }[] } }).snapshot.datasets[0]!.name;
    // The snapshot's copy is gone from the engine: a copy from it cannot be made.
    sh(`cilo_shared_${p}_db`, `psql -h 127.0.0.1 -U app -d postgres -Atc 'DROP DATABASE "${copy}"'`, ['PGPASSWORD=app']);
    sh(api, 'psql "$DATABASE_URL" -qc "INSERT INTO forked VALUES (\'kept\')"');
    const r = await home().cli(['snapshot', 'restore', 'one', 'lost']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /lost|does not exist/);
    await waitFor(async () => (await containerStates(p, 'one')).every((st) => st === 'running'), { what: 'one running again' });
    assert.equal(sh(api, 'psql "$DATABASE_URL" -Atc "SELECT count(*) FROM forked WHERE v = \'kept\'"'), '1', "one's dataset is still there, unchanged");
    assert.equal((await home().cli(['snapshot', 'rm', 'lost'])).code, 0);
  });

  test("a fork leaves the source's sessions alone: a writer connected to the source goes on, and the fork has its rows", async () => {
    const api = container(p, 'one', 'api');
    const admin = (db: string, sql: string): string => sh(`cilo_shared_${p}_db`, `psql -h 127.0.0.1 -U app -d "${db}" -Atc "${sql}"`, ['PGPASSWORD=app']);
    sh(api, 'psql "$DATABASE_URL" -qc "CREATE TABLE beats (n serial PRIMARY KEY)"');
    // One long-lived session writing a row every 0.2 s until told to stop; how it ended is written down.
    const writer = spawnSync('docker', ['exec', '-d', api, 'sh', '-c', '(while [ ! -e /tmp/stop-beats ]; do echo "INSERT INTO beats DEFAULT VALUES;"; sleep 0.2; done) | PGAPPNAME=beats psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1; echo "exit $?" > /tmp/beats-ended'], { encoding: 'utf8' });
    assert.equal(writer.status, 0, writer.stderr);
    const source = sh(api, 'psql "$DATABASE_URL" -Atc "SELECT current_database()"');
    const beats = (db: string): number => Number(admin(db, 'SELECT count(*) FROM beats'));
    const session = (): string => admin('postgres', `SELECT pid FROM pg_stat_activity WHERE application_name = 'beats'`);
    try {
      await waitFor(() => session() !== '' && beats(source) >= 3, { what: 'the writer writing' });
      const pid = session();
      const before = beats(source);
      const r = await home().cli(['fork', 'one', 'live', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const atFork = beats(source);
      assert.equal(sh(api, 'cat /tmp/beats-ended 2>/dev/null || echo running'), 'running', 'the writer session ended');
      assert.equal(session(), pid, 'the same session goes on');
      await waitFor(() => beats(source) > atFork + 2, { what: 'the writer writing after the fork' });
      const j = JSON.parse(r.stdout) as ForkJson;
      assert.deepEqual(j.datasets.map((d) => d.method), ['dump'], 'a session on the source: a dump');
      const forked = j.datasets[0]!.name;
      assert.ok(beats(forked) >= before, `the fork has ${beats(forked)} rows, ${before} were written before it began`);
      assert.equal(admin(forked, 'SELECT count(*) FROM forked WHERE v = \'one\''), '1');
    } finally {
      spawnSync('docker', ['exec', api, 'touch', '/tmp/stop-beats']);
    }
  });
});

describe('fork of a private mariadb database', { skip: dbSkip }, () => {
  const p = uid('fkmd');
  const home = withEnvOne('datasets-mariadb', p);

  test("a writer connected to the source goes on through the fork (same connection), and the fork has its rows", async () => {
    const api = container(p, 'one', 'api');
    const q = (sql: string): string => sh(api, `mariadb -h db -uapp -papp "$DB_DATABASE" --batch --skip-column-names -e "${sql}"`);
    q('CREATE TABLE beats (n int AUTO_INCREMENT PRIMARY KEY)');
    // One session (no reconnecting) writing a row every 0.2 s; how it ended is written down.
    const writer = spawnSync('docker', ['exec', '-d', api, 'sh', '-c', '(while [ ! -e /tmp/stop-beats ]; do echo "INSERT INTO beats VALUES ();"; sleep 0.2; done) | mariadb --skip-reconnect -h db -uapp -papp "$DB_DATABASE"; echo "exit $?" > /tmp/beats-ended'], { encoding: 'utf8' });
    // The writer's connection: the only other one of user app (each `q` is one of its own, and ends).
    const session = (): string => q("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app' AND ID <> CONNECTION_ID()");
    assert.equal(writer.status, 0, writer.stderr);
    try {
      await waitFor(() => Number(q('SELECT count(*) FROM beats')) >= 3, { what: 'the writer writing' });
      const id = session();
      const r = await home().cli(['fork', 'one', 'two', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const atFork = Number(q('SELECT count(*) FROM beats'));
      assert.equal(sh(api, 'cat /tmp/beats-ended 2>/dev/null || echo running'), 'running', 'the writer session ended');
      assert.equal(session(), id, 'the same connection goes on');
      await waitFor(() => Number(q('SELECT count(*) FROM beats')) > atFork + 2, { what: 'the writer writing after the fork' });
      const j = JSON.parse(r.stdout) as ForkJson;
      assert.deepEqual(j.datasets.map((d) => d.method), ['dump']);
      const forked = sh(`cilo_shared_${p}_db`, `mariadb -h127.0.0.1 -uroot --batch --skip-column-names -e "SELECT count(*) FROM \\\`${j.datasets[0]!.name}\\\`.beats"`, ['MYSQL_PWD=rootpw']);
      assert.ok(Number(forked) > 0, `the fork has ${forked} rows`);
    } finally {
      spawnSync('docker', ['exec', api, 'touch', '/tmp/stop-beats']);
    }
  });

  test('restore puts the database back from the snapshot (a copy made beside it, then loaded again), leaving no copy behind', async () => {
    const q = (sql: string): string => sh(container(p, 'one', 'api'), `mariadb -h db -uapp -papp "$DB_DATABASE" --batch --skip-column-names -e "${sql}"`);
    q("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('at-snapshot')");
    const snap = await home().cli(['snapshot', 'create', 'one', '--name', 'md']);
    assert.equal(snap.code, 0, snap.stderr);
    q("UPDATE kept SET v = 'later'");
    const r = await home().cli(['snapshot', 'restore', 'one', 'md', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { datasets: { method: string }[] }).datasets.map((d) => d.method), ['dump']);
    assert.equal(q('SELECT v FROM kept'), 'at-snapshot');
    const dbs = sh(`cilo_shared_${p}_db`, 'mariadb -h127.0.0.1 -uroot --batch --skip-column-names -e "SHOW DATABASES"', ['MYSQL_PWD=rootpw']);
    assert.doesNotMatch(dbs, /_restoring/);
    assert.equal((await home().cli(['snapshot', 'rm', 'md'])).code, 0);
  });
});

describe('fork of a private redis index', { skip: dbSkip }, () => {
  const p = uid('fkrd');
  const home = withEnvOne('datasets-redis', p);

  test("the fork's index holds the source's keys, in an index of its own", async () => {
    const api = container(p, 'one', 'api');
    sh(api, 'redis-cli -u "$REDIS_URL" SET forked one');
    const r = await home().cli(['fork', 'one', 'two', '--up', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as ForkJson;
    assert.notEqual(j.datasets[0]?.name, j.datasets[0]?.from);
    const api2 = container(p, 'two', 'api');
    assert.equal(sh(api2, 'redis-cli -u "$REDIS_URL" GET forked'), 'one');
    sh(api2, 'redis-cli -u "$REDIS_URL" SET forked two');
    assert.equal(sh(api, 'redis-cli -u "$REDIS_URL" GET forked'), 'one');
  });

  test('restore puts the index back from the snapshot (copied into a free index, then swapped in)', async () => {
    const api = container(p, 'one', 'api');
    sh(api, 'redis-cli -u "$REDIS_URL" SET restored at-snapshot');
    const snap = await home().cli(['snapshot', 'create', 'one', '--name', 'rd']);
    assert.equal(snap.code, 0, snap.stderr);
    sh(api, 'redis-cli -u "$REDIS_URL" SET restored later');
    sh(api, 'redis-cli -u "$REDIS_URL" SET extra later');
    const indexes = (): string[] => sh(`cilo_shared_${p}_cache`, 'redis-cli INFO keyspace').split('\n').filter((l) => /^db\d+:/.test(l)).map((l) => l.split(':')[0]!);
    const before = indexes();
    const r = await home().cli(['snapshot', 'restore', 'one', 'rd', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { datasets: { method: string }[] }).datasets.map((d) => d.method), ['keys']);
    assert.equal(sh(api, 'redis-cli -u "$REDIS_URL" GET restored'), 'at-snapshot');
    assert.equal(sh(api, 'redis-cli -u "$REDIS_URL" EXISTS extra'), '0');
    assert.deepEqual(indexes(), before, 'the spare index the copy was made in is empty again');
    assert.equal((await home().cli(['snapshot', 'rm', 'rd'])).code, 0);
  });
});

/** A small XFS file system on a loop device, or the reason there cannot be one here. */
function makeXfs(): { mount: string; cleanup: () => void } | string {
  if (process.getuid?.() !== 0) return 'not root (loop devices and mount need it)';
  if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'xfsprogs'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (spawnSync('sh', ['-c', 'command -v mkfs.xfs']).status !== 0) return 'mkfs.xfs is not installed (apt-get install xfsprogs)';
  }
  const base = mkdtempSync(join(tmpdir(), 'cilo-xfs-'));
  const image = join(base, 'fs.img');
  const mount = join(base, 'mnt');
  mkdirSync(mount);
  const run = (cmd: string, args: string[]): { ok: boolean; err: string } => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return { ok: r.status === 0, err: `${r.stderr}`.trim() };
  };
  const drop = (): void => {
    run('umount', [mount]);
    rmSync(base, { recursive: true, force: true });
  };
  let step = run('truncate', ['-s', '320M', image]);
  if (step.ok) step = run('mkfs.xfs', ['-q', '-m', 'reflink=1', image]);
  if (step.ok) step = run('mount', ['-o', 'loop', image, mount]);
  if (!step.ok) {
    drop();
    return `cannot make an XFS file system here: ${step.err}`;
  }
  // `mount -o loop` frees its loop device on umount (autoclear).
  return { mount, cleanup: drop };
}

describe('volume copy methods', () => {
  const fakeEngine = {
    inspectVolume: () => Promise.resolve(null),
    createContainer: () => Promise.reject(new Error('no container expected')),
    startContainer: () => Promise.resolve(),
    waitContainer: () => Promise.resolve(0),
    containerLogs: () => Promise.resolve(''),
    removeContainer: () => Promise.resolve(),
  };

  function populate(src: string): void {
    mkdirSync(join(src, 'base'), { recursive: true });
    writeFileSync(join(src, 'base', 'data'), Buffer.alloc(4 << 20, 7));
    spawnSync('truncate', ['-s', '64M', join(src, 'sparse')]);
    symlinkSync('base/data', join(src, 'link'));
    chmodSync(join(src, 'base'), 0o700);
    if (process.getuid?.() === 0) chownSync(join(src, 'base'), 999, 999);
  }

  function check(dst: string): void {
    assert.equal(readFileSync(join(dst, 'base', 'data')).length, 4 << 20);
    assert.equal(readlinkSync(join(dst, 'link')), 'base/data');
    assert.ok(lstatSync(join(dst, 'link')).isSymbolicLink());
    assert.equal(statSync(join(dst, 'base')).mode & 0o777, 0o700);
    if (process.getuid?.() === 0) assert.equal(statSync(join(dst, 'base')).uid, 999);
    // holes stay holes
    assert.ok(statSync(join(dst, 'sparse')).blocks * 512 < 1 << 20, 'the sparse file was filled');
  }

  test('plain copy (cp -a: owners, modes, symlinks, holes) where the file system cannot clone', async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'cilo-vc-'));
    t.after(() => rmSync(base, { recursive: true, force: true }));
    const [src, dst] = [join(base, 'src'), join(base, 'dst')];
    mkdirSync(src);
    mkdirSync(dst);
    populate(src);
    const r = await new VolumeDataCopier(fakeEngine, {}).copy({ dir: src }, { dir: dst }, { image: 'unused' });
    assert.ok(['copy', 'reflink'].includes(r.method));
    check(dst);
  });

  test('reflink on XFS', async (t) => {
    const xfs = makeXfs();
    if (typeof xfs === 'string') {
      console.log(`# reflink test skipped: ${xfs}`);
      t.skip(xfs);
      return;
    }
    t.after(xfs.cleanup);
    const [src, dst] = [join(xfs.mount, 'src'), join(xfs.mount, 'dst')];
    mkdirSync(src);
    mkdirSync(dst);
    populate(src);
    const r = await new VolumeDataCopier(fakeEngine, {}).copy({ dir: src }, { dir: dst }, { image: 'unused' });
    assert.equal(r.method, 'reflink');
    check(dst);
    // a clone shares its extents: the file system's used space barely grows
    writeFileSync(join(dst, 'base', 'data'), 'changed');
    assert.equal(readFileSync(join(src, 'base', 'data')).length, 4 << 20, 'a write to the copy reached the source');
  });
});
