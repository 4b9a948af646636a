import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyState } from '../../state/schema.js';
import { queriedActivityWriter } from './dns-server.js';

test("queried environments' activity is written at most every 5 s each, only for new queries, only for known environments", () => {
  let now = 100_000;
  const touched: string[] = [];
  const write = queriedActivityWriter({ clock: { now: () => now }, activity: { touch: (e) => touched.push(e), last: () => null, forget: () => undefined } });
  const state = emptyState();
  for (const name of ['a', 'b']) {
    state.environments[name] = { name, project: 'p', source: '/s', workspace: '/w', subnet: '10.224.1.0/24', dns_suffix: '.test', status: 'running', created_at: '', updated_at: '', services: {}, ingress: null, hostnames: [], shared: [] };
  }
  const seen: Record<string, number> = { a: now - 10, gone: now - 10 };
  const tick = (): void => write(state, (e) => seen[e] ?? null);

  tick();
  assert.deepEqual(touched, ['a'], 'a was queried; b never; gone is no environment');
  now += 1000;
  seen['a'] = now - 5;
  tick();
  assert.deepEqual(touched, ['a'], 'queried again within 5 s: not written again yet');
  now += 4000;
  tick();
  assert.deepEqual(touched, ['a', 'a'], 'written once 5 s passed, for the query in between');
  now += 10_000;
  tick();
  assert.deepEqual(touched, ['a', 'a'], 'no query since: nothing to write');
});
