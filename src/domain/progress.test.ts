import { test } from 'node:test';
import assert from 'node:assert/strict';
import { composePhase, formatAmount, formatBytes, formatDuration, serviceOfContainer } from './progress.js';

test('compose\'s status words as phases; words about stopping say nothing', () => {
  assert.equal(composePhase('Creating'), 'creating');
  assert.equal(composePhase('Recreated'), 'created');
  assert.equal(composePhase('Started'), 'started');
  assert.equal(composePhase('Waiting'), 'health');
  assert.equal(composePhase('Healthy'), 'healthy');
  assert.equal(composePhase('Stopping'), undefined);
});

test('the service of a compose container name, only in its project', () => {
  assert.equal(serviceOfContainer('cilo-shop-e1', 'cilo-shop-e1-web-api-1'), 'web-api');
  assert.equal(serviceOfContainer('cilo-shop-e1', 'cilo-shop-e10-web-1'), undefined);
  assert.equal(serviceOfContainer('cilo-shop-e1', 'cilo_shared_shop_db'), undefined);
});

test('durations, sizes and amounts for people', () => {
  assert.equal(formatDuration(420), '0.4 s');
  assert.equal(formatDuration(12_300), '12 s');
  assert.equal(formatDuration(148_000), '2 min 28 s');
  assert.equal(formatBytes(812), '812 B');
  assert.equal(formatBytes(1_400_000), '1.4 MB');
  assert.equal(formatBytes(210_000_000), '210 MB');
  assert.equal(formatAmount({ done: 4210, total: 10000, unit: 'files' }), '4,210 of 10,000 files (42%)');
  assert.equal(formatAmount({ done: 5_000_000, unit: 'bytes' }), '5.0 MB');
});
