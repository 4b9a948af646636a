import { tempDir } from '../../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ciloPaths } from '../../state/paths.js';
import type { LocalCa, Processes } from '../ports.js';
import { trust, trustName } from './trust.js';

function fakeContext(programs: string[], exitCode = 0) {
  const home = tempDir('cilo-trust-');
  const paths = ciloPaths(join(home, 'cilo'));
  const caFile = join(home, 'ca.crt');
  const ca: LocalCa = {
    ensure: async () => {
      writeFileSync(caFile, 'CA PEM');
      return { certFile: caFile };
    },
    certFile: () => caFile,
    issue: () => Promise.reject(new Error('not here')),
    routerCa: () => Promise.reject(new Error('not here')),
    inspect: async () => undefined,
  };
  const ran: string[][] = [];
  const proc: Processes = {
    runHidden: async (cmd, args) => {
      ran.push([cmd, ...args]);
      return { code: exitCode, signal: null, timedOut: false };
    },
    runForeground: () => Promise.reject(new Error('not here')),
    findProgram: async (c) => (programs.includes(c) ? { found: true, path: `/bin/${c}` } : { found: false, reason: 'missing' }),
  };
  return { ctx: { paths, ca, proc }, ran, home, caFile };
}

test('Debian/Ubuntu: the CA goes into /usr/local/share/ca-certificates as cilo-<home>.crt and the bundle is rebuilt; --remove undoes it', async () => {
  const { ctx, ran, home } = fakeContext(['update-ca-certificates']);
  const root = join(home, 'root');
  mkdirSync(join(root, 'usr/local/share/ca-certificates'), { recursive: true });
  const r = await trust(ctx, { platform: 'linux', root, home: join(home, 'user') });
  const target = join(root, 'usr/local/share/ca-certificates', `${trustName(ctx)}.crt`);
  assert.deepEqual(r.stores.map((s) => [s.kind, s.outcome]), [['debian', 'installed']]);
  assert.equal(readFileSync(target, 'utf8'), 'CA PEM');
  assert.deepEqual(ran, [['/bin/update-ca-certificates']]);
  const back = await trust(ctx, { platform: 'linux', root, home: join(home, 'user'), remove: true });
  assert.deepEqual(back.stores.map((s) => [s.kind, s.outcome]), [['debian', 'removed']]);
  assert.equal(existsSync(target), false);
  assert.deepEqual(ran.at(-1), ['/bin/update-ca-certificates', '--fresh']);
});

test('a program that fails, or one that is missing, gives the commands to run', async () => {
  const failing = fakeContext(['update-ca-trust'], 1);
  const root = join(failing.home, 'root');
  mkdirSync(join(root, 'etc/pki/ca-trust/source/anchors'), { recursive: true });
  const r = await trust(failing.ctx, { platform: 'linux', root, home: failing.home });
  assert.equal(r.stores[0]?.kind, 'fedora');
  assert.equal(r.stores[0]?.outcome, 'failed');
  assert.match(r.stores[0]?.run.join('\n') ?? '', /update-ca-trust extract/);

  const noCertutil = fakeContext([]);
  const db = join(noCertutil.home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'cert9.db'), '');
  const n = await trust(noCertutil.ctx, { platform: 'linux', root: join(noCertutil.home, 'empty-root'), home: noCertutil.home });
  assert.deepEqual(n.stores.map((s) => [s.kind, s.outcome]), [['nss', 'manual']]);
  assert.equal(n.stores[0]?.run[0], `certutil -d sql:${db} -A -t C,, -n ${trustName(noCertutil.ctx)} -i ${noCertutil.caFile}`);
  assert.match(n.stores[0]?.detail ?? '', /libnss3-tools/);
});

test('macOS: the System keychain through `security`, as root; otherwise the sudo line to run', async (t) => {
  const { ctx, ran, home, caFile } = fakeContext(['security']);
  const r = await trust(ctx, { platform: 'darwin', root: join(home, 'root'), home });
  const mac = r.stores.find((s) => s.kind === 'macos');
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    assert.equal(mac?.outcome, 'installed');
    assert.deepEqual(ran[0], ['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', '/Library/Keychains/System.keychain', caFile]);
  } else {
    t.diagnostic('not root: the manual line');
    assert.equal(mac?.outcome, 'manual');
    assert.deepEqual(mac?.run, [`sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${caFile}`]);
  }
});

test('a system with no store cilo knows is an error naming the CA file', async () => {
  const { ctx, home } = fakeContext([]);
  await assert.rejects(trust(ctx, { platform: 'linux', root: join(home, 'root'), home }), (e: Error & { code?: string; hint?: string }) => e.code === 'TRUST' && /cilo trust --print/.test(e.hint ?? ''));
  const removal = await trust(ctx, { platform: 'linux', root: join(home, 'root'), home, remove: true });
  assert.deepEqual(removal.stores, [], 'nothing to remove is not an error');
});
