import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalSource, sameSource } from './project.js';

test('a directory is its real path; the linked worktrees of a repository are one source with its main worktree', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cilo-source-')));
  try {
    // git's own layout of `git worktree add ../app-feature` (the integration test runs git itself)
    const repo = join(root, 'app');
    mkdirSync(join(repo, 'svc'), { recursive: true });
    mkdirSync(join(repo, '.git', 'worktrees', 'app-feature'), { recursive: true });
    writeFileSync(join(repo, '.git', 'worktrees', 'app-feature', 'commondir'), '../..\n');
    mkdirSync(join(root, 'app-feature', 'svc'), { recursive: true });
    writeFileSync(join(root, 'app-feature', '.git'), `gitdir: ${join(repo, '.git', 'worktrees', 'app-feature')}\n`);
    // a submodule's `.git` file points to a gitdir without `commondir`
    mkdirSync(join(repo, '.git', 'modules', 'sub'), { recursive: true });
    mkdirSync(join(repo, 'sub'));
    writeFileSync(join(repo, 'sub', '.git'), 'gitdir: ../.git/modules/sub\n');
    symlinkSync(repo, join(root, 'link'));
    const other = join(root, 'other', 'app');
    mkdirSync(other, { recursive: true });

    assert.equal(canonicalSource(repo), repo);
    assert.equal(canonicalSource(join(root, 'link')), repo, 'symlinks resolved');
    assert.equal(canonicalSource(join(root, 'app-feature')), repo, 'a linked worktree stands for its main worktree');
    assert.equal(canonicalSource(join(root, 'app-feature', 'svc')), join(repo, 'svc'), 'the same place in it');
    assert.equal(canonicalSource(other), other);
    assert.equal(canonicalSource(join(repo, 'sub')), join(repo, 'sub'), 'a submodule is itself');
    assert.equal(sameSource(join(root, 'app-feature'), repo), true);
    assert.equal(sameSource(other, repo), false, 'another folder with the same name is another source');
    assert.equal(canonicalSource(join(root, 'gone')), join(root, 'gone'), 'a directory that no longer exists is its path');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
