import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ciloPaths } from '../state/paths.js';
import { caFiles, inspectCa, localCa } from './local-ca.js';
import { makeCa } from './certificates.js';

const mode = (p: string) => statSync(p).mode & 0o777;

test('the CA is made once per CILO_HOME: dir 0700, key 0600, a second ensure() reuses it', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-'));
  const files = caFiles(paths);
  const ca = localCa(paths);
  assert.equal(ca.certFile(), files.cert, 'the path is known before the CA is made');
  const { certFile } = await ca.ensure();
  assert.equal(certFile, files.cert);
  assert.equal(mode(files.dir), 0o700);
  assert.equal(mode(files.key), 0o600);
  assert.equal(mode(files.cert) & 0o600, 0o600, 'the user reads and writes the certificate');
  const first = readFileSync(files.cert, 'utf8');
  const cert = new X509Certificate(first);
  assert.equal(cert.ca, true);
  assert.equal(cert.checkIssued(cert), true, 'self-signed');
  assert.equal(cert.verify(cert.publicKey), true);
  assert.ok(cert.checkPrivateKey(createPrivateKey(readFileSync(files.key))), 'the key beside it is its key');
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  await localCa(paths).ensure();
  assert.equal(readFileSync(files.cert, 'utf8'), first, 'a new process keeps the CA it finds');
});

test('concurrent ensure() calls make one CA', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-race-'));
  const cas = Array.from({ length: 4 }, () => localCa(paths));
  await Promise.all(cas.map((c) => c.ensure()));
  const cert = readFileSync(caFiles(paths).cert, 'utf8');
  // Every caller signs with the CA that is on disk.
  for (const c of cas) {
    const leaf = new X509Certificate((await c.issue(['x.test'])).cert);
    assert.equal(leaf.verify(new X509Certificate(cert).publicKey), true);
  }
});

test('a leaf certificate verifies against the CA and covers its names, wildcards one level deep', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-leaf-'));
  const ca = localCa(paths);
  const { cert, key } = await ca.issue(['agent-1.localhost', '*.agent-1.localhost']);
  const caCert = new X509Certificate(readFileSync(ca.certFile(), 'utf8'));
  const leaf = new X509Certificate(cert);
  assert.equal(leaf.checkIssued(caCert), true);
  assert.equal(leaf.verify(caCert.publicKey), true);
  assert.equal(leaf.ca, false);
  assert.equal(leaf.checkHost('web.agent-1.localhost'), '*.agent-1.localhost');
  assert.equal(leaf.checkHost('agent-1.localhost'), 'agent-1.localhost');
  assert.equal(leaf.checkHost('a.web.agent-1.localhost'), undefined, 'a wildcard covers one label');
  assert.equal(leaf.checkHost('web.agent-2.localhost'), undefined);
  assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth');
  assert.match(leaf.subjectAltName ?? '', /DNS:\*\.agent-1\.localhost/);
  assert.ok(new Date(leaf.validTo) <= new Date(caCert.validTo), 'never outlives the CA');
  assert.equal(createPrivateKey(key).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(key)));
});

test('a TLS client that trusts only the CA accepts a server with its leaf, by a name under the wildcard', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-tls-'));
  const ca = localCa(paths);
  const server = createServer(await ca.issue(['*.agent-1.localhost']), (s) => s.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'web.agent-1.localhost', ca: readFileSync(ca.certFile(), 'utf8') });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    socket.destroy();
    const wrong = connect({ host: '127.0.0.1', port, servername: 'web.agent-2.localhost', ca: readFileSync(ca.certFile(), 'utf8') });
    const [err] = (await once(wrong, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    server.close();
  }
});

test('cilo processes that start at once make one CA: every leaf they sign verifies against the CA left on disk', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-procs-'));
  const module = fileURLToPath(new URL('./local-ca.ts', import.meta.url));
  const script = `const { localCa } = await import(${JSON.stringify(module)}); const { ciloPaths } = await import(${JSON.stringify(fileURLToPath(new URL('../state/paths.ts', import.meta.url)))}); process.stdout.write((await localCa(ciloPaths(process.argv[1])).issue(['x.test'])).cert);`;
  const leaves = await Promise.all(
    Array.from({ length: 4 }, () =>
      new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, paths.home], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
      }),
    ),
  );
  const ca = new X509Certificate(readFileSync(caFiles(paths).cert, 'utf8'));
  for (const leaf of leaves) assert.equal(new X509Certificate(leaf).verify(ca.publicKey), true);
});

test("doctor's view of the CA: none before it is made; a key others can read, a key of another CA, and an ended CA are each named", async () => {
  const paths = ciloPaths(tempDir('cilo-ca-inspect-'));
  const files = caFiles(paths);
  assert.equal(inspectCa(files, new Date()), undefined, 'no CA yet: nothing to say');
  await localCa(paths).ensure();
  const sound = inspectCa(files, new Date());
  assert.deepEqual(sound?.problems, []);
  assert.equal(sound?.keyMode, undefined);

  chmodSync(files.key, 0o644);
  assert.equal(inspectCa(files, new Date())?.keyMode, 0o644);
  chmodSync(files.key, 0o600);

  const later = new Date(Date.now() + 20 * 365 * 86_400_000);
  assert.match(inspectCa(files, later)?.problems.join(' ') ?? '', /cilo's CA ended on/);

  const other = ciloPaths(tempDir('cilo-ca-other-'));
  await localCa(other).ensure();
  writeFileSync(files.key, readFileSync(caFiles(other).key));
  assert.match(inspectCa(files, new Date())?.problems.join(' ') ?? '', /is not the key of the CA certificate/);
});

test("the router's CA: the root's certificate and an intermediate kept per set of suffixes in the CA dir (key 0600), made anew for other suffixes or within 30 days of its end", async () => {
  const paths = ciloPaths(tempDir('cilo-ca-router-'));
  const files = caFiles(paths);
  const ca = localCa(paths);
  const first = await ca.routerCa(['.test', '.localhost']);
  assert.equal(first.root, readFileSync(files.cert, 'utf8'), "the root's certificate, no key");
  assert.equal(first.newRoot, false);
  assert.ok(!first.cert.includes(first.root) && !first.key.includes(readFileSync(files.key, 'utf8')));
  const root = new X509Certificate(first.root);
  const inter = new X509Certificate(first.cert);
  assert.equal(inter.checkIssued(root), true);
  assert.equal(inter.verify(root.publicKey), true);
  assert.ok(inter.checkPrivateKey(createPrivateKey(first.key)));
  assert.equal(mode(files.dir), 0o700);
  const kept = readdirSync(files.dir).filter((f) => f.startsWith('router-'));
  assert.equal(kept.length, 2, kept.join(' '));
  for (const f of kept) if (f.endsWith('.key')) assert.equal(mode(join(files.dir, f)), 0o600);

  const again = await localCa(paths).routerCa(['.localhost', '.test']);
  assert.equal(again.cert, first.cert, 'the same suffixes (any order): the same intermediate');
  const other = await ca.routerCa(['.test', '.localhost', '.dev']);
  assert.notEqual(other.cert, first.cert, 'a new suffix: a new intermediate');
  assert.equal((await ca.routerCa(['.test', '.localhost'])).cert, first.cert, 'each set keeps its own');

  const late = localCa(paths, () => new Date(Date.now() + 340 * 86_400_000));
  const renewed = await late.routerCa(['.test', '.localhost']);
  assert.notEqual(renewed.cert, first.cert, 'within 30 days of its end: a new intermediate');
  assert.ok(new Date(new X509Certificate(renewed.cert).validTo).getTime() > new Date(inter.validTo).getTime());
});

test('a root an older cilo made (pathLen 0: no intermediate below it) is made anew, and the caller is told', async () => {
  const paths = ciloPaths(tempDir('cilo-ca-oldroot-'));
  const files = caFiles(paths);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const old = makeCa('old', new Date(), 0);
  writeFileSync(files.key, old.key, { mode: 0o600 });
  writeFileSync(files.cert, old.cert);
  const ca = localCa(paths);
  const made = await ca.routerCa(['.test']);
  assert.equal(made.newRoot, true);
  assert.notEqual(made.root, old.cert);
  assert.equal(readFileSync(files.cert, 'utf8'), made.root);
  assert.equal(mode(files.key), 0o600);
  assert.equal(new X509Certificate(made.cert).verify(new X509Certificate(made.root).publicKey), true);
  // Leaves the same process signs afterwards come from the new root.
  assert.equal(new X509Certificate((await ca.issue(['x.test'])).cert).verify(new X509Certificate(made.root).publicKey), true);
  assert.equal((await ca.routerCa(['.test'])).newRoot, false, 'once only');
});
