import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNames } from './compare.js';

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
