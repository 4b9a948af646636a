import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProgram } from './which.js';

test('finds programs in PATH or by path relative to the directory; tells missing from not executable', () => {
  const root = tempDir('cilo-which-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'other'));
  writeFileSync(join(root, 'bin', 'tool'), '#!/bin/sh\n');
  chmodSync(join(root, 'bin', 'tool'), 0o755);
  writeFileSync(join(root, 'other', 'plain'), 'x\n');
  writeFileSync(join(root, 'other', 'tool'), 'shadowed\n');
  const PATH = [join(root, 'other'), join(root, 'bin')].join(':');
  assert.deepEqual(findProgram('tool', '/', PATH), { found: true, path: join(root, 'bin', 'tool') }, 'a non-executable file earlier in PATH is skipped');
  assert.deepEqual(findProgram('nope', '/', PATH), { found: false, reason: 'missing' });
  assert.deepEqual(findProgram('plain', '/', PATH), { found: false, reason: 'not-executable' });
  assert.deepEqual(findProgram('./bin/tool', root, ''), { found: true, path: join(root, 'bin', 'tool') });
  assert.deepEqual(findProgram('./other/plain', root, ''), { found: false, reason: 'not-executable' });
  assert.deepEqual(findProgram('./bin', root, ''), { found: false, reason: 'not-executable' }, 'a directory is not a program');
  assert.deepEqual(findProgram('./missing', root, PATH), { found: false, reason: 'missing' });
});
