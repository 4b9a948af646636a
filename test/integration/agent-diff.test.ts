/**
 * `cilo diff` / `cilo merge`: a round trip through a temporary git repository (commits made in
 * the workspace come back into the source), a dirty source refused, and the file comparison of
 * a project without git. No containers are started.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, makeHome, uid, type TestHome } from './helpers.js';

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
}

const stateOf = (h: TestHome): { environments: Record<string, { workspace: string }> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

describe('diff and merge of a git project', () => {
  let h: TestHome;
  let src: string;
  let ws: string;
  const project = uid('git');
  before(async () => {
    h = makeHome();
    src = copyFixture('git-project');
    git(src, 'init', '-q', '-b', 'main');
    git(src, 'config', 'user.name', 'Cilo Test');
    git(src, 'config', 'user.email', 'cilo-test@example.invalid');
    git(src, 'add', '-A');
    git(src, 'commit', '-q', '-m', 'initial');
    const c = await h.cli(['create', 'g1', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    ws = stateOf(h).environments.g1!.workspace;
  });
  after(async () => {
    await h.cleanup();
    rmSync(src, { recursive: true, force: true });
  });

  test('diff shows the commits made in the workspace and its uncommitted changes, not cilo\'s own files', async () => {
    writeFileSync(join(ws, 'src/app.sh'), '#!/bin/sh\necho v2\n');
    git(ws, 'commit', '-q', '-am', 'agent: v2');
    writeFileSync(join(ws, 'README.md'), 'readme, edited\n');
    writeFileSync(join(ws, 'scratch.txt'), 'new\n');
    const r = await h.cli(['diff', 'g1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.kind, 'git');
    assert.equal(d.branch, 'main');
    assert.deepEqual(d.commits.map((c: { subject: string }) => c.subject), ['agent: v2']);
    assert.equal(d.behind, 0);
    assert.deepEqual(d.uncommitted, [
      { status: ' M', path: 'README.md' },
      { status: '??', path: 'scratch.txt' },
    ]);
    assert.match(d.stat, /README\.md +\| 2/);
    const text = await h.cli(['diff', 'g1']);
    assert.match(text.stdout, /1 commit\(s\) in the workspace \(branch main\)/);
    assert.match(text.stdout, /agent: v2/);
    assert.match(text.stdout, /cilo merge g1/);
  });

  test('merge refuses a source with uncommitted changes and changes nothing', async () => {
    const head = git(src, 'rev-parse', 'HEAD');
    writeFileSync(join(src, 'README.md'), 'local edit\n');
    const r = await h.cli(['merge', 'g1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^cilo: The source repository ${src} has uncommitted changes, and cilo merges only into a clean working tree\\.\\nhint: Commit or stash them there`));
    assert.equal(git(src, 'rev-parse', 'HEAD'), head);
    git(src, 'checkout', '--', 'README.md');
  });

  test('merge fast-forwards the source to the workspace\'s commits; a second merge has nothing to do', async () => {
    const r = await h.cli(['merge', 'g1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Merged 1 commit\(s\) from environment g1 \(branch main\) into .* \(branch main\): fast-forward/);
    assert.match(r.stderr, /2 uncommitted change\(s\) in the workspace were not merged/);
    assert.equal(git(src, 'rev-parse', 'HEAD'), git(ws, 'rev-parse', 'HEAD'));
    assert.equal(readFileSync(join(src, 'src/app.sh'), 'utf8'), '#!/bin/sh\necho v2\n');
    assert.equal(readFileSync(join(src, 'README.md'), 'utf8'), 'readme\n', 'uncommitted work stays in the workspace');
    const again = await h.cli(['merge', 'g1', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).result, 'up-to-date');
  });

  test('when both sides moved on: diff counts the source\'s commits, --ff-only refuses, merge makes a merge commit', async () => {
    git(ws, 'checkout', '-q', '--', 'README.md');
    writeFileSync(join(src, 'notes/plan.md'), 'one\ntwo\nthree\nfour\n');
    git(src, 'commit', '-q', '-am', 'source: four');
    writeFileSync(join(ws, 'src/app.sh'), '#!/bin/sh\necho v3\n');
    git(ws, 'commit', '-q', '-am', 'agent: v3');
    const d = JSON.parse((await h.cli(['diff', 'g1', '--json'])).stdout);
    assert.deepEqual(d.commits.map((c: { subject: string }) => c.subject), ['agent: v3']);
    assert.equal(d.behind, 1, 'the source\'s new commit is fetched to compare');

    const ff = await h.cli(['merge', 'g1', '--ff-only']);
    assert.equal(ff.code, 1);
    assert.match(ff.stderr, /cannot be fast-forwarded/);
    const m = await h.cli(['merge', 'g1', '--json']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal(JSON.parse(m.stdout).result, 'merge');
    assert.equal(git(src, 'log', '-1', '--format=%s'), 'Merge cilo environment g1 (main)');
    assert.equal(readFileSync(join(src, 'src/app.sh'), 'utf8'), '#!/bin/sh\necho v3\n');
    assert.equal(readFileSync(join(src, 'notes/plan.md'), 'utf8'), 'one\ntwo\nthree\nfour\n');
  });

  test('a conflicting merge is aborted and leaves the source as it was', async () => {
    writeFileSync(join(src, 'README.md'), 'source side\n');
    git(src, 'commit', '-q', '-am', 'source: readme');
    writeFileSync(join(ws, 'README.md'), 'workspace side\n');
    git(ws, 'commit', '-q', '-am', 'agent: readme');
    const head = git(src, 'rev-parse', 'HEAD');
    const r = await h.cli(['merge', 'g1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conflicts in README\.md; the merge was aborted and the source is unchanged/);
    assert.equal(git(src, 'rev-parse', 'HEAD'), head);
    assert.equal(git(src, 'status', '--porcelain'), '');
  });
});

describe('diff of a project without git', () => {
  let h: TestHome;
  let src: string;
  before(() => {
    h = makeHome();
    src = copyFixture('files-project'); // a.txt, b.txt, same.txt, .env rendered, .env.production ignored
  });
  after(async () => {
    await h.cleanup();
    rmSync(src, { recursive: true, force: true });
  });

  test('lists added, changed and removed files; env files, skipped dot-directories and cilo\'s files are left out', async () => {
    const r = await h.cli(['run', '--no-up', '--from', src, '--project', uid('files'), 'true', 'n1']);
    assert.equal(r.code, 0, r.stderr);
    const ws = stateOf(h).environments.n1!.workspace;
    assert.match(readFileSync(join(ws, '.env'), 'utf8'), /URL=http:\/\//, 'rendered by run');
    writeFileSync(join(ws, 'a.txt'), 'a, edited\n');
    unlinkSync(join(ws, 'b.txt'));
    writeFileSync(join(ws, 'c.txt'), 'c\n');
    utimesSync(join(ws, 'same.txt'), new Date(), new Date('2001-01-01'));
    mkdirSync(join(ws, '.cache'));
    writeFileSync(join(ws, '.cache/tmp'), 'x\n');
    const d = await h.cli(['diff', 'n1', '--json']);
    assert.equal(d.code, 0, d.stderr);
    const j = JSON.parse(d.stdout);
    assert.equal(j.kind, 'files');
    assert.deepEqual([j.changed, j.added, j.removed], [['a.txt'], ['c.txt'], ['b.txt']]);
    assert.deepEqual(j.env_files_skipped, ['.env', '.env.production']);
    const text = await h.cli(['diff', 'n1']);
    assert.match(text.stdout, /3 file\(s\) differ from the source:\n {2}M a\.txt\n {2}A c\.txt\n {2}D b\.txt/);
    const m = await h.cli(['merge', 'n1']);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /is not a git repository.*nothing to merge/);
  });
});
