import { test } from 'node:test';
import assert from 'node:assert/strict';
import { budgetBytes, DEFAULT_SERVICE_MEMORY, estimateMemory, fits, formatBudget, parseMemoryBudget, refusalMessage, serviceMemoryLimit } from './admission.js';

const MB = 1024 * 1024;

test('a memory budget is a size, a percent of the engine, or none', () => {
  assert.deepEqual(parseMemoryBudget('6g'), { bytes: 6 * 1024 * MB });
  assert.deepEqual(parseMemoryBudget('512m'), { bytes: 512 * MB });
  assert.deepEqual(parseMemoryBudget('512MB'), { bytes: 512 * MB });
  assert.deepEqual(parseMemoryBudget('1.5G'), { bytes: 1.5 * 1024 * MB });
  assert.deepEqual(parseMemoryBudget('60%'), { percent: 60 });
  assert.equal(parseMemoryBudget('none'), null);
  for (const bad of ['', 'lots', '0', '0%', '150%', '-1g', '6x', '%']) assert.equal(parseMemoryBudget(bad), undefined, bad);
});

test('a budget is stored in its short form and a percent is of the engine\'s memory', () => {
  assert.equal(formatBudget({ bytes: 6 * 1024 * MB }), '6 GB');
  assert.equal(formatBudget({ percent: 60 }), '60%');
  assert.equal(budgetBytes({ percent: 50 }, 8 * 1024 * MB), 4 * 1024 * MB);
  assert.equal(budgetBytes({ bytes: 100 }, 8 * 1024 * MB), 100);
});

test('a service limit is mem_limit, else deploy.resources.limits.memory, as compose prints them', () => {
  assert.equal(serviceMemoryLimit({ mem_limit: 67108864 }), 64 * MB);
  assert.equal(serviceMemoryLimit({ deploy: { resources: { limits: { memory: '33554432' } } } }), 32 * MB);
  assert.equal(serviceMemoryLimit({ image: 'x' }), undefined);
});

test('the estimate is the last use, else the limits, else per image, else the default per service', () => {
  const model = {
    services: {
      app: { image: 'app:1', mem_limit: 64 * MB },
      cache: { image: 'redis:7' },
      other: { image: 'unknown:1' },
      db: { image: 'postgres:16' },
    },
  };
  assert.deepEqual(estimateMemory({ lastUse: 10 * MB, model }), { bytes: 10 * MB, basis: 'last-use' });
  assert.deepEqual(estimateMemory({ model: { services: { app: { mem_limit: 64 * MB }, w: { deploy: { replicas: 2, resources: { limits: { memory: String(16 * MB) } } } } } } }), { bytes: 96 * MB, basis: 'limits' });
  // db is shared: it runs once for every environment and is not this one's.
  assert.deepEqual(estimateMemory({ model, shared: ['db'], imageMemory: { 'redis:7': 5 * MB } }), { bytes: 64 * MB + 5 * MB + DEFAULT_SERVICE_MEMORY, basis: 'defaults' });
  assert.deepEqual(estimateMemory({}), { bytes: DEFAULT_SERVICE_MEMORY, basis: 'defaults' });
});

test('an environment fits when what runs plus its estimate stays within the budget; the refusal names all four', () => {
  assert.equal(fits({ budget: 100, estimate: 40, inUse: 60 }), true);
  assert.equal(fits({ budget: 100, estimate: 41, inUse: 60 }), false);
  const m = refusalMessage('e3', { budget: 256 * MB, estimate: 64 * MB, inUse: 224 * MB }, '256m', ['e1', 'e2']);
  assert.match(m, /e3 needs about 64 MB/);
  assert.match(m, /budget 256m \(256 MB\) has 32 MB left/);
  assert.match(m, /use 224 MB now/);
  assert.match(m, /longest idle first: e1, e2\.$/);
});
