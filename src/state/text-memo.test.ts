import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextMemo } from './text-memo.js';

test('answers only for the exact text last remembered, with a fresh copy each time', () => {
  const memo = new TextMemo<{ list: number[] }>();
  assert.equal(memo.get('a'), undefined);
  const value = { list: [1] };
  memo.set('a', value);
  value.list.push(2); // changed after set: the memo keeps what it was given
  const one = memo.get('a');
  assert.deepEqual(one, { list: [1] });
  one?.list.push(3);
  assert.deepEqual(memo.get('a'), { list: [1] });
  assert.notEqual(memo.get('a'), memo.get('a'));
  assert.equal(memo.get('a '), undefined);
  memo.set('b', { list: [4] });
  assert.equal(memo.get('a'), undefined, 'only the last text is remembered');
  assert.deepEqual(memo.get('b'), { list: [4] });
});
