import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNames, likelyTypos, namesOneEditAway, sameSeries, normalizeName, oneEditApart, toValidName, networkName, composeProjectName, sharedContainerName, normalizeSuffix } from './names.js';

test('normalizes case, slashes and underscores, trims dashes', () => {
  assert.equal(normalizeName('Feature/Login_Page'), 'feature-login-page');
  assert.equal(normalizeName('--agent-1--'), 'agent-1');
});

test('accepts valid names and rejects the rest with the rule in the message', () => {
  assert.equal(toValidName('agent-1', 'environment'), 'agent-1');
  assert.equal(toValidName('Agent_1', 'project'), 'agent-1', 'a project name (from a directory) is normalized');
  for (const bad of ['', '---', 'a b', 'ünïcode', 'x'.repeat(64), 'dot.name']) {
    assert.throws(() => toValidName(bad, 'environment'), (e: Error & { code?: string; exitCode?: number }) => e.code === 'INVALID_NAME' && e.exitCode === 2 && /lowercase letters, digits/.test(e.message));
  }
  assert.equal(toValidName('x'.repeat(63), 'project'), 'x'.repeat(63));
});

test('an environment name is taken exactly as typed: refused with the form it may have meant, never normalized', () => {
  for (const [typed, meant] of [['-FOO_', 'foo'], ['Agent_1', 'agent-1'], ['feature/login', 'feature-login'], [' dev', 'dev']] as const) {
    assert.throws(
      () => toValidName(typed, 'environment'),
      (e: Error & { code?: string; exitCode?: number }) => e.code === 'INVALID_NAME' && e.exitCode === 2 && e.message === `Invalid environment name "${typed}": a name must be lowercase letters, digits and "-", 1 to 63 characters, starting and ending with a letter or digit; did you mean "${meant}"?`,
    );
  }
  assert.throws(() => toValidName('a.b', 'environment'), (e: Error) => !/did you mean/.test(e.message), 'no guess where normalizing gives no valid name either');
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

const sign = (n: number): number => Math.sign(n);

test('orders names as the root collation does, with or without the fast path', () => {
  const alphabet = 'ab-_.0z9';
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const word = (): string => Array.from({ length: 1 + Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  for (let i = 0; i < 20_000; i++) {
    const a = word();
    const b = random() < 0.2 ? a.slice(0, -1) : word();
    assert.equal(sign(compareNames(a, b)), sign(a.localeCompare(b, 'en-US')), `${a} vs ${b}`);
  }
  const mixed = ['web', 'Web', 'api_1', 'api-1', 'api.1', 'api', 'db', 'Ä', 'é', 'z', '10', '9', 'a b'];
  assert.deepEqual([...mixed].sort(compareNames), [...mixed].sort((a, b) => a.localeCompare(b)));
});

test('names one edit away: a typo of an existing name', () => {
  assert.equal(oneEditApart('agent-3', 'agent-2'), true);
  assert.equal(oneEditApart('agent-12', 'agent-1'), true);
  assert.equal(oneEditApart('agnt-1', 'agent-1'), true);
  assert.equal(oneEditApart('agent-1', 'agent-1'), false);
  assert.equal(oneEditApart('agent-13', 'agent-2'), false);
  assert.equal(oneEditApart('dev', 'prod'), false);
  assert.deepEqual(namesOneEditAway('agent-3', ['agent-4', 'agent-2', 'web', 'agent-33']), ['agent-2', 'agent-33', 'agent-4']);
});

test('a likely typo is one edit away and not another member of a numbered series', () => {
  assert.equal(sameSeries('agent-2', 'agent-1'), true);
  assert.equal(sameSeries('agent-3', 'agent-33'), true);
  assert.equal(sameSeries('dev2', 'dev'), true);
  assert.equal(sameSeries('dev', 'dew'), false);
  assert.equal(sameSeries('agent-1', 'agnt-1'), false);
  assert.deepEqual(likelyTypos('agent-2', ['agent-1']), [], 'the README names agent-1, agent-2...: not a typo');
  assert.deepEqual(likelyTypos('agent-3', ['agent-4', 'agent-2', 'web', 'agent-33']), []);
  assert.deepEqual(likelyTypos('agnt-1', ['agent-1', 'agent-2']), ['agent-1']);
  assert.deepEqual(likelyTypos('dew', ['dev', 'staging']), ['dev']);
  assert.deepEqual(likelyTypos('dev2', ['dev', 'dev1']), []);
});
