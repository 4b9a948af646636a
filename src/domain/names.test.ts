import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeName, toValidName, networkName, composeProjectName, sharedContainerName, normalizeSuffix } from './names.js';

test('normalizes case, slashes and underscores, trims dashes', () => {
  assert.equal(normalizeName('Feature/Login_Page'), 'feature-login-page');
  assert.equal(normalizeName('--agent-1--'), 'agent-1');
});

test('accepts valid names and rejects the rest with the rule in the message', () => {
  assert.equal(toValidName('Agent_1', 'environment'), 'agent-1');
  for (const bad of ['', '---', 'a b', 'ünïcode', 'x'.repeat(64), 'dot.name']) {
    assert.throws(() => toValidName(bad, 'environment'), (e: Error & { code?: string; exitCode?: number }) => e.code === 'INVALID_NAME' && e.exitCode === 2 && /lowercase letters, digits/.test(e.message));
  }
  assert.equal(toValidName('x'.repeat(63), 'project'), 'x'.repeat(63));
});

test('resource names include the project', () => {
  assert.equal(networkName('shop', 'dev'), 'cilo_shop_dev');
  assert.equal(composeProjectName('shop', 'dev'), 'cilo-shop-dev');
  assert.equal(sharedContainerName('shop', 'db'), 'cilo_shared_shop_db');
});

test('suffixes get one leading dot', () => {
  assert.equal(normalizeSuffix('test'), '.test');
  assert.equal(normalizeSuffix('.Local.'), '.local');
});
