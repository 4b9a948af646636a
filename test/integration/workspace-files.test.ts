/**
 * A workspace holds every file git tracks in its source, dot-directories included (issue #23):
 * a fresh workspace's `git status` is clean, an agent's `git add -A && git commit` merged back
 * deletes nothing and brings in none of cilo's own files, a workspace that lacks tracked files
 * (as one made by an older cilo) cannot delete them through `merge`, and the Claude
 * `worktree-remove` hook removes the environment `worktree-create` made on a git worktree. No containers are started.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, git, makeHome, tearDown, uid, type TestHome } from './helpers.js';

const stateOf = (h: TestHome): { environments: Record<string, { workspace: string }> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

const TRACKED_DOT_FILES = ['.github/workflows/ci.yml', '.claude/settings.json'];

/** A git project with history, tracked dot-directories, an untracked dot-directory and an untracked file in a tracked one. */
function makeSource(): string {
  const src = copyFixture('git-project', {
    '.github/workflows/ci.yml': 'on: push\njobs: {}\n',
    '.claude/settings.json': '{ "permissions": {} }\n',
  });
  git(src, 'init', '-q', '-b', 'main');
  git(src, 'config', 'user.name', 'Cilo Test');
  git(src, 'config', 'user.email', 'cilo-test@example.invalid');
  git(src, 'add', '-A');
  git(src, 'commit', '-q', '-m', 'initial');
  writeFileSync(join(src, 'notes/plan.md'), 'one\ntwo\n');
  git(src, 'commit', '-q', '-am', 'second');
  // Untracked: a virtualenv-like dot-directory, and a local file next to tracked ones.
  mkdirSync(join(src, '.venv/lib'), { recursive: true });
  writeFileSync(join(src, '.venv/lib/site.py'), 'x = 1\n');
  writeFileSync(join(src, '.github/local-notes.txt'), 'not tracked\n');
  return src;
}

const porcelain = (dir: string): string => git(dir, 'status', '--porcelain', '--untracked-files=all');
const trackedInHead = (dir: string): string[] => git(dir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n');

describe('a workspace holds every tracked file, and merge never loses one', () => {
  let h: TestHome;
  let src: string;
  const project = uid('wsf');
  before(() => {
    h = makeHome();
    src = makeSource();
  });
  after(async () => tearDown(h, project, src));

  test('a fresh workspace has the tracked dot-directories, not the untracked one, and a clean git status', async () => {
    const c = await h.cli(['create', 'fresh', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.fresh!.workspace;
    for (const f of TRACKED_DOT_FILES) assert.equal(readFileSync(join(ws, f), 'utf8'), readFileSync(join(src, f), 'utf8'), f);
    assert.ok(!existsSync(join(ws, '.venv')), 'an untracked dot-directory is skipped');
    assert.ok(!existsSync(join(ws, '.github/local-notes.txt')), 'an untracked file in a tracked dot-directory is skipped');
    assert.ok(existsSync(join(ws, '.cilo/meta.json')), "cilo's own file is there");
    assert.equal(porcelain(ws), '', 'git status of a fresh workspace is clean');
  });

  test("an agent's git add -A && git commit, merged back, keeps the dot-directories and commits none of cilo's files", async () => {
    const ws = stateOf(h).environments.fresh!.workspace;
    writeFileSync(join(ws, 'src/app.sh'), '#!/bin/sh\necho agent\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'agent: work');
    assert.ok(!trackedInHead(ws).includes('.cilo/meta.json'), 'git add -A in the workspace leaves meta.json out');
    const m = await h.cli(['merge', 'fresh', '--json']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(JSON.parse(m.stdout).result, 'fast-forward');
    for (const f of TRACKED_DOT_FILES) assert.ok(existsSync(join(src, f)), `${f} is still in the source`);
    const files = trackedInHead(src);
    for (const f of TRACKED_DOT_FILES) assert.ok(files.includes(f), `${f} is still tracked in the source`);
    assert.ok(!files.includes('.cilo/meta.json'), 'no meta.json committed in the source');
    assert.equal(readFileSync(join(src, 'src/app.sh'), 'utf8'), '#!/bin/sh\necho agent\n');
    assert.equal(git(src, 'status', '--porcelain'), '?? .github/local-notes.txt\n?? .venv/', 'only the untracked files, as before');
  });

  test("merge refuses commits that add cilo's own file, and leaves the source as it was", async () => {
    const c = await h.cli(['create', 'forced', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.forced!.workspace;
    git(ws, 'add', '-f', '.cilo/meta.json');
    git(ws, 'commit', '-q', '-m', 'agent: everything');
    const head = git(src, 'rev-parse', 'HEAD');
    const m = await h.cli(['merge', 'forced']);
    assert.equal(m.code, 1, m.stdout);
    assert.match(m.stderr, /^cilo: The commits of environment "forced" \([0-9a-f]+\) add cilo's own file \.cilo\/meta\.json, which must not reach .*, so nothing was merged\.\nhint: Take it out of those commits/);
    assert.equal(git(src, 'rev-parse', 'HEAD'), head);
    assert.ok(!existsSync(join(src, '.cilo/meta.json')));
  });

  test('a workspace without tracked files (as an older cilo made it): merge refuses to delete them, names them, changes nothing', async () => {
    const c = await h.cli(['create', 'old', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.old!.workspace;
    // What a cilo before this fix left: no dot-directories but .cilo and .git, no record of what it copied.
    rmSync(join(ws, '.github'), { recursive: true, force: true });
    rmSync(join(ws, '.claude'), { recursive: true, force: true });
    rmSync(join(ws, '.git', 'cilo-not-copied'), { force: true });
    writeFileSync(join(ws, 'README.md'), 'readme, by the agent\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'agent: readme');
    const head = git(src, 'rev-parse', 'HEAD');
    const m = await h.cli(['merge', 'old']);
    assert.equal(m.code, 1, m.stdout);
    assert.match(
      m.stderr,
      /^cilo: Merging environment "old" would delete 2 file\(s\) from .* that its workspace never received \(\.claude\/settings\.json, \.github\/workflows\/ci\.yml\), so nothing was merged\.\nhint: .*git -C \S+ checkout [0-9a-f]{12} -- \.claude\/settings\.json \.github\/workflows\/ci\.yml/,
    );
    assert.equal(git(src, 'rev-parse', 'HEAD'), head, 'the source is untouched');
    for (const f of TRACKED_DOT_FILES) assert.ok(existsSync(join(src, f)));
    assert.equal(git(src, 'status', '--porcelain', '--untracked-files=no'), '');

    // The hint's way out works: restore them in the workspace, commit, merge.
    const base = /checkout ([0-9a-f]{12}) --/.exec(m.stderr)?.[1] ?? '';
    git(ws, 'checkout', base, '--', ...TRACKED_DOT_FILES);
    git(ws, 'commit', '-q', '-m', 'Restore files cilo did not copy');
    const again = await h.cli(['merge', 'old']);
    assert.equal(again.code, 0, again.stderr);
    const files = trackedInHead(src);
    for (const f of TRACKED_DOT_FILES) assert.ok(files.includes(f), `${f} is still tracked`);
    assert.equal(readFileSync(join(src, 'README.md'), 'utf8'), 'readme, by the agent\n');
  });

  test('a workspace made with --include (and its .git): merge refuses to delete the tracked files it left out', async () => {
    const c = await h.cli(['create', 'partial', '--from', src, '--project', project, '--include', 'src/**', '--include', '.git']);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.partial!.workspace;
    assert.ok(!existsSync(join(ws, 'README.md')));
    writeFileSync(join(ws, 'src/app.sh'), '#!/bin/sh\necho partial\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'agent: everything');
    const head = git(src, 'rev-parse', 'HEAD');
    const m = await h.cli(['merge', 'partial']);
    assert.equal(m.code, 1, m.stdout);
    assert.match(m.stderr, /^cilo: Merging environment "partial" would delete \d+ file\(s\) from .* that its workspace never received \(.*README\.md.*\), so nothing was merged\./);
    assert.match(m.stderr, /\.github\/workflows\/ci\.yml/);
    assert.equal(git(src, 'rev-parse', 'HEAD'), head, 'the source is untouched');
    assert.ok(existsSync(join(src, 'README.md')));
  });

  test('a deliberate deletion of a tracked dot-file in a fresh workspace is merged', async () => {
    const c = await h.cli(['create', 'deleter', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.deleter!.workspace;
    git(ws, 'rm', '-q', '.claude/settings.json');
    git(ws, 'commit', '-q', '-m', 'agent: no claude settings');
    const m = await h.cli(['merge', 'deleter']);
    assert.equal(m.code, 0, m.stderr);
    assert.ok(!trackedInHead(src).includes('.claude/settings.json'));
    assert.ok(trackedInHead(src).includes('.github/workflows/ci.yml'));
  });
});

describe('a submodule inside a dot-directory', () => {
  let h: TestHome;
  let lib: string;
  let src: string;
  const project = uid('wss');
  before(() => {
    h = makeHome();
    lib = copyFixture('git-project', { '.ci/run.sh': 'echo ci\n' });
    src = makeSource();
    git(lib, 'init', '-q', '-b', 'main');
    git(lib, 'config', 'user.name', 'Cilo Test');
    git(lib, 'config', 'user.email', 'cilo-test@example.invalid');
    git(lib, 'add', '-A');
    git(lib, 'commit', '-q', '-m', 'lib');
    git(src, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', lib, '.deps/lib');
    git(src, 'commit', '-q', '-m', 'submodule');
  });
  after(async () => tearDown(h, project, src, lib));

  test('is copied with its repository; both git statuses are clean; a deliberate deletion in it is merged', async () => {
    const c = await h.cli(['create', 'sub', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.sub!.workspace;
    assert.equal(porcelain(ws), '');
    assert.equal(porcelain(join(ws, '.deps/lib')), '');
    assert.ok(existsSync(join(ws, '.deps/lib/.ci/run.sh')));
    git(join(ws, '.deps/lib'), 'rm', '-q', '.ci/run.sh');
    git(join(ws, '.deps/lib'), 'commit', '-q', '-m', 'agent: no ci');
    const m = await h.cli(['merge', 'sub']);
    assert.equal(m.code, 0, m.stderr);
    assert.ok(!existsSync(join(src, '.deps/lib/.ci/run.sh')), 'the deletion reached the source submodule');
  });
});

describe('the Claude worktree hooks and tracked dot-directories', () => {
  let h: TestHome;
  let src: string;
  const project = uid('wsh');
  before(() => {
    h = makeHome();
    src = makeSource();
    // The project's name comes from its config here: the hook has no --project.
    mkdirSync(join(src, '.cilo'), { recursive: true });
    writeFileSync(join(src, '.cilo/config.yml'), `project: ${project}\n`);
    git(src, 'add', '.cilo/config.yml');
    git(src, 'commit', '-q', '-m', 'cilo config');
  });
  after(async () => tearDown(h, project, src));

  test('worktree-remove destroys the environment worktree-create made in place on a git worktree, and leaves the worktree', async () => {
    const created = await h.cli(['hook', 'claude', 'worktree-create'], { cwd: '/', input: JSON.stringify({ hook_event_name: 'WorktreeCreate', cwd: src, name: 'agent-files', session_id: 's1' }) });
    assert.equal(created.code, 0, created.stderr);
    const ws = created.stdout.trim();
    const fresh = { ci: existsSync(join(ws, '.github/workflows/ci.yml')), config: existsSync(join(ws, '.cilo/config.yml')), status: porcelain(ws) };
    const removed = await h.cli(['hook', 'claude', 'worktree-remove'], { cwd: '/', input: JSON.stringify({ hook_event_name: 'WorktreeRemove', cwd: src, worktree_path: ws }) });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /destroyed environment agent-files\./);
    assert.equal(stateOf(h).environments['agent-files'], undefined);
    assert.ok(existsSync(join(ws, '.cilo/config.yml')), 'the git worktree is left to git');
    assert.deepEqual(fresh, { ci: true, config: true, status: '' }, "the fresh worktree had the tracked dot-directories, the user's .cilo/config.yml, and a clean git status");
  });
});
