import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installClaudeHooks, unmergedWork } from './claude-hooks.js';

test('unmerged work in words: commits and uncommitted changes (git), changed files (others)', () => {
  const git = { kind: 'git', env: 'e', source: '/s', workspace: '/w', branch: 'main', source_branch: 'main', behind: 0, stat: '' } as const;
  assert.equal(unmergedWork({ ...git, commits: [], uncommitted: [] }), undefined);
  assert.equal(unmergedWork({ ...git, commits: [{ sha: 'a', subject: 's', author: 'x', date: 'd' }], uncommitted: [{ status: '??', path: 'n' } as never] }), '1 commit(s) the source does not have and 1 uncommitted change(s)');
  assert.equal(unmergedWork({ kind: 'files', env: 'e', source: '/s', workspace: '/w', added: [], changed: ['a'], removed: [], env_files_skipped: [] }), '1 changed file(s)');
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
