import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installClaudeHooks, unmergedWork } from './claude-hooks.js';
import type { GitDiffResult, RepoDiff } from '../environments/diff.js';

test('unmerged work in words: commits and uncommitted changes of every repository (git), changed files (others)', () => {
  const repo: RepoDiff = { path: '.', in_source: true, branch: 'main', source_branch: 'main', behind: 0, commits: [], uncommitted: [], files: [] };
  const git: GitDiffResult = { kind: 'git', env: 'e', source: '/s', workspace: '/w', branch: 'main', source_branch: 'main', behind: 0, stat: '', files: [], commits: [], uncommitted: [], repos: [] };
  assert.equal(unmergedWork({ ...git, repos: [repo] }), undefined);
  const commit = { sha: 'a', subject: 's', author: 'x', date: 'd' };
  const change = { status: '??', path: 'n' };
  assert.equal(unmergedWork({ ...git, repos: [{ ...repo, commits: [commit], uncommitted: [change] }] }), '1 commit(s) the source does not have and 1 uncommitted change(s)');
  assert.equal(unmergedWork({ ...git, repos: [repo, { ...repo, path: 'lib', uncommitted: [change] }] }), '1 uncommitted change(s)', 'a nested repository counts');
  assert.equal(unmergedWork({ kind: 'files', env: 'e', source: '/s', workspace: '/w', stat: '', files: ['a'], repos: [], added: [], changed: ['a'], removed: [], env_files_skipped: [] }), '1 changed file(s)');
});

test('installs into a missing settings file, refuses one that is not JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-hooks-'));
  try {
    const file = join(dir, '.claude', 'settings.json');
    assert.deepEqual(installClaudeHooks({ file, cilo: '/usr/local/bin/cilo', up: true }).added, ['WorktreeCreate', 'WorktreeRemove']);
    const s = JSON.parse(readFileSync(file, 'utf8')) as { hooks: { WorktreeCreate: { hooks: { command: string }[] }[] } };
    assert.equal(s.hooks.WorktreeCreate[0]?.hooks[0]?.command, '/usr/local/bin/cilo hook claude worktree-create --up');
    writeFileSync(file, '{ nope');
    assert.throws(() => installClaudeHooks({ file, cilo: 'cilo' }), /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
