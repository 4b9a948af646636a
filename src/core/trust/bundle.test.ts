import { tempDir } from '../../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalCa } from '../ports.js';
import { trustFiles } from './bundle.js';

function fakeCa(dir: string, pem: () => string): LocalCa {
  const certFile = join(dir, 'ca', 'cilo-ca.crt');
  return {
    ensure: async () => {
      mkdirSync(join(dir, 'ca'), { recursive: true });
      writeFileSync(certFile, pem());
      return { certFile };
    },
    certFile: () => certFile,
    issue: () => Promise.reject(new Error('not here')),
    routerCa: () => Promise.reject(new Error('not here')),
    inspect: async () => undefined,
  };
}

test('the bundle is the system roots plus the CA, rewritten when either changes', async () => {
  const dir = tempDir('cilo-bundle-');
  const system = join(dir, 'system.pem');
  writeFileSync(system, 'SYSTEM ROOTS\n');
  let pem = 'CA ONE\n';
  const ca = fakeCa(dir, () => pem);
  const first = await trustFiles({ ca }, [join(dir, 'missing.pem'), system]);
  assert.equal(first.caFile, ca.certFile());
  assert.ok(first.bundleFile);
  const text = readFileSync(first.bundleFile, 'utf8');
  assert.ok(text.startsWith('SYSTEM ROOTS\n'));
  assert.ok(text.endsWith('CA ONE\n'));
  const mtime = statSync(first.bundleFile).mtimeMs;
  await trustFiles({ ca }, [system]);
  assert.equal(statSync(first.bundleFile).mtimeMs, mtime, 'unchanged: not written again');
  pem = 'CA TWO\n';
  await trustFiles({ ca }, [system]);
  assert.ok(readFileSync(first.bundleFile, 'utf8').endsWith('CA TWO\n'), 'a new CA reaches the bundle');
});

test('no system bundle: only the CA file, no bundle', async () => {
  const dir = tempDir('cilo-bundle-none-');
  const r = await trustFiles({ ca: fakeCa(dir, () => 'CA\n') }, [join(dir, 'missing.pem')]);
  assert.equal(r.bundleFile, undefined);
});
