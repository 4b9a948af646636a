/**
 * The agent interface (#16): the manifest of `up --json`/`status --json` checked against its
 * documented schema (healthchecked, plain and shared services), failures as one JSON document,
 * CILO_MANIFEST of `cilo run`, race-free auto-names, and Claude Code's worktree hooks fed
 * recorded payloads.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '../support/json-schema.js';
import { copyFixture, ensureFixtureImage, makeHome, ROOT, tearDown, uid, type TestHome } from './helpers.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/manifest.schema.json'), 'utf8')) as Record<string, unknown>;
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/claude', name), 'utf8')) as Record<string, unknown>;

interface ServiceM {
  name: string;
  type: string;
  ip: string;
  ip_url: string;
  state: string;
  health: string;
  ready_by: string | null;
  container: string | null;
  environment: Record<string, string>;
}
interface ManifestM {
  schema: string;
  env: string;
  status: string;
  workspace: string;
  services: ServiceM[];
  timings: { total_ms: number; compose_up_ms: number } | null;
  variables: Record<string, string>;
}

const stateOf = (h: TestHome): { environments: Record<string, { workspace: string; project: string; workspace_mode?: string }> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

function git(dir: string, args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(() => ensureFixtureImage());

describe('the manifest', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('man');
  before(() => {
    h = makeHome();
    // The usual web + healthchecked db, plus (compose's own override file) a shared cache and web's environment.
    dir = copyFixture('manifest', { '.cilo/config.yml': `project: ${project}\n` });
  });
  after(async () => tearDown(h, project, dir));

  test('up --json prints one manifest that conforms to the schema: healthchecked, plain and shared services', async () => {
    const r = await h.cli(['up', 'e1', '--json', '--timeout', '90'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ManifestM;
    assert.deepEqual(validate(schema, m), []);
    assert.equal(m.schema, 'cilo.manifest/1');
    assert.equal(m.status, 'running');
    const by = Object.fromEntries(m.services.map((s) => [s.name, s]));
    assert.deepEqual([by.db?.type, by.db?.health, by.db?.ready_by], ['isolated', 'healthy', 'healthcheck']);
    assert.deepEqual([by.web?.type, by.web?.health, by.web?.ready_by], ['isolated', 'none', 'running']);
    assert.deepEqual([by.cache?.type, by.cache?.state, by.cache?.container], ['shared', 'running', `cilo_shared_${project}_cache`]);
    assert.equal(by.web?.environment.DATABASE_URL, 'postgres://app:***@db:5432/app');
    assert.equal(by.web?.environment.SESSION_SECRET, '***');
    assert.equal(by.web?.environment.MODE, 'dev');
    assert.equal(by.cache?.environment.CACHE_PASSWORD, '***');
    assert.ok(m.timings && m.timings.total_ms >= m.timings.compose_up_ms && m.timings.compose_up_ms > 0, JSON.stringify(m.timings));
    assert.equal(m.variables.CILO_ENV, 'e1');
    assert.match(await (await fetch(`${by.web?.ip_url}/index.html`)).text(), /^hello-/);
  });

  test('status --json gives the same shape with live states; --show-secrets shows the values', async () => {
    const r = await h.cli(['status', 'e1', '--json', '--show-secrets']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as ManifestM;
    assert.deepEqual(validate(schema, m), []);
    assert.equal(m.timings, null);
    assert.equal(m.services.find((s) => s.name === 'web')?.environment.SESSION_SECRET, 'shh');
  });

  test('cilo run passes the manifest file in CILO_MANIFEST, private to the user', async () => {
    const r = await h.cli(['run', 'sh', 'e1', '-c', 'echo "$CILO_MANIFEST"']);
    assert.equal(r.code, 0, r.stderr);
    const file = r.stdout.trim();
    assert.ok(file.startsWith(h.home), file);
    assert.equal(statSync(file).mode & 0o077, 0, 'only the user can read it');
    const m = JSON.parse(readFileSync(file, 'utf8')) as ManifestM;
    assert.deepEqual(validate(schema, m), []);
    assert.equal(m.env, 'e1');
  });

  test('a failing up prints only an error document naming the service and its last log lines', async () => {
    // its own project name: `project` is the name of `dir` (one name, one source)
    const bad = copyFixture('broken-service', { '.cilo/config.yml': `project: ${project}b\n` });
    const r = await h.cli(['up', 'e2', '--json', '--timeout', '30'], { cwd: bad });
    rmSync(bad, { recursive: true, force: true });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; code: string; message: string; hint: string; service: string; logs: string[] };
    assert.deepEqual([doc.ok, doc.code, doc.service], [false, 'SERVICE_FAILED', 'broken']);
    assert.ok(doc.logs.some((l) => l.includes('cannot-start-now')), JSON.stringify(doc.logs));
    assert.match(doc.hint, /cilo up e2/, 'the hint names a command that works after the rollback');
  });
});

describe('auto-names and Claude Code worktree hooks', () => {
  let h: TestHome;
  let repo: string;
  const project = uid('hook');
  before(() => {
    h = makeHome();
    repo = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}\n`, 'README.md': 'hello\n' });
    git(repo, ['init', '-q', '-b', 'main']);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'init']);
  });
  after(async () => tearDown(h, project, repo));

  test('create --auto-name: callers at once get distinct <prefix>-N names', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => h.cli(['create', '--auto-name', 'auto', '--json'], { cwd: repo })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const names = runs.map((r) => (JSON.parse(r.stdout) as { environment: { name: string } }).environment.name).sort();
    assert.deepEqual(names, ['auto-1', 'auto-2', 'auto-3']);
    const plain = await h.cli(['create', '--auto-name', 'auto'], { cwd: repo });
    assert.match(plain.stdout, /Created environment auto-4 /);
    const run = await h.cli(['run', '--auto-name', '--no-up', 'sh', 'runner', '-c', 'echo "$CILO_ENV"'], { cwd: repo });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'runner-1\n', "the program's stdout is its own");
    assert.match(run.stderr, /Environment: runner-1/);
    const up = await h.cli(['up', '--auto-name', 'upper', '--json'], { cwd: repo });
    assert.equal(up.code, 0, up.stderr);
    assert.equal((JSON.parse(up.stdout) as ManifestM).env, 'upper-1');
  });

  test('worktree-create twice at once with one name: two git worktrees, each with an environment in place; stdout is only the path', async () => {
    const payload = JSON.stringify({ ...fixture('worktree-create.json'), cwd: repo });
    const [a, b] = await Promise.all([0, 1].map(() => h.cli(['hook', 'claude', 'worktree-create'], { cwd: '/', input: payload })));
    for (const r of [a, b]) {
      assert.equal(r?.code, 0, r?.stderr);
      assert.match(r?.stdout ?? '', /^\/\S+\n$/, 'one absolute path, nothing else');
      const path = (r?.stdout ?? '').trim();
      assert.ok(existsSync(join(path, 'compose.yaml')));
      assert.notEqual(git(path, ['rev-parse', '--git-dir']).trim(), git(path, ['rev-parse', '--git-common-dir']).trim(), 'a real linked git worktree');
    }
    const envs = stateOf(h).environments;
    const paths = [a, b].map((r) => (r?.stdout ?? '').trim()).sort();
    assert.deepEqual(paths, [join(repo, '.claude', 'worktrees', 'agent-a3f9c2'), join(repo, '.claude', 'worktrees', 'agent-a3f9c2-2')]);
    assert.deepEqual(paths, [envs['agent-a3f9c2']?.workspace, envs['agent-a3f9c2-2']?.workspace].sort());
    assert.deepEqual([envs['agent-a3f9c2']?.workspace_mode, envs['agent-a3f9c2-2']?.workspace_mode], ['in-place', 'in-place']);
  });

  test('worktree-remove destroys the in-place environment and leaves the worktree, work included, to git', async () => {
    const dirty = stateOf(h).environments['agent-a3f9c2-2']!.workspace;
    writeFileSync(join(dirty, 'notes.txt'), 'work in progress\n');
    const remove = (path: string, force = false) => h.cli(['hook', 'claude', 'worktree-remove', ...(force ? ['--force'] : [])], { cwd: '/', input: JSON.stringify({ ...fixture('worktree-remove.json'), cwd: repo, worktree_path: path }) });
    const gone = await remove(dirty);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, '');
    assert.match(gone.stderr, /destroyed environment agent-a3f9c2-2\./);
    assert.equal(stateOf(h).environments['agent-a3f9c2-2'], undefined);
    assert.equal(readFileSync(join(dirty, 'notes.txt'), 'utf8'), 'work in progress\n', 'the worktree is left to git');
    assert.match(git(repo, ['worktree', 'list']), /agent-a3f9c2-2/);

    const clean = stateOf(h).environments['agent-a3f9c2']!.workspace;
    const cleanGone = await remove(clean);
    assert.match(cleanGone.stderr, /destroyed environment agent-a3f9c2\./);
    assert.ok(existsSync(join(clean, 'compose.yaml')));

    // Outside git the environment is a copy: one with work not in the source is kept.
    const plain = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}p\n` });
    try {
      const made = await h.cli(['hook', 'claude', 'worktree-create'], { cwd: '/', input: JSON.stringify({ hook_event_name: 'WorktreeCreate', cwd: plain, name: 'plain' }) });
      assert.equal(made.code, 0, made.stderr);
      const ws = made.stdout.trim();
      assert.ok(ws.startsWith(h.home), 'a copy under CILO_HOME');
      writeFileSync(join(ws, 'notes.txt'), 'work\n');
      const kept = await remove(ws);
      assert.match(kept.stderr, /kept environment plain: .*1 changed file/);
      const forced = await remove(ws, true);
      assert.match(forced.stderr, /destroyed environment plain\./);
      assert.ok(!existsSync(ws));
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }

    const unknown = await remove('/nowhere/at/all');
    assert.equal(unknown.code, 0);
    assert.match(unknown.stderr, /no environment has the workspace/);
  });

  test('hook claude install merges both hooks into .claude/settings.json, keeping others, idempotently', async () => {
    mkdirSync(join(repo, '.claude'), { recursive: true });
    const existing = fixture('settings-existing.json');
    writeFileSync(join(repo, '.claude', 'settings.json'), JSON.stringify(existing));
    const first = await h.cli(['hook', 'claude', 'install', '--json'], { cwd: repo });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((JSON.parse(first.stdout) as { added: string[] }).added, ['WorktreeCreate', 'WorktreeRemove']);
    const again = await h.cli(['hook', 'claude', 'install'], { cwd: repo });
    assert.match(again.stdout, /already has/);
    const settings = JSON.parse(readFileSync(join(repo, '.claude', 'settings.json'), 'utf8')) as { permissions: unknown; hooks: Record<string, { hooks: { command: string }[] }[]> };
    assert.deepEqual(settings.permissions, existing.permissions);
    assert.deepEqual(settings.hooks.PostToolUse, (existing.hooks as Record<string, unknown>).PostToolUse);
    assert.deepEqual(settings.hooks.WorktreeCreate?.map((g) => g.hooks[0]?.command), ['cilo hook claude worktree-create']);
    assert.deepEqual(settings.hooks.WorktreeRemove?.map((g) => g.hooks[0]?.command), ['cilo hook claude worktree-remove']);
  });
});
