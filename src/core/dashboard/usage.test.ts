import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_USAGE, type Usage } from '../../domain/usage.js';
import type { TopSnapshot } from '../environments/top.js';
import { dashboardUsageView } from './usage.js';

const use = (memory: number, cpu = 0): Usage => ({ ...NO_USAGE, memory_bytes: memory, cpu_percent: cpu });

const top: TopSnapshot = {
  at: '2026-01-01T00:00:00.000Z',
  environments: [
    { name: 'a1', project: 'alpha', host: null, status: 'running', containers: 2, usage: use(100, 5), shared: ['db'], idle_seconds: 12 },
    { name: 'a2', project: 'alpha', host: null, status: 'stopped', containers: 0, usage: NO_USAGE, shared: [], idle_seconds: null },
    { name: 'b1', project: 'beta', host: null, status: 'running', containers: 1, usage: use(40, 1), shared: [], idle_seconds: 3 },
  ],
  shared: [
    { project: 'alpha', service: 'db', host: null, container: 'cilo-shared-alpha-db', state: 'running', users: ['a1'], usage: use(300, 2) },
    { project: 'beta', service: 'cache', host: null, container: 'cilo-shared-beta-cache', state: 'exited', users: [], usage: NO_USAGE },
  ],
  total: use(440, 8),
  unreachable: [],
};

test("the dashboard's usage: rows of its project, what they use together, and every project's machine total", () => {
  const v = dashboardUsageView(top, { project: 'alpha' }, { memory_bytes: 8e9, cpus: 2 });
  assert.deepEqual(v.environments.map((e) => e.name), ['a1', 'a2']);
  assert.deepEqual(v.shared.map((s) => s.service), ['db']);
  assert.deepEqual(v.shown, use(400, 7));
  assert.deepEqual(v.total, { usage: use(440, 8), containers: 4 }, 'a shared service that does not run is no container');
  assert.deepEqual(v.engine, { memory_bytes: 8e9, cpus: 2 });
});

test("the dashboard's usage of every project shows every row; an engine that did not answer has no capacity", () => {
  const v = dashboardUsageView(top, { project: undefined }, null);
  assert.equal(v.environments.length, 3);
  assert.equal(v.shared.length, 2);
  assert.deepEqual(v.shown, v.total.usage);
  assert.equal(v.engine, null);
});
