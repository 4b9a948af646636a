import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePorcelainZ } from './git.js';

test('porcelain -z: modified, untracked, renamed (with its origin), spaces in names', () => {
  const out = ' M src/app.sh\0?? new file.txt\0R  b.txt\0a.txt\0D  gone\0';
  assert.deepEqual(parsePorcelainZ(out), [
    { status: ' M', path: 'src/app.sh' },
    { status: '??', path: 'new file.txt' },
    { status: 'R ', path: 'b.txt', from: 'a.txt' },
    { status: 'D ', path: 'gone' },
  ]);
});
