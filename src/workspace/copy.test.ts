import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyProject, probeClone } from './copy.js';

let tmp: string;
let src: string;
let dst: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'cilo-copy-'));
  src = join(tmp, 'src');
  dst = join(tmp, 'envs', 'proj', 'dev');
  mkdirSync(src);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `files` (relative path -> content) under `root`, creating parents. */
function write(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
}

/** Every path under `root`, sorted, directories with a trailing `/`. */
function tree(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (lstatSync(join(root, r)).isDirectory()) out.push(`${r}/`, ...tree(root, r));
    else out.push(r);
  }
  return out;
}

const mode = (p: string): number => lstatSync(p).mode & 0o7777;

test('preserves file and directory modes, contents and mtimes', async () => {
  write(src, { 'bin/run.sh': '#!/bin/sh\necho hi\n', 'secret.key': 'k', 'ro/frozen.txt': 'f', 'data.txt': 'x'.repeat(100_000) });
  chmodSync(join(src, 'bin/run.sh'), 0o755);
  chmodSync(join(src, 'secret.key'), 0o600);
  chmodSync(join(src, 'bin'), 0o750);
  chmodSync(join(src, 'ro'), 0o555); // read-only directory: must still be filled, then made read-only
  const when = new Date('2020-01-02T03:04:05Z');
  utimesSync(join(src, 'data.txt'), when, when);

  const r = await copyProject(src, dst);

  assert.equal(mode(join(dst, 'bin/run.sh')), 0o755);
  assert.equal(mode(join(dst, 'secret.key')), 0o600);
  assert.equal(mode(join(dst, 'bin')), 0o750);
  assert.equal(mode(join(dst, 'ro')), 0o555);
  assert.equal(readFileSync(join(dst, 'ro/frozen.txt'), 'utf8'), 'f');
  assert.equal(readFileSync(join(dst, 'data.txt'), 'utf8'), 'x'.repeat(100_000));
  assert.equal(statSync(join(dst, 'data.txt')).mtimeMs, when.getTime());
  assert.equal(mode(dst), mode(src), 'the workspace root gets the source root mode');
  assert.deepEqual({ files: r.files, dirs: r.dirs, symlinks: r.symlinks }, { files: 4, dirs: 2, symlinks: 0 });
  assert.equal(r.bytes, 100_000 + '#!/bin/sh\necho hi\n'.length + 1 + 1);
  chmodSync(join(src, 'ro'), 0o755);
  chmodSync(join(dst, 'ro'), 0o755);
});

test('copies symlinks verbatim: relative, absolute, dangling, and to directories', async () => {
  write(src, { 'data/file.txt': 'data' });
  symlinkSync('../data/file.txt', join(src, 'data-link'));
  mkdirSync(join(src, 'links'));
  symlinkSync('../data/file.txt', join(src, 'links/rel'));
  symlinkSync(join(src, 'data/file.txt'), join(src, 'links/abs'));
  symlinkSync('./does-not-exist', join(src, 'links/dangling'));
  symlinkSync('../data', join(src, 'links/dir'));

  const r = await copyProject(src, dst);

  assert.equal(r.symlinks, 5);
  assert.equal(readlinkSync(join(dst, 'data-link')), '../data/file.txt');
  assert.equal(readlinkSync(join(dst, 'links/rel')), '../data/file.txt');
  assert.equal(readFileSync(join(dst, 'links/rel'), 'utf8'), 'data', 'the relative link resolves inside the workspace');
  assert.equal(readlinkSync(join(dst, 'links/abs')), join(src, 'data/file.txt'));
  assert.equal(readlinkSync(join(dst, 'links/dangling')), './does-not-exist');
  assert.equal(lstatSync(join(dst, 'links/dir')).isSymbolicLink(), true, 'a link to a directory is not followed');
  assert.equal(readlinkSync(join(dst, 'links/dir')), '../data');
});

test('skips dot-directories at any depth but keeps .git, .cilo and dot-files', async () => {
  write(src, {
    '.env': 'A=1',
    '.gitignore': 'node_modules',
    '.git/HEAD': 'ref: refs/heads/main',
    '.cilo/config.yml': 'project: p',
    '.venv/bin/python': 'py',
    '.idea/workspace.xml': '<x/>',
    'node_modules/.cache/big': 'cache',
    'node_modules/.package-lock.json': '{}',
    'node_modules/left-pad/index.js': 'module.exports = 1',
    'pkg/sub/.git/HEAD': 'sub',
    'pkg/sub/.tox/x': 'tox',
  });

  await copyProject(src, dst);

  assert.deepEqual(tree(dst), [
    '.cilo/',
    '.cilo/config.yml',
    '.env',
    '.git/',
    '.git/HEAD',
    '.gitignore',
    'node_modules/',
    'node_modules/.package-lock.json',
    'node_modules/left-pad/',
    'node_modules/left-pad/index.js',
    'pkg/',
    'pkg/sub/',
    'pkg/sub/.git/',
    'pkg/sub/.git/HEAD',
  ]);
});

test('copyDotDirs adds directories, ignoreDotDirs wins over it but never over .cilo', async () => {
  write(src, {
    '.vscode/settings.json': '{}',
    '.devcontainer/devcontainer.json': '{}',
    '.github/workflows/ci.yml': 'on: push',
    '.cilo/config.yml': 'project: p',
    '.git/HEAD': 'ref',
  });

  await copyProject(src, dst, {
    copyDotDirs: ['.vscode', 'devcontainer', '.github'], // with or without the dot
    ignoreDotDirs: ['.github', '.cilo', '.git'],
  });

  assert.deepEqual(tree(dst), [
    '.cilo/',
    '.cilo/config.yml',
    '.devcontainer/',
    '.devcontainer/devcontainer.json',
    '.vscode/',
    '.vscode/settings.json',
  ]);
});

test('what git tracks in a skipped dot-directory is copied, at any depth and in nested repositories; untracked files stay skipped', async () => {
  write(src, {
    '.git/HEAD': 'ref',
    'a.txt': 'a',
    '.github/workflows/ci.yml': 'on: push',
    '.github/local.txt': 'untracked',
    '.venv/bin/python': 'untracked',
    'src/.generated/api.ts': 'tracked',
    'src/.cache/x': 'untracked',
    'pkg/sub/.git/HEAD': 'sub',
    'pkg/sub/.ci/run.sh': 'tracked in the nested repository',
    'pkg/sub/.tox/x': 'untracked',
    '.git/modules/.deps/lib/HEAD': 'a submodule repository, in a dot-directory inside .git',
    '.deps/lib/.git': 'gitdir: ../../.git/modules/.deps/lib',
    '.deps/lib/lib.c': 'a submodule',
    '.deps/lib/.build/o': 'untracked in the submodule',
  });
  const asked: string[] = [];
  const tracked: Record<string, string[]> = {
    [src]: ['a.txt', '.github/workflows/ci.yml', 'src/.generated/api.ts', '.deps/lib', 'gone.txt'],
    [join(src, 'pkg/sub')]: ['.ci/run.sh'],
    [join(src, '.deps/lib')]: ['lib.c'],
  };

  const r = await copyProject(src, dst, {
    trackedFiles: async (dir) => {
      asked.push(dir);
      return tracked[dir];
    },
  });

  assert.deepEqual(tree(dst), [
    '.deps/',
    '.deps/lib/',
    '.deps/lib/.git',
    '.deps/lib/lib.c',
    '.git/',
    '.git/HEAD',
    '.git/modules/',
    '.git/modules/.deps/',
    '.git/modules/.deps/lib/',
    '.git/modules/.deps/lib/HEAD',
    '.github/',
    '.github/workflows/',
    '.github/workflows/ci.yml',
    'a.txt',
    'pkg/',
    'pkg/sub/',
    'pkg/sub/.ci/',
    'pkg/sub/.ci/run.sh',
    'pkg/sub/.git/',
    'pkg/sub/.git/HEAD',
    'src/',
    'src/.generated/',
    'src/.generated/api.ts',
  ]);
  assert.deepEqual(asked.sort(), [src, join(src, '.deps/lib'), join(src, 'pkg/sub')].sort(), 'git is asked for the root and each directory with a .git');
  assert.deepEqual(r.repos.sort((a, b) => a.dir.localeCompare(b.dir)), [
    { dir: '', notCopied: ['gone.txt'] },
    { dir: '.deps/lib', notCopied: [] },
    { dir: 'pkg/sub', notCopied: [] },
  ]);
});

test('with include, tracked files in skipped dot-directories are copied when they match; the others are recorded as not copied', async () => {
  write(src, {
    'a.txt': 'a',
    'b.yml': 'b',
    '.github/workflows/ci.yml': 'on: push',
    '.github/workflows/local.yml': 'untracked',
    '.claude/settings.json': '{}',
  });
  const r = await copyProject(src, dst, {
    include: ['*.yml'],
    trackedFiles: async (dir) => (dir === src ? ['a.txt', 'b.yml', '.github/workflows/ci.yml', '.claude/settings.json'] : undefined),
  });
  assert.deepEqual(tree(dst), ['.github/', '.github/workflows/', '.github/workflows/ci.yml', 'b.yml']);
  assert.deepEqual(r.repos, [{ dir: '', notCopied: ['.claude/settings.json', 'a.txt'] }]);
});

test('include copies only what matches, as the original cilo did: names at any depth, paths from the root', async () => {
  write(src, {
    'main.go': 'package main',
    'cmd/tool/tool.go': 'package tool',
    'cmd/tool/README.md': 'readme',
    'docs/guide.md': 'guide',
    'web/app.js': 'js',
    'web/assets/logo.svg': '<svg/>',
    '.vscode/settings.json': '{}',
    '.config/nvim/init.lua': 'lua',
    '.hidden/x.go': 'skipped dot-directory',
    'compose.yaml': 'services: {}',
    '.cilo/config.yml': 'project: p',
  });

  await copyProject(src, dst, { include: ['*.go', 'web/assets', '.config/nvim/*'], keep: ['compose.yaml', '.cilo/**'] });

  assert.deepEqual(tree(dst), [
    '.cilo/',
    '.cilo/config.yml',
    '.config/',
    '.config/nvim/',
    '.config/nvim/init.lua',
    'cmd/',
    'cmd/tool/',
    'cmd/tool/tool.go',
    'compose.yaml',
    'main.go',
    'web/',
    'web/assets/',
    'web/assets/logo.svg',
  ]);
});

test('without include, keep changes nothing and everything is copied', async () => {
  write(src, { 'a.txt': 'a', 'b/c.txt': 'c' });
  await copyProject(src, dst, { keep: ['a.txt'] });
  assert.deepEqual(tree(dst), ['a.txt', 'b/', 'b/c.txt']);
});

test('copies empty directories', async () => {
  mkdirSync(join(src, 'empty/deeper/still-empty'), { recursive: true });
  mkdirSync(join(src, 'logs'));
  const r = await copyProject(src, dst);
  assert.deepEqual(tree(dst), ['empty/', 'empty/deeper/', 'empty/deeper/still-empty/', 'logs/']);
  assert.equal(r.dirs, 4);
  assert.equal(r.files, 0);
});

test('skips sockets and FIFOs silently', async (t) => {
  write(src, { 'a.txt': 'a' });
  execFileSync('mkfifo', [join(src, 'pipe')]);
  const server: Server = createServer();
  await new Promise<void>((ok) => server.listen(join(src, 'sock'), ok));
  t.after(() => server.close());

  const r = await copyProject(src, dst);

  assert.deepEqual(tree(dst), ['a.txt']);
  assert.equal(r.files, 1);
});

test('refuses a non-empty or non-directory destination and leaves it untouched', async () => {
  write(src, { 'a.txt': 'new' });
  write(dst, { 'mine.txt': 'keep me' });
  await assert.rejects(copyProject(src, dst), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'WORKSPACE');
    assert.match(e.message, /already exists and is not empty/);
    assert.ok(e.message.includes(dst));
    assert.ok(e.hint);
    return true;
  });
  assert.deepEqual(tree(dst), ['mine.txt']);
  assert.equal(readFileSync(join(dst, 'mine.txt'), 'utf8'), 'keep me');

  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  await assert.rejects(copyProject(src, file), (e: Error & { code?: string }) => e.code === 'WORKSPACE' && /not a directory/.test(e.message));
  assert.equal(readFileSync(file, 'utf8'), 'x');
});

test('copies into an existing empty directory', async () => {
  write(src, { 'a.txt': 'a' });
  mkdirSync(dst, { recursive: true });
  await copyProject(src, dst);
  assert.deepEqual(tree(dst), ['a.txt']);
});

test('reports a missing source as WORKSPACE without creating the destination', async () => {
  await assert.rejects(copyProject(join(tmp, 'nope'), dst), (e: Error & { code?: string }) => e.code === 'WORKSPACE' && /does not exist/.test(e.message));
  assert.equal(existsSync(dst), false);
});

test('never descends into a destination inside the source, nor into excluded paths', async () => {
  write(src, { 'a.txt': 'a', 'cilo-home/state.json': '{}', 'keep/b.txt': 'b' });
  const inner = join(src, 'out', 'envs', 'dev');

  const r = await copyProject(src, inner, { excludeAbsolute: [join(src, 'cilo-home')] });

  assert.deepEqual(tree(inner), ['a.txt', 'keep/', 'keep/b.txt']);
  assert.equal(r.files, 2);
});

test('does not copy an existing empty destination inside the source into itself', async () => {
  write(src, { 'a.txt': 'a' });
  const inner = join(src, 'out', 'envs', 'dev');
  mkdirSync(inner, { recursive: true });
  // Reached through a symlinked spelling of the source, so only a real-path comparison works.
  const alias = join(tmp, 'alias');
  symlinkSync(src, alias);

  await copyProject(alias, join(alias, 'out', 'envs', 'dev'));

  // Its parents are ordinary project directories and are copied; the workspace itself is not.
  assert.deepEqual(tree(inner), ['a.txt', 'out/', 'out/envs/']);
});

test('a failure midway removes the partial destination and names the path', async () => {
  // Enough files that the pool cannot have started them all when the first one finishes.
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`d${i % 10}/f${i}.txt`] = `file ${i}`;
  write(src, files);
  let sawPartial = false;

  // A real source failure, as when a build deletes files during the copy: once the first file
  // is in place, the rest of the source disappears, so later copies fail with ENOENT.
  const run = copyProject(src, dst, {
    onProgress: (done) => {
      if (done !== 1) return;
      sawPartial = readdirSync(dst).length > 0;
      for (let i = 0; i < 10; i++) rmSync(join(src, `d${i}`), { recursive: true, force: true });
    },
  });

  await assert.rejects(run, (e: Error & { code?: string; hint?: string; cause?: { code?: string } }) => {
    assert.equal(e.code, 'WORKSPACE');
    assert.equal(e.cause?.code, 'ENOENT');
    assert.ok(e.message.includes(src), e.message);
    assert.match(e.hint ?? '', /changed while it was being copied/);
    return true;
  });
  assert.equal(sawPartial, true, 'the destination really was partly written');
  assert.equal(existsSync(dst), false, 'no partial workspace is left behind');
});

test('a failure midway into a given empty directory leaves it empty', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`d/f${i}.txt`] = `file ${i}`;
  write(src, files);
  mkdirSync(dst, { recursive: true });
  const run = copyProject(src, dst, { onProgress: (done) => done === 1 && rmSync(join(src, 'd'), { recursive: true }) });
  await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'WORKSPACE');
  assert.deepEqual(readdirSync(dst), []);
});

test('reports progress up to the total and the clone strategy from the probe', async () => {
  write(src, { 'a.txt': 'a', 'b/c.txt': 'c' });
  symlinkSync('a.txt', join(src, 'l'));
  const calls: [number, number][] = [];

  const r = await copyProject(src, dst, { onProgress: (d, t) => calls.push([d, t]) });

  assert.deepEqual(calls[0], [0, 3]);
  assert.deepEqual(calls.at(-1), [3, 3]);
  assert.ok(calls.every(([d], i) => i === 0 || d > calls[i - 1]![0]), 'counts only go up');
  const probeDir = join(tmp, 'probe');
  mkdirSync(probeDir);
  const canClone = await probeClone(probeDir);
  assert.deepEqual(readdirSync(probeDir), [], 'the probe cleans up after itself');
  assert.equal(r.strategy, canClone ? 'clone' : 'copy');
  assert.deepEqual(tree(dst), ['a.txt', 'b/', 'b/c.txt', 'l'], 'and no probe file is left in the workspace');
});
