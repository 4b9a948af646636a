import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseWorkspaceMode, copyOnlyReason, isInPlace, workspaceRemovalRefusal } from './workspace-mode.js';

test('a new environment: the flag, else the config, else in place in a linked worktree, else a copy', () => {
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: false }), { mode: 'copy', reason: 'default' });
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: true }), { mode: 'in-place', reason: 'worktree' });
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: true, flag: 'copy' }), { mode: 'copy', reason: 'flag' }, '--copy forces a copy in a worktree');
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: false, flag: 'in-place' }), { mode: 'in-place', reason: 'flag' }, 'a main checkout copies unless asked');
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: false, config: 'in-place' }), { mode: 'in-place', reason: 'config' });
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: true, config: 'copy' }), { mode: 'copy', reason: 'config' });
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: false, config: 'copy', flag: 'in-place' }), { mode: 'in-place', reason: 'flag' }, 'the flag wins over the config');
  assert.deepEqual(chooseWorkspaceMode({ linkedWorktree: true, copyOnly: 'x' }), { mode: 'copy', reason: 'worktree-copy-only', because: 'x' }, 'a worktree whose project needs a copy is copied (and it is said)');
  assert.equal(chooseWorkspaceMode({ linkedWorktree: false, flag: 'in-place', copyOnly: 'x' }).mode, 'in-place', 'an explicit in-place is kept: the caller refuses it');
});

test('what needs a copy: render rules, an init hook, --include, --empty', () => {
  assert.equal(copyOnlyReason({}), undefined);
  assert.equal(copyOnlyReason({ env: { copy_mode: 'none' } }), undefined, 'the copy policy only applies to copies');
  assert.match(copyOnlyReason({ env: { render: [{ file: '.env', tokens: true }] } }) ?? '', /render rules/);
  assert.match(copyOnlyReason({ env: { init_hook: 'make env' } }) ?? '', /init_hook/);
  assert.equal(copyOnlyReason({ env: { init_hook: '  ' } }), undefined);
  assert.match(copyOnlyReason({}, { include: ['*.go'] }) ?? '', /--include/);
  assert.match(copyOnlyReason({}, { empty: true }) ?? '', /--empty/);
});

test('a record without a mode is a copy', () => {
  assert.equal(isInPlace({}), false);
  assert.equal(isInPlace({ workspace_mode: 'copy' }), false);
  assert.equal(isInPlace({ workspace_mode: 'in-place' }), true);
});

test('a workspace may be removed only below cilo\'s roots, and never at, in or around an in-place source', () => {
  const roots = ['/h/envs', '/h/snapshots'];
  assert.equal(workspaceRemovalRefusal('/h/envs/p/e', roots, []), undefined);
  assert.equal(workspaceRemovalRefusal('/h/snapshots/s1', roots, []), undefined);
  assert.match(workspaceRemovalRefusal('/h/envs', roots, []) ?? '', /not a workspace/, 'a root itself');
  assert.match(workspaceRemovalRefusal('/src/app', roots, []) ?? '', /not a workspace/, 'a directory outside CILO_HOME');
  assert.match(workspaceRemovalRefusal('/h/envs-other/p', roots, []) ?? '', /not a workspace/, 'a sibling whose name starts alike');
  assert.match(workspaceRemovalRefusal('/h/envs/p/../../../src', roots, []) ?? '', /not a workspace/);
  assert.match(workspaceRemovalRefusal('/h/envs/p/e', roots, ['/h/envs/p/e']) ?? '', /is the source tree/);
  assert.match(workspaceRemovalRefusal('/h/envs/p', roots, ['/h/envs/p/e/app']) ?? '', /holds the source tree/);
  assert.match(workspaceRemovalRefusal('/h/envs/p/e/app', roots, ['/h/envs/p/e']) ?? '', /is inside the source tree/);
  assert.equal(workspaceRemovalRefusal('/h/envs/p/e2', roots, ['/h/envs/p/e']), undefined, 'a neighbour is not held');
});
