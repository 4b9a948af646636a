/**
 * Databases and other TCP ports from the host (issue #25): non-HTTP ports published on
 * 127.0.0.1 at loopback ports cilo chooses, the manifest's host_ports and dataset DSNs, kept
 * across down/up, different per environment, one per shared service; `cilo db shell|dump|load`.
 * Real postgres and redis (fixture images built offline, see test/support/fixture-images.ts).
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ensureDbImages } from '../support/fixture-images.js';
import { copyFixture, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

const skip = ensureDbImages();
if (skip) console.log(`# host-ports.test.ts skipped: ${skip}`);

interface ServiceJson { name: string; host_ports?: Record<string, number>; datasets?: { name: string; dsn?: string }[] }
interface ManifestJson { services: ServiceJson[]; variables: Record<string, string> }

async function manifest(h: TestHome, env: string): Promise<ManifestJson> {
  const r = await h.cli(['status', env, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ManifestJson;
}

const service = (m: ManifestJson, name: string): ServiceJson => {
  const s = m.services.find((x) => x.name === name);
  assert.ok(s, `no service ${name}`);
  return s;
};

/** Sends `send` to 127.0.0.1:`port` from this process and resolves with the first bytes that come back. */
function talk(port: number, send: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer on 127.0.0.1:${port}`));
    }, 10_000);
    socket.once('connect', () => socket.write(send));
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(d);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Redis answers PING with +PONG. */
async function redisPing(port: number): Promise<string> {
  return (await talk(port, 'PING\r\n')).toString().trim();
}

/** A postgres StartupMessage (protocol 3.0) for this user and database: the server answers with an authentication request ('R'). */
function pgStartup(user: string, database: string): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from(`user\0${user}\0database\0${database}\0\0`)]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
}

/** psql on this machine through a DSN (the password given as the variable psql reads). */
function psql(dsn: string, sql: string): { status: number | null; out: string; err: string } {
  const r = spawnSync('psql', [dsn, '-XAtc', sql], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: 'app', PGCONNECT_TIMEOUT: '10' } });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}
const hostPsql = ['/usr/bin/psql', '/usr/local/bin/psql'].some((p) => existsSync(p));

describe('ports on 127.0.0.1: databases from the host', { skip }, () => {
  const h = makeHome();
  const p = uid('hp');
  let dir = '';
  after(() => tearDown(h, p, dir));

  before(async () => {
    ensureFixtureImage();
    dir = copyFixture('host-ports');
    for (const env of ['e1', 'e2']) {
      const r = await h.cli(['up', env, '--project', p], { cwd: dir });
      assert.equal(r.code, 0, `up ${env}: ${r.stderr}`);
    }
  });

  test('the manifest gives host_ports (not the HTTP port), one per shared service, and a DSN per dataset', async () => {
    const [m1, m2] = [await manifest(h, 'e1'), await manifest(h, 'e2')];
    const db1 = service(m1, 'db').host_ports?.['5432'];
    assert.ok(db1, 'the shared postgres publishes its port');
    assert.equal(service(m2, 'db').host_ports?.['5432'], db1, 'every user of the shared service shows its one port');
    const web = service(m1, 'web').host_ports ?? {};
    assert.deepEqual(Object.keys(web), ['5555'], 'the HTTP port (80) is the router\'s, not published');
    const ports = [db1, service(m1, 'cache').host_ports?.['6379'], service(m2, 'cache').host_ports?.['6379'], web['5555'], service(m2, 'web').host_ports?.['5555']];
    assert.ok(ports.every((x) => typeof x === 'number'), JSON.stringify(ports));
    assert.equal(new Set(ports).size, ports.length, `no two alike in one home: ${JSON.stringify(ports)}`);
    assert.equal(service(m1, 'db').datasets?.[0]?.dsn, `postgres://app@127.0.0.1:${db1}/${p}_e1`);
    assert.equal(service(m2, 'db').datasets?.[0]?.dsn, `postgres://app@127.0.0.1:${db1}/${p}_e2`);
    assert.equal(m1.variables.CILO_SERVICE_DB_PORT_5432, String(db1));
    assert.equal(m1.variables.CILO_SERVICE_CACHE_PORT_6379, String(service(m1, 'cache').host_ports?.['6379']));
    const published = spawnSync('docker', ['port', `cilo_shared_${p}_db`, '5432/tcp'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(published, `127.0.0.1:${db1}`, 'published on loopback only');
  });

  test('redis answers PING and postgres a startup message on the published ports, from this machine', async () => {
    for (const env of ['e1', 'e2']) assert.equal(await redisPing(service(await manifest(h, env), 'cache').host_ports?.['6379'] ?? 0), '+PONG');
    const db = service(await manifest(h, 'e1'), 'db');
    const reply = await talk(db.host_ports?.['5432'] ?? 0, pgStartup('app', db.datasets?.[0]?.name ?? ''));
    assert.equal(String.fromCharCode(reply[0] ?? 0), 'R', 'postgres asks for authentication');
  });

  test('each environment\'s DSN reaches its own database', { skip: hostPsql ? false : 'no psql on this machine' }, async () => {
    const [d1, d2] = [service(await manifest(h, 'e1'), 'db').datasets?.[0]?.dsn ?? '', service(await manifest(h, 'e2'), 'db').datasets?.[0]?.dsn ?? ''];
    const made = psql(d1, 'CREATE TABLE only_e1 (x int); INSERT INTO only_e1 VALUES (7)');
    assert.equal(made.status, 0, made.err);
    assert.equal(psql(d1, 'SELECT current_database()').out, `${p}_e1`);
    assert.equal(psql(d1, 'SELECT x FROM only_e1').out, '7');
    const other = psql(d2, 'SELECT x FROM only_e1');
    assert.notEqual(other.status, 0, 'e2 has no such table');
    assert.match(other.err, /does not exist/);
  });

  test('db shell runs a piped command on the environment\'s dataset', async () => {
    const r = await h.cli(['db', 'shell', 'e1'], { input: 'select current_database();\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${p}_e1`));
    const none = await h.cli(['db', 'shell', 'e1', 'cache']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /has no private dataset in a service "cache"/);
  });

  test('db dump of one environment loads into another and brings its row', async () => {
    const w = await h.cli(['db', 'shell', 'e1', 'db'], { input: "CREATE TABLE moved (name text); INSERT INTO moved VALUES ('from-e1');\n" });
    assert.equal(w.code, 0, w.stderr);
    const dump = await h.cli(['db', 'dump', 'e1']);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /from-e1/);
    const load = await h.cli(['db', 'load', 'e2', 'db'], { input: dump.stdout });
    assert.equal(load.code, 0, load.stderr);
    const read = await h.cli(['db', 'shell', 'e2'], { input: 'select name from moved;\n' });
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /from-e1/);
  });

  test('host_ports are kept across down and up, and answer again', async () => {
    const before = await manifest(h, 'e1');
    const down = await h.cli(['down', 'e1']);
    assert.equal(down.code, 0, down.stderr);
    const up = await h.cli(['up', 'e1']);
    assert.equal(up.code, 0, up.stderr);
    const after = await manifest(h, 'e1');
    for (const name of ['db', 'cache', 'web']) assert.deepEqual(service(after, name).host_ports, service(before, name).host_ports, name);
    assert.equal(await redisPing(service(after, 'cache').host_ports?.['6379'] ?? 0), '+PONG');
  });

  test('a port something else took while the environment was stopped is chosen again; the others are kept', async () => {
    const before = await manifest(h, 'e2');
    const cachePort = service(before, 'cache').host_ports?.['6379'];
    assert.ok(cachePort);
    assert.equal((await h.cli(['down', 'e2'])).code, 0);
    // Another program on this machine listens on the stopped environment's redis port.
    const squatter = createServer((s) => s.destroy());
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(cachePort, '127.0.0.1', resolve));
    try {
      const up = await h.cli(['up', 'e2']);
      assert.equal(up.code, 0, up.stderr);
      const after = await manifest(h, 'e2');
      const moved = service(after, 'cache').host_ports?.['6379'];
      assert.ok(moved !== undefined && moved !== cachePort, `the taken port ${cachePort} was replaced: ${JSON.stringify(service(after, 'cache').host_ports)}`);
      assert.deepEqual(service(after, 'web').host_ports, service(before, 'web').host_ports, 'a port still free is kept');
      assert.equal(await redisPing(moved), '+PONG');
      assert.equal(after.variables.CILO_SERVICE_CACHE_PORT_6379, String(moved));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  test('containers made before cilo published ports (an older cilo) get them at the next up', async () => {
    // Made again as an older cilo made them: from the generated models without ports (and the
    // shared one without its ports label), by compose itself.
    const older = (file: string, services: string[]): string => {
      const model = parse(readFileSync(file, 'utf8')) as { services: Record<string, { ports?: unknown; labels?: Record<string, string> }> };
      for (const svc of Object.values(model.services)) {
        delete svc.ports;
        if (svc.labels) delete svc.labels['cilo.host-ports'];
      }
      const out = join(dirname(file), `older-${basename(file)}`);
      writeFileSync(out, stringify(model));
      for (const svc of services) spawnSync('docker', ['rm', '-f', svc === 'db' ? `cilo_shared_${p}_db` : `cilo-${p}-e1-${svc}-1`], { encoding: 'utf8' });
      return out;
    };
    const gen = join(h.home, 'generated', p);
    for (const [project, file, services] of [[`cilo-shared-${p}`, join(gen, '_shared', 'db.yml'), ['db']], [`cilo-${p}-e1`, join(gen, 'e1', 'compose.yml'), ['cache', 'web']]] as const) {
      const r = spawnSync('docker', ['compose', '-p', project, '-f', older(file, [...services]), 'up', '-d', ...services], { encoding: 'utf8', cwd: dir });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal(spawnSync('docker', ['port', `cilo_shared_${p}_db`], { encoding: 'utf8' }).stdout.trim(), '', 'the older shared container publishes nothing');
    const ports = service(await manifest(h, 'e1'), 'cache').host_ports?.['6379'] ?? 0;
    await assert.rejects(redisPing(ports), 'nor does the older cache');
    const up = await h.cli(['up', 'e1']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Shared service db was recreated; environments e2 now use the new container/);
    const m = await manifest(h, 'e1');
    assert.equal(spawnSync('docker', ['port', `cilo_shared_${p}_db`, '5432/tcp'], { encoding: 'utf8' }).stdout.trim(), `127.0.0.1:${service(m, 'db').host_ports?.['5432']}`);
    assert.equal(await redisPing(ports), '+PONG');
    const again = await h.cli(['up', 'e2']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Shared service db was recreated/, 'the other user finds it as it wants it');
  });
});

describe('mariadb: the DSN names the service\'s user; db dump of one environment loads into another', { skip }, () => {
  const h = makeHome();
  const p = uid('hm');
  let dir = '';
  after(() => tearDown(h, p, dir));

  before(async () => {
    dir = copyFixture('datasets-mariadb');
    for (const env of ['m1', 'm2']) {
      const r = await h.cli(['up', env, '--project', p], { cwd: dir });
      assert.equal(r.code, 0, `up ${env}: ${r.stderr}`);
    }
  });

  test('dsn, shell, dump and load', async () => {
    const db = service(await manifest(h, 'm1'), 'db');
    const port = db.host_ports?.['3306'];
    assert.ok(port, 'the engine\'s port is published though the compose file names none');
    assert.equal(db.datasets?.[0]?.dsn, `mysql://app@127.0.0.1:${port}/${db.datasets?.[0]?.name}`);
    const greeting = await talk(port, '');
    assert.equal(greeting[4], 10, 'the MySQL protocol\'s handshake (version 10) answers on the loopback port');
    const w = await h.cli(['db', 'shell', 'm1'], { input: "CREATE TABLE moved (name varchar(20)); INSERT INTO moved VALUES ('from-m1');\n" });
    assert.equal(w.code, 0, w.stderr);
    const dump = await h.cli(['db', 'dump', 'm1', 'db']);
    assert.equal(dump.code, 0, dump.stderr);
    const load = await h.cli(['db', 'load', 'm2'], { input: dump.stdout });
    assert.equal(load.code, 0, load.stderr);
    const read = await h.cli(['db', 'shell', 'm2'], { input: 'SELECT name FROM moved;\n' });
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /from-m1/);
  });
});
