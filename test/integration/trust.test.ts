/**
 * HTTPS trust (issue #25): `cilo trust --print` gives the CA of this CILO_HOME; `cilo trust`
 * installs it in this Debian machine's system store (as root), so curl and openssl accept a
 * certificate it signed, and `--remove` undoes that; `cilo run` gives the command
 * NODE_EXTRA_CA_CERTS and the bundle variables, so Node and curl inside it trust a local TLS
 * server whose certificate the CA signed, without `cilo trust`.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { homeId, ciloPaths } from '../../src/state/paths.js';
import { localCa } from '../../src/tls/local-ca.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, uid, type TestHome } from './helpers.js';

const DEBIAN_ANCHORS = '/usr/local/share/ca-certificates';
const canInstall = process.getuid?.() === 0 && existsSync(DEBIAN_ANCHORS) && spawnSync('sh', ['-c', 'command -v update-ca-certificates'], { env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status === 0;
const hasCertutil = spawnSync('sh', ['-c', 'command -v certutil']).status === 0;
const NAME = 'web.agent-1.localhost';

/** The environment without the variables that would make curl or openssl look elsewhere than the system store. */
function systemEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS']) delete env[k];
  return env;
}

/** curl with the system store, as a child this process does not wait for synchronously: the TLS server it asks runs here. */
function curl(port: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--max-time', '20', '--resolve', `${NAME}:${port}:127.0.0.1`, `https://${NAME}:${port}/`], { encoding: 'utf8', env: systemEnv() }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ status: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

before(() => ensureFixtureImage());

describe('cilo trust and HTTPS', () => {
  let h: TestHome;
  let userHome: string;
  let dir: string;
  let server: Server;
  let port: number;
  let leafFile: string;
  const project = uid('tls');

  /** Whatever a failed test left in the system store goes: the file and the links update-ca-certificates made. */
  function removeFromSystemStore(): void {
    const file = join(DEBIAN_ANCHORS, `cilo-${homeId(ciloPaths(h.home))}.crt`);
    if (!existsSync(file)) return;
    rmSync(file, { force: true });
    spawnSync('update-ca-certificates', ['--fresh'], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  }

  before(async () => {
    h = makeHome();
    // A HOME of its own: the NSS database cilo finds there is the test's, never the machine user's.
    userHome = mkdtempSync(join(tmpdir(), 'cilo-trust-user-'));
    h.env.HOME = userHome;
    h.env.CILO_USER_HOME = userHome;
    for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE']) delete h.env[k];
    if (hasCertutil) {
      mkdirSync(join(userHome, '.pki', 'nssdb'), { recursive: true });
      spawnSync('certutil', ['-N', '-d', `sql:${join(userHome, '.pki', 'nssdb')}`, '--empty-password']);
    }
    dir = copyFixture('run-web-api');
    // A TLS server on loopback with a certificate from this home's CA (the one the router will use).
    const leaf = await localCa(ciloPaths(h.home)).issue(['agent-1.localhost', '*.agent-1.localhost']);
    leafFile = join(userHome, 'leaf.pem');
    writeFileSync(leafFile, leaf.cert);
    server = createServer(leaf, (_req, res) => res.end('hello over https\n'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server?.close();
    await h.cli(['trust', '--remove']).catch(() => undefined);
    removeFromSystemStore();
    await h.cli(['destroy', '--all', '--force']).catch(() => undefined);
    await h.cleanup();
    rmSync(userHome, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  test('trust --print gives the CA certificate of this CILO_HOME; its key is readable by the user only', async () => {
    const r = await h.cli(['trust', '--print']);
    assert.equal(r.code, 0, r.stderr);
    const file = r.stdout.trim();
    assert.equal(file, join(h.home, 'ca', 'cilo-ca.crt'));
    const ca = new X509Certificate(readFileSync(file));
    assert.equal(ca.ca, true);
    assert.equal(ca.checkIssued(ca), true);
    assert.equal(new X509Certificate(readFileSync(leafFile)).checkIssued(ca), true, 'the CA that signed the server');
    assert.equal(statSync(join(h.home, 'ca', 'cilo-ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(h.home, 'ca')).mode & 0o777, 0o700);
    const json = await h.cli(['trust', '--print', '--json']);
    assert.equal(JSON.parse(json.stdout).ca_file, file);
    assert.equal(readFileSync(file, 'utf8'), ca.toString(), 'made once, kept');
    const both = await h.cli(['trust', '--print', '--remove']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--print and --remove/);
  });

  test("doctor names a CA key others can read, and --fix makes it the user's alone", async () => {
    const key = join(h.home, 'ca', 'cilo-ca.key');
    chmodSync(key, 0o644);
    try {
      const report = JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string; subject: string }[] };
      assert.ok(report.findings.some((x) => x.kind === 'ca.key-permissions' && x.subject === key), JSON.stringify(report.findings));
      assert.ok(!report.findings.some((x) => x.kind === 'ca.invalid'), 'the CA itself is sound');
      await h.cli(['doctor', '--fix']);
      assert.equal(statSync(key).mode & 0o777, 0o600);
      const again = JSON.parse((await h.cli(['doctor', '--json'])).stdout) as { findings: { kind: string }[] };
      assert.ok(!again.findings.some((x) => x.kind.startsWith('ca.')), JSON.stringify(again.findings));
    } finally {
      chmodSync(key, 0o600);
    }
  });

  test('before trust, the system store refuses the server; curl and openssl accept it after `cilo trust`, and refuse it again after --remove', { skip: !canInstall && 'needs root and update-ca-certificates (Debian/Ubuntu)' }, async () => {
    const before = await curl(port);
    assert.equal(before.status, 60, `refused as an unknown issuer, not unreachable: ${before.stderr}`);
    const r = await h.cli(['trust', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { ca_file: string; stores: { kind: string; outcome: string; location: string }[] };
    const debian = doc.stores.find((s) => s.kind === 'debian');
    assert.equal(debian?.outcome, 'installed', r.stdout);
    assert.equal(debian?.location, join(DEBIAN_ANCHORS, `cilo-${homeId(ciloPaths(h.home))}.crt`));
    if (hasCertutil) {
      assert.equal(doc.stores.find((s) => s.kind === 'nss')?.outcome, 'installed', r.stdout);
      const listed = spawnSync('certutil', ['-L', '-d', `sql:${join(userHome, '.pki', 'nssdb')}`], { encoding: 'utf8' });
      assert.match(listed.stdout, new RegExp(`cilo-${homeId(ciloPaths(h.home))}\\s+C,,`));
    }
    const ok = await curl(port);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'hello over https\n');
    const verify = spawnSync('openssl', ['verify', '-CApath', '/etc/ssl/certs', leafFile], { encoding: 'utf8', env: systemEnv() });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);

    const again = await h.cli(['trust']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Added to the system store/, 'idempotent');

    const removed = await h.cli(['trust', '--remove', '--json']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((JSON.parse(removed.stdout) as typeof doc).stores.find((s) => s.kind === 'debian')?.outcome, 'removed');
    assert.equal((await curl(port)).status, 60, 'refused again');
    assert.notEqual(spawnSync('openssl', ['verify', '-CApath', '/etc/ssl/certs', leafFile], { env: systemEnv() }).status, 0);
    const links = spawnSync('sh', ['-c', `ls -l /etc/ssl/certs | grep -c cilo-${homeId(ciloPaths(h.home))} || true`], { encoding: 'utf8' });
    assert.equal(links.stdout.trim(), '0', 'no link left behind');
  });

  test('cilo run: NODE_EXTRA_CA_CERTS and the bundle variables make Node and curl trust the server; the manifest names ca_file; a variable the user set is kept', async () => {
    const script = `require('https').get({ host: '127.0.0.1', port: ${port}, servername: '${NAME}', headers: { host: '${NAME}' } }, (res) => { let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => console.log('NODE:' + res.statusCode + ':' + b.trim())); }).on('error', (e) => { console.log('NODE-ERROR:' + e.code); process.exitCode = 3; });`;
    const r = await h.cli(['run', '--project', project, 'sh', 'r1', '-c', `env | grep -E '^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)='; "$0" -e "$1"; curl -sS --max-time 20 --resolve ${NAME}:${port}:127.0.0.1 https://${NAME}:${port}/ && echo CURL-OK; cat "$CILO_MANIFEST"`, process.execPath, script], { cwd: dir });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const caFile = join(h.home, 'ca', 'cilo-ca.crt');
    const bundle = join(h.home, 'ca', 'bundle.pem');
    assert.match(r.stdout, new RegExp(`^NODE_EXTRA_CA_CERTS=${caFile}$`, 'm'));
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE']) assert.match(r.stdout, new RegExp(`^${k}=${bundle}$`, 'm'));
    assert.match(r.stdout, /^NODE:200:hello over https$/m, 'Node inside cilo run verifies the server');
    assert.match(r.stdout, /^CURL-OK$/m, 'curl inside cilo run verifies it through CURL_CA_BUNDLE');
    const manifest = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { ca_file?: string };
    assert.equal(manifest.ca_file, caFile);
    const bundleText = readFileSync(bundle, 'utf8');
    assert.ok(bundleText.endsWith(readFileSync(caFile, 'utf8')), 'the bundle ends with the CA');
    assert.ok(bundleText.split('BEGIN CERTIFICATE').length > 10, 'and holds the system roots before it');

    const own = await h.cli(['run', 'sh', 'r1', '-c', 'echo "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS"; echo "SSL_CERT_FILE=$SSL_CERT_FILE"'], { env: { NODE_EXTRA_CA_CERTS: '/mine/ca.pem' } });
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /^NODE_EXTRA_CA_CERTS=\/mine\/ca.pem$/m, "the user's own is kept");
    assert.match(own.stdout, new RegExp(`^SSL_CERT_FILE=${bundle}$`, 'm'));
  });

  test('without root, cilo trust changes nothing it may not and prints the exact commands to run, exit 0', { skip: !canInstall && 'needs root (to run the CLI as nobody) and a Debian system store' }, (t) => {
    if (spawnSync(process.execPath, [CLI, '--version'], { uid: 65534, gid: 65534, stdio: 'ignore', timeout: 60_000 }).status !== 0) {
      t.skip(`nobody cannot run ${CLI} (a directory above it is private)`);
      return;
    }
    const scratch = mkdtempSync(join(tmpdir(), 'cilo-trust-nobody-'));
    try {
      chmodSync(scratch, 0o777);
      const env = { ...systemEnv(), CILO_HOME: join(scratch, 'home'), HOME: scratch, CILO_USER_HOME: scratch };
      const r = spawnSync(process.execPath, [CLI, 'trust', '--json'], { uid: 65534, gid: 65534, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { ca_file: string; stores: { kind: string; outcome: string; location: string; run: string[] }[] };
      const debian = doc.stores.find((s) => s.kind === 'debian');
      assert.equal(debian?.outcome, 'manual', r.stdout);
      assert.deepEqual(debian?.run, [`sudo install -m 0644 ${doc.ca_file} ${debian?.location}`, 'sudo update-ca-certificates']);
      assert.equal(existsSync(debian?.location ?? '/nonexistent'), false, 'nothing half-done');
      const text = spawnSync(process.execPath, [CLI, 'trust'], { uid: 65534, gid: 65534, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /no permission to write \/usr\/local\/share\/ca-certificates\. Run:\n  sudo install -m 0644 /);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
