import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { ciloPaths } from './paths.js';
import { readState, withStateLock, restoreBackup } from './store.js';

function home() {
  return ciloPaths(tempDir('cilo-state-'));
}

test('a transaction writes atomically with private permissions and keeps a backup', async () => {
  const p = home();
  await withStateLock((s) => {
    s.dns_port = 6000;
  }, p);
  assert.equal(readState(p).dns_port, 6000);
  assert.equal(statSync(p.state).mode & 0o777, 0o600);
  assert.equal(statSync(p.home).mode & 0o777, 0o700);
  await withStateLock((s) => {
    s.dns_port = 6001;
  }, p);
  assert.equal(JSON.parse(readFileSync(p.stateBackup, 'utf8')).dns_port, 6000);
});

test('a throwing transaction writes nothing', async () => {
  const p = home();
  await withStateLock((s) => {
    s.dns_port = 7000;
  }, p);
  await assert.rejects(
    withStateLock((s) => {
      s.dns_port = 7001;
      throw new Error('boom');
    }, p),
  );
  assert.equal(readState(p).dns_port, 7000);
});

test('a corrupted or truncated state is reported, never reset, and the backup restores', async () => {
  const p = home();
  await withStateLock((s) => {
    s.dns_port = 7100;
  }, p);
  await withStateLock((s) => {
    s.dns_port = 7101;
  }, p);
  const good = readFileSync(p.state, 'utf8');
  writeFileSync(p.state, good.slice(0, 20));
  assert.throws(() => readState(p), (e: Error & { code?: string }) => e.code === 'STATE_CORRUPT' && e.message.includes('state.json'));
  await assert.rejects(withStateLock(() => undefined, p), (e: Error & { code?: string }) => e.code === 'STATE_CORRUPT');
  assert.equal(readFileSync(p.state, 'utf8'), good.slice(0, 20), 'the corrupt file is left as it was');
  const aside = restoreBackup(p);
  assert.ok(existsSync(aside));
  assert.equal(readState(p).dns_port, 7100);
});

test('concurrent transactions in one process lose no update', async () => {
  const p = home();
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      withStateLock((s) => {
        s.base_subnets.push(`10.${i}.0.0/16`);
      }, p),
    ),
  );
  assert.equal(readState(p).base_subnets.length, 21);
});

test('a second read of the same text gives an equal copy; a changed file is read anew', async () => {
  const p = home();
  await withStateLock((s) => {
    s.dns_port = 7200;
  }, p);
  const first = readState(p);
  first.dns_port = 1; // callers may change what they get: it must not leak into later reads
  first.base_subnets.push('10.9.0.0/16');
  const second = readState(p);
  assert.equal(second.dns_port, 7200);
  assert.deepEqual(second.base_subnets, readState(p).base_subnets);
  assert.notEqual(second, readState(p), 'every read gets its own object');
  // Changed behind the process's back, same length: the text, not the size or the time, decides.
  writeFileSync(p.state, readFileSync(p.state, 'utf8').replace('7200', '7201'));
  assert.equal(readState(p).dns_port, 7201);
  // Changed by a transaction in this process, which itself starts from the remembered state.
  await withStateLock((s) => {
    assert.equal(s.dns_port, 7201);
    s.dns_port = 7202;
  }, p);
  assert.equal(readState(p).dns_port, 7202);
  // Back to a text read before: still right.
  writeFileSync(p.state, readFileSync(p.state, 'utf8').replace('7202', '7201'));
  assert.equal(readState(p).dns_port, 7201);
  writeFileSync(p.state, '{ "version": 3 ');
  assert.throws(() => readState(p), (e: Error & { code?: string }) => e.code === 'STATE_CORRUPT');
});
