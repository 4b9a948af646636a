import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTrees, type TreeEntry } from './tree-diff.js';

const f = (size: number, mtimeMs: number): TreeEntry => ({ kind: 'file', size, mtimeMs });

test('added, changed and removed files; time-only differences are decided by content', async () => {
  const source = new Map<string, TreeEntry>([
    ['same', f(10, 1000)],
    ['touched', f(10, 1000)],
    ['edited-same-size', f(10, 1000)],
    ['grown', f(10, 1000)],
    ['gone', f(1, 1)],
    ['link', { kind: 'symlink', size: 0, mtimeMs: 0, link: 'a' }],
  ]);
  const workspace = new Map<string, TreeEntry>([
    ['same', f(10, 1000.4)],
    ['touched', f(10, 2000)],
    ['edited-same-size', f(10, 2000)],
    ['grown', f(11, 1000)],
    ['new', f(1, 1)],
    ['link', { kind: 'symlink', size: 0, mtimeMs: 0, link: 'b' }],
  ]);
  const asked: string[] = [];
  const d = await diffTrees(source, workspace, async (rel) => {
    asked.push(rel);
    return rel === 'touched';
  });
  assert.deepEqual(d, { added: ['new'], changed: ['edited-same-size', 'grown', 'link'], removed: ['gone'] });
  assert.deepEqual(asked.sort(), ['edited-same-size', 'touched'], 'content is read only when size agrees and time does not');
});
