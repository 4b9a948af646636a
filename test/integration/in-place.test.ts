/**
 * Environments in place (issue #28) against the real engine: a linked git worktree whose
 * compose file bind-mounts ./site runs in place by default, an edit there is served at once,
 * two environments on one tree keep separate volumes, diff shows the tree's own changes, merge
 * is refused, fork makes a copy, a snapshot holds data only, a main checkout still copies; and
 * destroy (killed half-way and re-run, doctor --fix, destroy --all, a damaged state) leaves the
 * worktree byte for byte as it was.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { State } from '../../src/domain/state.js';
import { ciloPaths } from '../../src/state/paths.js';
import { withStateLock } from '../../src/state/store.js';
import { ensureDbImages } from '../support/fixture-images.js';
import { CLI, copyFixture, doctorJson, ensureFixtureImage, git, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

const COMPOSE = `services:
  web:
    image: cilo-fixture/busybox:1
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/site"]
    expose: ["8080"]
    volumes: ["./site:/site:ro", "data:/data"]
volumes:
  data: {}
`;

/** Every file, symlink and directory below `dir` (the worktree's .git file included): path, kind, mode and content hash. */
function treeHash(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(dir, r));
      if (st.isSymbolicLink()) lines.push(`l ${r} ${readlinkSync(join(dir, r))}`);
      else if (st.isDirectory()) {
        lines.push(`d ${r} ${st.mode.toString(8)}`);
        walk(r);
      } else lines.push(`f ${r} ${st.mode.toString(8)} ${st.size} ${createHash('sha256').update(readFileSync(join(dir, r))).digest('hex')}`);
    }
  };
  walk('');
  return lines.join('\n');
}

function stateOf(h: TestHome): State {
  return JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as State;
}

function containerOf(project: string, env: string, service: string): string {
  const r = spawnSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=cilo-${project}-${env}`, '--filter', `label=com.docker.compose.service=${service}`], { encoding: 'utf8' });
  const id = r.stdout.trim().split('\n')[0];
  assert.ok(id, `no running ${service} container in ${env}`);
  return id;
}

function sh(id: string, line: string): { code: number | null; out: string } {
  const r = spawnSync('docker', ['exec', id, 'sh', '-c', line], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() };
}

/** What the environment's web service serves at / right now. */
function served(project: string, env: string): string {
  return sh(containerOf(project, env, 'web'), 'wget -qO- http://127.0.0.1:8080/').out;
}

describe('environments in place on a linked git worktree', () => {
  let h: TestHome;
  let root: string;
  let main: string;
  let wt: string;
  const project = uid('inpl');

  before(() => {
    h = makeHome();
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cilo-inplace-')));
    main = join(root, 'main');
    wt = join(root, 'feature');
    spawnSync('mkdir', ['-p', join(main, 'site'), join(main, '.cilo')]);
    writeFileSync(join(main, 'compose.yaml'), COMPOSE);
    writeFileSync(join(main, '.cilo', 'config.yml'), `project: ${project}\n`);
    writeFileSync(join(main, 'site', 'index.html'), 'v1\n');
    git(main, 'init', '-q', '-b', 'main');
    git(main, 'config', 'user.name', 'Cilo Test');
    git(main, 'config', 'user.email', 'cilo-test@example.invalid');
    git(main, 'add', '-A');
    git(main, 'commit', '-q', '-m', 'initial');
    git(main, 'worktree', 'add', '-q', '-b', 'feature', wt);
  });
  after(async () => tearDown(h, project, root));

  test('up in a linked worktree runs in place (said once), writes nothing into it, and an edit there is served at once', async () => {
    const before = treeHash(wt);
    const r = await h.cli(['up', 'ipa'], { cwd: wt });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/is a linked git worktree, so ipa runs in place/g)?.length, 1, r.stderr);
    const env = stateOf(h).environments.ipa;
    assert.deepEqual([env?.workspace, env?.source, env?.workspace_mode], [wt, wt, 'in-place']);
    assert.equal(treeHash(wt), before, 'nothing of cilo was written into the tree (generated files live under CILO_HOME)');
    assert.equal((await h.cli(['path', 'ipa'])).stdout, `${wt}\n`);
    const status = JSON.parse((await h.cli(['status', 'ipa', '--json'])).stdout) as { workspace_mode: string; workspace: string };
    assert.deepEqual([status.workspace_mode, status.workspace], ['in-place', wt]);
    assert.match((await h.cli(['status', 'ipa'])).stdout, /Workspace: +\S+ \(in place/);
    assert.match((await h.cli(['list'])).stdout, /ipa\s+\S+\s+running\s+\S+\s+1\s+in-place/);

    assert.equal(served(project, 'ipa'), 'v1');
    writeFileSync(join(wt, 'site', 'index.html'), 'v2\n');
    await waitFor(() => served(project, 'ipa') === 'v2', { deadlineMs: 30_000, what: 'the edit to be served' });
    const again = await h.cli(['up', 'ipa'], { cwd: wt });
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /linked git worktree/, 'said once, when it was made');
  });

  test('a second in-place environment on the same tree serves the same files with its own volume', async () => {
    const r = await h.cli(['up', 'ipb', '--in-place'], { cwd: wt });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stateOf(h).environments.ipb?.workspace, wt);
    assert.equal(served(project, 'ipb'), 'v2');
    const a = containerOf(project, 'ipa', 'web');
    const b = containerOf(project, 'ipb', 'web');
    assert.equal(sh(a, 'echo only-a > /data/mark && cat /data/mark').out, 'only-a');
    assert.notEqual(sh(b, 'cat /data/mark 2>/dev/null || echo none').out, 'only-a', "b's volume is its own");
    const vols = (env: string): string[] => spawnSync('docker', ['volume', 'ls', '-q', '--filter', `label=com.docker.compose.project=cilo-${project}-${env}`], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.notDeepEqual(vols('ipa'), vols('ipb'));
  });

  test("diff shows the tree's own changes; merge is refused in one sentence", async () => {
    const d = JSON.parse((await h.cli(['diff', 'ipa', '--json'])).stdout) as { kind: string; files: string[]; commits: unknown[] };
    assert.equal(d.kind, 'git');
    assert.deepEqual(d.files, ['site/index.html']);
    assert.deepEqual(d.commits, []);
    const m = await h.cli(['merge', 'ipa']);
    assert.equal(m.code, 2, m.stderr);
    assert.match(m.stderr, /runs in place on .*, so its work is already in that tree: there is nothing to merge\./);
  });

  test('fork of an in-place environment is a copy of the tree as it is now; a snapshot holds its data only', async () => {
    const f = await h.cli(['fork', 'ipa', 'ipc', '--json']);
    assert.equal(f.code, 0, f.stderr);
    const c = stateOf(h).environments.ipc;
    assert.equal(c?.workspace_mode, undefined, 'a copy');
    assert.ok(c && c.workspace.startsWith(h.home), c?.workspace);
    assert.equal(readFileSync(join(c.workspace, 'site', 'index.html'), 'utf8'), 'v2\n');
    const s = await h.cli(['snapshot', 'create', 'ipa', '--name', 'ipa-s', '--json']);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(!existsSync(join(h.home, 'snapshots', 'ipa-s', 'workspace')), 'no copy of the tree in the snapshot');
    const rm = await h.cli(['snapshot', 'rm', 'ipa-s']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await h.cli(['destroy', 'ipc', '--force'])).code, 0);
  });

  test('a main checkout still copies unless asked; --copy copies in a worktree; the mode cannot change later', async () => {
    const m = await h.cli(['create', 'ipm'], { cwd: main });
    assert.equal(m.code, 0, m.stderr);
    assert.equal(stateOf(h).environments.ipm?.workspace_mode, undefined);
    assert.ok(stateOf(h).environments.ipm?.workspace.startsWith(h.home));
    const asked = await h.cli(['create', 'ipn', '--in-place'], { cwd: main });
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stdout, /in place on /);
    assert.equal(stateOf(h).environments.ipn?.workspace, main);
    const copied = await h.cli(['create', 'ipk', '--copy'], { cwd: wt });
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(stateOf(h).environments.ipk?.workspace_mode, undefined);
    const both = await h.cli(['create', 'ipx', '--copy', '--in-place'], { cwd: wt });
    assert.notEqual(both.code, 0);
    const change = await h.cli(['up', 'ipm', '--in-place']);
    assert.equal(change.code, 2);
    assert.match(change.stderr, /its workspace mode is chosen when it is created/);
    const mainBefore = treeHash(main);
    for (const e of ['ipm', 'ipn', 'ipk']) assert.equal((await h.cli(['destroy', e, '--force'])).code, 0);
    assert.equal(treeHash(main), mainBefore, 'destroying an in-place environment of the main checkout left it as it was');
  });

  test('a copy of a linked worktree gets a repository of its own: git in the copy never moves the worktree\'s branch or index', async () => {
    writeFileSync(join(wt, 'site', 'wip.txt'), 'uncommitted\n');
    const branchBefore = git(main, 'rev-parse', 'refs/heads/feature').trim();
    const statusBefore = git(wt, 'status', '--porcelain');
    try {
      const c = await h.cli(['create', 'ipg', '--copy'], { cwd: wt });
      assert.equal(c.code, 0, c.stderr);
      const ws = stateOf(h).environments.ipg?.workspace ?? '';
      assert.ok(ws.startsWith(h.home), ws);
      assert.ok(lstatSync(join(ws, '.git')).isDirectory(), 'the copy\'s .git is a repository, not a pointer into the user\'s');
      assert.equal(git(ws, 'rev-parse', 'HEAD').trim(), branchBefore, 'on the worktree\'s commit');
      assert.equal(git(ws, 'rev-parse', '--abbrev-ref', 'HEAD').trim(), 'feature', 'on the worktree\'s branch');
      assert.match(git(ws, 'status', '--porcelain'), /\?\? site\/wip\.txt/, 'the uncommitted file shows as a change in the copy');
      git(ws, 'config', 'user.name', 'Agent');
      git(ws, 'config', 'user.email', 'agent@example.invalid');
      git(ws, 'add', '-A');
      git(ws, 'commit', '-q', '-m', 'agent work');
      git(ws, 'reset', '-q', '--hard', 'HEAD~1');
      assert.equal(git(main, 'rev-parse', 'refs/heads/feature').trim(), branchBefore, 'the user\'s branch did not move');
      assert.equal(git(wt, 'status', '--porcelain'), statusBefore, 'the user\'s worktree index and files are as they were');
      assert.equal((await h.cli(['destroy', 'ipg', '--force'])).code, 0);
      assert.equal(git(main, 'rev-parse', 'refs/heads/feature').trim(), branchBefore);
    } finally {
      rmSync(join(wt, 'site', 'wip.txt'), { force: true });
    }
  });

  test('a project whose env render rules rewrite workspace files: --in-place is refused in one sentence, nothing made; a worktree copies it and says why', async () => {
    const dir = join(root, 'rendered');
    spawnSync('mkdir', ['-p', join(dir, '.cilo')]);
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    writeFileSync(join(dir, '.env'), 'URL=http://localhost\n');
    writeFileSync(join(dir, '.cilo', 'config.yml'), `project: ${project}r\nenv:\n  render:\n    - file: .env\n      replace:\n        - { from: localhost, to: "\${CILO_BASE_URL}" }\n`);
    const before = treeHash(dir);
    const r = await h.cli(['create', 'ipr', '--in-place'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot run in place: its \.cilo\/config\.yml has env render rules, which rewrite files of the workspace/);
    assert.equal(stateOf(h).environments.ipr, undefined);
    assert.equal(treeHash(dir), before);
    git(main, 'worktree', 'add', '-q', '-b', 'rendered-wt', join(root, 'rendered-wt'));
    const wt2 = join(root, 'rendered-wt');
    writeFileSync(join(wt2, '.cilo', 'config.yml'), `project: ${project}\nenv:\n  init_hook: "true"\n`);
    const c = await h.cli(['create', 'ipw'], { cwd: wt2 });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /is a linked git worktree, but .*init_hook.*, so ipw runs on a copy/);
    assert.equal(stateOf(h).environments.ipw?.workspace_mode, undefined);
    assert.equal((await h.cli(['destroy', 'ipw', '--force'])).code, 0);
  });

  test('the workspace removal refuses an in-place tree even when a damaged state calls it a copy', async () => {
    const before = treeHash(wt);
    const r = await h.cli(['create', 'ipd', '--copy'], { cwd: wt });
    assert.equal(r.code, 0, r.stderr);
    const copy = stateOf(h).environments.ipd?.workspace ?? '';
    await withStateLock((s) => {
      const e = s.environments.ipd;
      if (e) e.workspace = wt;
    }, ciloPaths(h.home));
    try {
      const d = await h.cli(['destroy', 'ipd', '--force']);
      assert.notEqual(d.code, 0);
      assert.match(d.stderr, /refused to delete \S+feature: .*deletes only its own copies/);
      assert.equal(treeHash(wt), before);
    } finally {
      await withStateLock((s) => {
        const e = s.environments.ipd;
        if (e) e.workspace = copy;
      }, ciloPaths(h.home));
    }
    assert.equal((await h.cli(['destroy', 'ipd', '--force'])).code, 0);
  });

  test('destroy killed half-way and re-run, doctor --fix and destroy --all leave the worktree byte for byte as it was', async () => {
    const before = treeHash(wt);
    const child = spawn(process.execPath, [CLI, 'destroy', 'ipa', '--force'], { env: h.env, stdio: 'ignore' });
    await waitFor(() => stateOf(h).environments.ipa?.status === 'destroying' || child.exitCode !== null, { deadlineMs: 30_000, intervalMs: 5, what: 'destroy to begin' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(treeHash(wt), before, 'after the kill');
    const doctor = await doctorJson(h, '--fix');
    assert.ok(doctor, 'doctor ran');
    assert.equal(treeHash(wt), before, 'after doctor --fix');
    const rerun = await h.cli(['destroy', 'ipa', '--force']);
    assert.ok(rerun.code === 0 || /not found|No environment/i.test(rerun.stderr), rerun.stderr);
    assert.equal(stateOf(h).environments.ipa, undefined);
    assert.equal(treeHash(wt), before, 'after the re-run');
    const all = await h.cli(['destroy', '--all', '--force']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(Object.keys(stateOf(h).environments), []);
    assert.equal(treeHash(wt), before, 'after destroy --all');
    assert.equal(readFileSync(join(wt, 'site', 'index.html'), 'utf8'), 'v2\n');
  });
});

const noDbImages = ensureDbImages();

describe('two in-place environments on one worktree have separate datasets in a shared redis', { skip: noDbImages }, () => {
  let h: TestHome;
  let main: string;
  let wt: string;
  const project = uid('inpd');

  before(() => {
    h = makeHome();
    main = copyFixture('datasets-redis', { '.cilo/config.yml': `project: ${project}\n` });
    wt = `${main}-wt`;
    git(main, 'init', '-q', '-b', 'main');
    git(main, 'config', 'user.name', 'Cilo Test');
    git(main, 'config', 'user.email', 'cilo-test@example.invalid');
    git(main, 'add', '-A');
    git(main, 'commit', '-q', '-m', 'initial');
    git(main, 'worktree', 'add', '-q', '-b', 'feature', wt);
  });
  after(async () => tearDown(h, project, main, wt));

  test('each writes the same key and reads its own value; destroying both leaves the worktree as it was', async () => {
    const before = treeHash(wt);
    for (const e of ['dsa', 'dsb']) {
      const r = await h.cli(['up', e], { cwd: wt });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(stateOf(h).environments[e]?.workspace_mode, 'in-place');
    }
    const redis = (env: string, args: string): string => sh(containerOf(project, env, 'api'), `redis-cli -u "$REDIS_URL" ${args}`).out;
    const [a, b] = ['dsa', 'dsb'].map((e) => stateOf(h).environments[e]?.datasets?.cache?.name);
    assert.ok(a !== undefined && b !== undefined && a !== b, `${a} / ${b}`);
    redis('dsa', 'SET owner dsa');
    redis('dsb', 'SET owner dsb');
    assert.deepEqual([redis('dsa', 'GET owner'), redis('dsb', 'GET owner')], ['dsa', 'dsb']);
    const all = await h.cli(['destroy', '--all', '--force']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(treeHash(wt), before);
  });
});
