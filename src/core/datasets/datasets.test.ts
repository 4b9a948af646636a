import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CiloError } from '../../errors.js';
import { datasetSizes } from './datasets.js';

test('dataset sizes: an engine that cannot list its datasets is said, its sizes unknown', async () => {
  const warned: string[] = [];
  const ctx = { warn: (l: string) => warned.push(l) };
  const listed = { inventory: () => Promise.resolve([{ name: 'shop_e1', template: false, size: 42 }]) };
  assert.deepEqual(await datasetSizes(ctx, listed, 'shop', 'db'), new Map([['shop_e1', 42]]));
  assert.deepEqual(warned, []);
  const failing = { inventory: () => Promise.reject(new CiloError('SERVICE_FAILED', 'Listing databases failed in the shared postgres container cilo_shared_shop_db (exit 2): FATAL: too many connections')) };
  assert.equal(await datasetSizes(ctx, failing, 'shop', 'db'), null);
  assert.equal(warned.length, 1);
  assert.match(warned[0] ?? '', /shared db of project shop are unknown: Listing databases failed .*too many connections/);
});

test('dataset sizes: a failure that is not an expected one (a bug) is not swallowed', async () => {
  const bug = { inventory: () => Promise.reject(new TypeError('x is undefined')) };
  await assert.rejects(datasetSizes({ warn: () => undefined }, bug, 'shop', 'db'), TypeError);
});
