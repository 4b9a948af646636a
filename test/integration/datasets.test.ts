/**
 * Private datasets in shared engines (issue #15) against real postgres, mariadb and redis servers
 * (fixture images built offline from Debian's packages by test/support/fixture-images.sh).
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDbImages } from '../support/fixture-images.js';
import { makeHome, ROOT, tearDown, uid, waitFor, type TestHome } from './helpers.js';

const skip = ensureDbImages();
if (skip) console.log(`# datasets.test.ts skipped: ${skip}`);

function project(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-ds-'));
  cpSync(join(ROOT, 'test', 'fixtures', fixture), dir, { recursive: true });
  return dir;
}

function container(project: string, env: string, service: string): string {
  const r = spawnSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=cilo-${project}-${env}`, '--filter', `label=com.docker.compose.service=${service}`], { encoding: 'utf8' });
  const id = r.stdout.trim().split('\n')[0];
  assert.ok(id, `no ${service} container in ${env}`);
  return id;
}

/** Runs a shell line in a container; the line reads the container's own variables ($DATABASE_URL). */
function sh(id: string, line: string): string {
  const r = spawnSync('docker', ['exec', id, 'sh', '-c', line], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  return r.stdout.trim();
}

const pgQuery = (p: string, env: string, sql: string): string => sh(container(p, env, 'api'), `psql "$DATABASE_URL" -Atc "${sql}"`);
const pgAdmin = (p: string, sql: string): string => {
  const r = spawnSync('docker', ['exec', '-e', 'PGPASSWORD=app', `cilo_shared_${p}_db`, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', 'postgres', '-Atc', sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
};
const databases = (p: string): string[] => pgAdmin(p, 'SELECT datname FROM pg_database ORDER BY 1').split('\n');
const envVar = (id: string, name: string): string => sh(id, `printf %s "$${name}"`);

async function up(h: TestHome, dir: string, p: string, env: string, ...extra: string[]): Promise<void> {
  const r = await h.cli(['up', env, '--project', p, ...extra], { cwd: dir });
  assert.equal(r.code, 0, `up ${env}: ${r.stderr}`);
}

interface DsState { environments: Record<string, { datasets?: Record<string, { name: string; status: string; template: string | null }> }> }
const stateOf = (h: TestHome): DsState => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as DsState;

describe('postgres: a private database per environment', { skip }, () => {
  const h = makeHome();
  const p = uid('dspg');
  const dir = project('datasets-pg');
  after(() => tearDown(h, p, dir));

  before(async () => {
    await up(h, dir, p, 'e1');
    await up(h, dir, p, 'e2');
  });

  test('two environments carry different DATABASE_URLs and a row written in one is absent from the other', () => {
    const a = envVar(container(p, 'e1', 'api'), 'DATABASE_URL');
    const b = envVar(container(p, 'e2', 'api'), 'DATABASE_URL');
    assert.equal(a, `postgres://app:app@db:5432/${p}_e1`);
    assert.equal(b, `postgres://app:app@db:5432/${p}_e2`);
    assert.equal(envVar(container(p, 'e1', 'api'), 'PGDATABASE'), `${p}_e1`);
    // A URL naming another database of the same server is left alone.
    assert.equal(envVar(container(p, 'e1', 'api'), 'OTHER_URL'), 'postgres://app:app@db:5432/analytics');
    pgQuery(p, 'e1', "INSERT INTO items (name) VALUES ('only-e1')");
    assert.equal(pgQuery(p, 'e1', "SELECT count(*) FROM items WHERE name = 'only-e1'"), '1');
    assert.equal(pgQuery(p, 'e2', "SELECT count(*) FROM items WHERE name = 'only-e1'"), '0');
  });

  test('seed rows are present in every new environment', () => {
    for (const env of ['e1', 'e2']) assert.equal(pgQuery(p, env, "SELECT string_agg(name, ',' ORDER BY id) FROM items WHERE name LIKE 'seed-%'"), 'seed-apple,seed-pear');
  });

  test('status shows each rewrite with the password masked, also in --json', async () => {
    const text = await h.cli(['status', 'e1']);
    assert.match(text.stdout, new RegExp(`api\\.DATABASE_URL: postgres://app:\\*\\*\\*@db:5432/shop → postgres://app:\\*\\*\\*@db:5432/${p}_e1`));
    // status --json prints the manifest: the shared service lists its dataset with the rewrites.
    const json = JSON.parse((await h.cli(['status', 'e1', '--json'])).stdout) as { services: { name: string; datasets?: { name: string; rewrites: { variable: string; from: string; to: string }[] }[] }[] };
    const db = json.services.find((x) => x.name === 'db')?.datasets?.[0];
    assert.equal(db?.name, `${p}_e1`);
    const rw = db?.rewrites.find((r) => r.variable === 'DATABASE_URL');
    assert.equal(rw?.to, `postgres://app:***@db:5432/${p}_e1`);
    assert.doesNotMatch(JSON.stringify(json), /app:app@/);
  });

  test('the template refuses connections; db list and shared list show datasets with sizes', async () => {
    const tpl = stateOf(h).environments.e1?.datasets?.db?.template;
    assert.ok(tpl);
    assert.equal(pgAdmin(p, `SELECT datallowconn FROM pg_database WHERE datname = '${tpl}'`), 'f');
    assert.equal(pgAdmin(p, `SELECT datconnlimit FROM pg_database WHERE datname = '${p}_e1'`), '20');
    const list = JSON.parse((await h.cli(['db', 'list', '--json'])).stdout) as { datasets: { env: string; name: string; template: string; size: number; engine: string; kind: string }[] };
    assert.deepEqual(list.datasets.map((d) => [d.env, d.name, d.engine, d.kind, d.template]), [['e1', `${p}_e1`, 'postgres', 'database', tpl], ['e2', `${p}_e2`, 'postgres', 'database', tpl]]);
    assert.ok(list.datasets.every((d) => d.size > 0));
    const shared = await h.cli(['shared', 'list']);
    assert.match(shared.stdout, new RegExp(`e1:${p}_e1 \\(`));
  });

  test('db reset restores the seed without touching a neighbour', async () => {
    pgQuery(p, 'e1', "INSERT INTO items (name) VALUES ('gone-after-reset')");
    pgQuery(p, 'e2', "INSERT INTO items (name) VALUES ('stays-in-e2')");
    const r = await h.cli(['db', 'reset', 'e1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
    assert.equal(pgQuery(p, 'e2', "SELECT count(*) FROM items WHERE name = 'stays-in-e2'"), '1');
  });

  test('a held session on the template does not break a clone', async () => {
    const tpl = stateOf(h).environments.e1?.datasets?.db?.template ?? '';
    pgAdmin(p, `ALTER DATABASE ${tpl} ALLOW_CONNECTIONS true`);
    const holder = spawnSync('docker', ['exec', '-d', '-e', 'PGPASSWORD=app', `cilo_shared_${p}_db`, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', tpl, '-c', 'SELECT pg_sleep(300)'], { encoding: 'utf8' });
    assert.equal(holder.status, 0, holder.stderr);
    await waitFor(() => pgAdmin(p, `SELECT count(*) FROM pg_stat_activity WHERE datname = '${tpl}'`) === '1', { what: 'the held session on the template', deadlineMs: 60_000, intervalMs: 100 });
    await up(h, dir, p, 'e3');
    assert.equal(pgQuery(p, 'e3', 'SELECT count(*) FROM items'), '2');
    assert.equal(pgAdmin(p, `SELECT datallowconn FROM pg_database WHERE datname = '${tpl}'`), 'f');
  });

  test('up --db-from starts a new environment with a copy of another one\'s data', async () => {
    pgQuery(p, 'e2', "INSERT INTO items (name) VALUES ('copied-from-e2')");
    await up(h, dir, p, 'e4', '--db-from', 'e2');
    assert.equal(pgQuery(p, 'e4', "SELECT count(*) FROM items WHERE name = 'copied-from-e2'"), '1');
    assert.equal(pgQuery(p, 'e4', 'SELECT count(*) FROM items'), pgQuery(p, 'e2', 'SELECT count(*) FROM items'));
  });

  test('up --db-from is checked before anything is made, and refused for an environment that has its datasets', async () => {
    const missing = await h.cli(['up', 'e5', '--project', p, '--db-from', 'nosuch'], { cwd: dir, env: { CILO_PROGRESS: '1' } });
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /There is no environment named "nosuch" to copy datasets from \(--db-from\)/);
    assert.doesNotMatch(missing.stderr, /Creating environment e5/, 'nothing was made');
    assert.equal(stateOf(h).environments.e5, undefined);
    const before = pgQuery(p, 'e1', 'SELECT count(*) FROM items');
    const existing = await h.cli(['up', 'e1', '--db-from', 'e2']);
    assert.equal(existing.code, 2, existing.stderr);
    assert.match(existing.stderr, new RegExp(`Environment "e1" already has its datasets \\(db: ${p}_e1\\), and --db-from only fills a new environment's`));
    assert.match(existing.stderr, /cilo destroy e1/);
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), before, "e1's data is kept");
    assert.equal(pgQuery(p, 'e1', "SELECT count(*) FROM items WHERE name = 'copied-from-e2'"), '0');
  });

  test('an up whose recorded dataset is gone (shared container made anew) makes it again from the seed', async () => {
    pgAdmin(p, `DROP DATABASE ${p}_e2 WITH (FORCE)`);
    const r = await h.cli(['up', 'e2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /is gone from shared db; making it again/);
    assert.equal(pgQuery(p, 'e2', 'SELECT count(*) FROM items'), '2');
  });

  test('destroy drops exactly its own dataset; down keeps the data', async () => {
    const down = await h.cli(['down', 'e4']);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(databases(p).includes(`${p}_e4`));
    const before = databases(p);
    const r = await h.cli(['destroy', 'e3', '--force']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(databases(p), before.filter((d) => d !== `${p}_e3`));
  });

  test('a killed up between creating and recording a dataset is repaired by doctor --fix', async () => {
    const killed = await h.cli(['up', 'e5', '--project', p], { cwd: dir, env: { CILO_TEST_FAILPOINT: 'dataset-created' } });
    assert.notEqual(killed.code, 0);
    assert.equal(stateOf(h).environments.e5?.datasets?.db?.status, 'creating');
    assert.ok(databases(p).includes(`${p}_e5`));
    const report = JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string; subject: string }[] };
    assert.ok(report.findings.some((f) => f.kind === 'dataset.unfinished' && f.subject.startsWith('e5/')), JSON.stringify(report.findings));
    await h.cli(['doctor', '--fix']);
    assert.equal(stateOf(h).environments.e5?.datasets?.db?.status, 'ready');
    await up(h, dir, p, 'e5');
    assert.equal(pgQuery(p, 'e5', 'SELECT count(*) FROM items'), '2');
  });

  test('doctor reports a dataset no state holds and a recorded one that is gone; --fix --force repairs both', async () => {
    pgAdmin(p, `CREATE DATABASE ${p}_ghost`);
    pgAdmin(p, `COMMENT ON DATABASE ${p}_ghost IS 'cilo:${p}/ghost'`);
    pgAdmin(p, `DROP DATABASE ${p}_e1 WITH (FORCE)`);
    const report = JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string; subject: string }[] };
    const kinds = report.findings.map((f) => `${f.kind} ${f.subject}`);
    assert.ok(kinds.includes(`dataset.orphaned db:${p}_ghost`), kinds.join('; '));
    assert.ok(kinds.includes(`dataset.missing e1/db:${p}_e1`), kinds.join('; '));
    await h.cli(['doctor', '--fix', '--force']);
    const dbs = databases(p);
    assert.ok(!dbs.includes(`${p}_ghost`));
    assert.ok(dbs.includes(`${p}_e1`));
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
  });
  test('a shared db run isolated (--isolate db) gets the same seed, mounted where its image runs it on first start', async () => {
    const r = await h.cli(['up', 'iso', '--project', p, '--isolate', 'db'], { cwd: dir, env: { CILO_PROGRESS: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /db runs isolated in iso: its seed is mounted in \/docker-entrypoint-initdb\.d/);
    assert.equal(stateOf(h).environments.iso?.datasets, undefined, 'its own container: no dataset in the shared one');
    const db = container(p, 'iso', 'db');
    assert.equal(sh(db, 'ls /docker-entrypoint-initdb.d'), 'cilo-seed-01-seed.sql');
    assert.equal(sh(db, 'cat /docker-entrypoint-initdb.d/cilo-seed-01-seed.sql'), readFileSync(join(dir, 'db', 'seed.sql'), 'utf8').trim());
  });
});

describe('postgres: three environments brought up at once', { skip }, () => {
  const h = makeHome();
  const p = uid('dsp3');
  const dir = project('datasets-pg');
  after(() => tearDown(h, p, dir));

  test('each gets its own seeded database', async () => {
    await Promise.all(['x1', 'x2', 'x3'].map((e) => up(h, dir, p, e)));
    for (const e of ['x1', 'x2', 'x3']) {
      assert.equal(envVar(container(p, e, 'api'), 'DATABASE_URL'), `postgres://app:app@db:5432/${p}_${e}`);
      assert.equal(pgQuery(p, e, 'SELECT count(*) FROM items'), '2');
    }
    assert.equal(databases(p).filter((d) => d.startsWith('cilo_tpl_')).length, 1);
  });
});

describe('mariadb: a private database per environment', { skip }, () => {
  const h = makeHome();
  const p = uid('dsmy');
  const dir = project('datasets-mariadb');
  after(() => tearDown(h, p, dir));
  const q = (env: string, sql: string): string => sh(container(p, env, 'api'), `mariadb -h db -uapp -papp "$DB_DATABASE" --batch --skip-column-names -e "${sql}"`);

  test('two environments are isolated and both start from the seed', async () => {
    await up(h, dir, p, 'm1');
    await up(h, dir, p, 'm2');
    assert.equal(envVar(container(p, 'm1', 'api'), 'DATABASE_URL'), `mysql://app:app@db:3306/${p}_m1`);
    assert.equal(envVar(container(p, 'm2', 'api'), 'DB_DATABASE'), `${p}_m2`);
    for (const e of ['m1', 'm2']) assert.equal(q(e, 'SELECT count(*) FROM items'), '2');
    q('m1', "INSERT INTO items (name) VALUES ('only-m1')");
    assert.equal(q('m1', "SELECT count(*) FROM items WHERE name = 'only-m1'"), '1');
    assert.equal(q('m2', "SELECT count(*) FROM items WHERE name = 'only-m1'"), '0');
  });

  test('destroy drops its database', async () => {
    const r = await h.cli(['destroy', 'm2', '--force']);
    assert.equal(r.code, 0, r.stderr);
    const dbs = spawnSync('docker', ['exec', '-e', 'MYSQL_PWD=rootpw', `cilo_shared_${p}_db`, 'mariadb', '-h127.0.0.1', '-uroot', '--batch', '--skip-column-names', '-e', 'SHOW DATABASES'], { encoding: 'utf8' }).stdout.split('\n');
    assert.ok(dbs.includes(`${p}_m1`));
    assert.ok(!dbs.includes(`${p}_m2`));
  });
});

describe('redis: a private index per environment', { skip }, () => {
  const h = makeHome();
  const p = uid('dsrd');
  const dir = project('datasets-redis');
  after(() => tearDown(h, p, dir));
  const cli = (env: string, args: string): string => sh(container(p, env, 'api'), `redis-cli -u "$REDIS_URL" ${args}`);

  test('environments writing the same key read their own values', async () => {
    await up(h, dir, p, 'r1');
    await up(h, dir, p, 'r2');
    assert.equal(envVar(container(p, 'r1', 'api'), 'REDIS_URL'), 'redis://cache:6379/1');
    assert.equal(envVar(container(p, 'r2', 'api'), 'REDIS_URL'), 'redis://cache:6379/2');
    cli('r1', 'SET owner r1');
    cli('r2', 'SET owner r2');
    assert.equal(cli('r1', 'GET owner'), 'r1');
    assert.equal(cli('r2', 'GET owner'), 'r2');
    assert.equal(cli('r1', 'GET greeting'), 'seeded');
  });

  test('with every index taken, up fails naming the `databases` limit', async () => {
    // Fill the free indexes by hand (3..15): the next environment has none left.
    for (let i = 3; i < 16; i++) spawnSync('docker', ['exec', `cilo_shared_${p}_cache`, 'redis-cli', '-n', String(i), 'SET', 'taken', '1']);
    const r = await h.cli(['up', 'r3', '--project', p], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /`databases` setting is 16/);
  });

  test('a shared redis run isolated (--isolate cache) starts, and up says why its seed is not loaded', async () => {
    const r = await h.cli(['up', 'r4', '--project', p, '--isolate', 'cache'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /cache runs isolated in r4 \(--isolate\), so its seed \(\.\/seed\.redis\) is not loaded: a redis image has no directory of scripts/);
  });
});

describe('postgres + redis: up asks the shared engines only what it must (issue #26)', { skip }, () => {
  const h = makeHome();
  const p = uid('dstwo');
  const dir = project('datasets-two');
  after(() => tearDown(h, p, dir));
  const db = `cilo_shared_${p}_db`;
  const cache = `cilo_shared_${p}_cache`;
  /** Moves an engine's client program away (and back), so that any `docker exec` of it fails. */
  const client = (c: string, from: string, to: string): void => {
    const r = spawnSync('docker', ['exec', '-u', 'root', c, 'mv', from, to], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  const redisGet = (env: string, key: string): string => sh(container(p, env, 'api'), `redis-cli -u "$REDIS_URL" GET ${key}`);

  before(async () => {
    await up(h, dir, p, 'e1');
  });

  test('a new environment gets both datasets from their seeds, and records the shared containers it found them in', () => {
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
    assert.equal(redisGet('e1', 'greeting'), 'seeded');
    const ds = (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { datasets: Record<string, { status: string; seen_in?: string }> }> }).environments.e1?.datasets ?? {};
    for (const [service, c] of [['db', db], ['cache', cache]] as const) {
      const started = spawnSync('docker', ['inspect', '-f', '{{.Id}}@{{.State.StartedAt}}', c], { encoding: 'utf8' }).stdout.trim();
      assert.equal(ds[service]?.status, 'ready');
      assert.equal(ds[service]?.seen_in, started, service);
    }
  });

  test('resuming the paused environment asks neither engine: it starts with psql and redis-cli gone from their containers', async () => {
    const down = await h.cli(['down', 'e1', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    client(db, '/usr/bin/psql', '/usr/bin/psql-hidden');
    client(cache, '/usr/bin/redis-cli', '/usr/bin/redis-cli-hidden');
    try {
      // Asking either would fail, wait for the server to answer until the timeout, and fail the up.
      const r = await h.cli(['up', 'e1', '--timeout', '20']);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      client(db, '/usr/bin/psql-hidden', '/usr/bin/psql');
      client(cache, '/usr/bin/redis-cli-hidden', '/usr/bin/redis-cli');
    }
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
    assert.equal(redisGet('e1', 'greeting'), 'seeded');
  });

  test('a resume after the shared postgres was restarted asks it again, and makes a dataset dropped meanwhile again', async () => {
    const down = await h.cli(['down', 'e1', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    pgAdmin(p, `DROP DATABASE ${p}_e1 WITH (FORCE)`);
    const restart = spawnSync('docker', ['restart', '-t', '0', db], { encoding: 'utf8' });
    assert.equal(restart.status, 0, restart.stderr);
    const r = await h.cli(['up', 'e1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Dataset ${p}_e1 of e1 is gone from shared db; making it again`));
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
    assert.equal(redisGet('e1', 'greeting'), 'seeded', 'the redis index, in a container that was not restarted, is kept');
  });

  test('a plain up (after down) asks again: a dataset dropped by hand is made again', async () => {
    const down = await h.cli(['down', 'e1']);
    assert.equal(down.code, 0, down.stderr);
    pgAdmin(p, `DROP DATABASE ${p}_e1 WITH (FORCE)`);
    const r = await h.cli(['up', 'e1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /is gone from shared db; making it again/);
    assert.equal(pgQuery(p, 'e1', 'SELECT count(*) FROM items'), '2');
  });
});
