import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveHostnames, normalizeHostname, parseHostnameList } from './hostnames.js';

test('hostnames are lowercased and made relative to the environment', () => {
  assert.equal(normalizeHostname('Admin', 'e1', '.test'), 'admin');
  assert.equal(normalizeHostname('api.v2', 'e1', '.test'), 'api.v2');
  assert.equal(normalizeHostname('admin.e1.test.', 'e1', '.test'), 'admin');
});

test('hostnames break no DNS label rule', () => {
  for (const bad of ['', 'under_score', '-lead', 'trail-', 'a..b', '.x', 'sp ace', 'e1.test', `${'a'.repeat(64)}`, 'ünï', `${'abc.'.repeat(70)}x`]) {
    assert.throws(() => normalizeHostname(bad, 'e1', '.test'), (e: Error & { code?: string; exitCode?: number }) => e.code === 'USAGE' && e.exitCode === 2 && /Invalid hostname/.test(e.message), bad);
  }
});

test('a hostnames file: one per line, comments and blank lines ignored', () => {
  assert.deepEqual(parseHostnameList('# team names\nadmin\n\n  docs.v2  # the docs\r\n#off\nshop\n'), ['admin', 'docs.v2', 'shop']);
});

test('the effective list is project names then custom ones, without duplicates', () => {
  assert.deepEqual(effectiveHostnames(['a', 'b'], ['b', 'c']), ['a', 'b', 'c']);
  assert.deepEqual(effectiveHostnames(['a'], undefined), ['a']);
});
