import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { environmentBusy, lockEnvironment, tryLockEnvironment } from './env-lock.js';
import { ciloPaths } from './paths.js';

test('one holder per environment name; a waiter is told who holds it and gets it once released', async () => {
  const paths = ciloPaths(tempDir('cilo-envlock-'));
  const first = await tryLockEnvironment(paths, 'test');
  assert.ok(first);
  assert.equal(await tryLockEnvironment(paths, 'test'), undefined, 'held');
  assert.equal(await environmentBusy(paths, 'test'), true);
  const other = await tryLockEnvironment(paths, 'other');
  assert.ok(other, 'another name is another lock');
  await other();

  const told: (string | undefined)[] = [];
  let waits: () => void = () => undefined;
  const isWaiting = new Promise<void>((r) => (waits = r));
  const waiting = lockEnvironment(paths, 'test', {
    onWait: (holder) => {
      told.push(holder);
      waits();
    },
  });
  await isWaiting;
  assert.match(told[0] ?? '', new RegExp(`pid ${process.pid}`));
  await first();
  const second = await waiting;
  assert.equal(told.length, 1, 'told once that it waits');
  assert.equal(await environmentBusy(paths, 'test'), true);
  await second();
  assert.equal(await environmentBusy(paths, 'test'), false);
});
