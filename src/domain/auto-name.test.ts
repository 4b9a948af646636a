import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickFreeName } from './auto-name.js';

test('takes the first free <prefix>-N, reusing gaps', () => {
  const taken = new Set(['agent-1', 'agent-3']);
  assert.equal(pickFreeName('agent', (n) => taken.has(n)), 'agent-2');
  assert.equal(pickFreeName('agent', () => false), 'agent-1');
});

test('exactFirst takes the prefix itself when free, else <prefix>-2 onward', () => {
  assert.equal(pickFreeName('feat', () => false, { exactFirst: true }), 'feat');
  const taken = new Set(['feat']);
  assert.equal(pickFreeName('feat', (n) => taken.has(n), { exactFirst: true }), 'feat-2');
});

test('a long prefix is shortened so the name stays a valid DNS label', () => {
  const name = pickFreeName('x'.repeat(63), () => false);
  assert.equal(name.length, 63);
  assert.match(name, /-1$/);
});
