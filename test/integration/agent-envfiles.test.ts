/**
 * Env files (`.cilo/config.yml` `env:`): the copy policy at create, the init hook (output never
 * shown), token and replace rendering before compose interpolation, idempotently, on the
 * workspace only.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, ensureFixtureImage, makeHome, uid, type TestHome } from './helpers.js';

/** What test/fixtures/env-files' init hook prints and writes. */
const SECRET = 's3cr3t-value-9d81';
const stateOf = (h: TestHome): { environments: Record<string, { workspace: string }> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

before(() => ensureFixtureImage());

describe('env files', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('envf');
  /** test/fixtures/env-files/.env */
  const sourceEnv = 'BASE=${CILO_BASE_URL}\nDB_HOST=localhost\nAPP_ENV=${CILO_ENV}\n';
  before(() => {
    h = makeHome();
    // compose.yaml reads BASE, DB_HOST, APP_ENV from .env (rendered) and SECRET_TOKEN from the
    // hook's hook.env; .cilo/config.yml: allowlist copy, the hook, the render rules.
    dir = copyFixture('env-files');
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create keeps only the allowed env files in the workspace; the project is untouched', async () => {
    const r = await h.cli(['create', 'e1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const ws = stateOf(h).environments.e1!.workspace;
    for (const kept of ['.env', 'config/app.env', 'README.md', 'compose.yaml']) assert.ok(existsSync(join(ws, kept)), kept);
    for (const gone of ['.env.production', 'prod.env', 'config/secret.env']) assert.equal(existsSync(join(ws, gone)), false, gone);
    for (const f of ['.env.production', 'prod.env', 'config/secret.env']) assert.ok(existsSync(join(dir, f)), `source ${f} stays`);
  });

  test('up runs the hook silently, renders .env before compose interpolates it, and never prints a secret', async () => {
    const r = await h.cli(['up', 'e1'], { env: { CILO_PROGRESS: '1' } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET), 'the hook output is never shown');
    assert.match(r.stderr, /init_hook/, 'progress names the hook, not its output');
    const ws = stateOf(h).environments.e1!.workspace;
    assert.equal(readFileSync(join(ws, '.env'), 'utf8'), `BASE=http://${project}.e1.test\nDB_HOST=localhost.e1.internal\nAPP_ENV=e1\n`);
    assert.equal(readFileSync(join(dir, '.env'), 'utf8'), sourceEnv, 'the project file is never modified');
    const ex = await h.cli(['exec', 'e1', 'web', 'sh', '-c', 'echo "$BASE $DB_HOST $APP_ENV $SECRET"']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout.trim(), `http://${project}.e1.test localhost.e1.internal e1 ${SECRET}`);
  });

  test('rendering is idempotent, the hook runs once, and a hand edit is left as it is', async () => {
    const ws = stateOf(h).environments.e1!.workspace;
    const rendered = readFileSync(join(ws, '.env'), 'utf8');
    const again = await h.cli(['run', '--no-up', 'true', 'e1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(ws, '.env'), 'utf8'), rendered, 'replace is not applied twice');
    assert.equal(readFileSync(join(ws, 'hook.log'), 'utf8'), 'ran\n', 'the hook ran on the first up only');

    writeFileSync(join(ws, '.env'), `${rendered}EXTRA=1\n`);
    const edited = await h.cli(['run', '--no-up', 'cat', 'e1', '.env']);
    assert.equal(edited.code, 0, edited.stderr);
    assert.equal(edited.stdout, `${rendered}EXTRA=1\n`, 'the edit is kept, and nothing is replaced twice');
  });

  test('a failing hook: which hook and its exit code, no output, an environment this up created is rolled back, and the hint says how to debug', async () => {
    const failing = copyFixture('env-files-failing-hook'); // its hook prints leaked-<SECRET> and exits 3
    try {
      // its own project name: `project` is the name of `dir` (one name, one source)
      const r = await h.cli(['up', 'f1', '--project', `${project}f`], { cwd: failing, env: { CILO_PROGRESS: '1' } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /init_hook .* failed with exit code 3/);
      assert.doesNotMatch(r.stdout + r.stderr, /leaked/);
      assert.equal(stateOf(h).environments.f1, undefined);
      assert.equal(existsSync(join(h.home, 'envs', `${project}f`, 'f1')), false);
      // The hint says it was removed, and does not send the user into the workspace just removed.
      assert.match(r.stderr, /Environment "f1" was being created by this up, so it was removed again/);
      assert.doesNotMatch(r.stderr, new RegExp(`by hand in ${join(h.home, 'envs')}`));
      assert.match(r.stderr, new RegExp(`cilo create f1 --project ${project}f`));
      // Following it gives a workspace the hook has not run in, kept for the user to run the hook by hand.
      const create = await h.cli(['create', 'f1', '--project', `${project}f`], { cwd: failing });
      assert.equal(create.code, 0, create.stderr);
      const path = await h.cli(['path', 'f1']);
      assert.equal(path.code, 0, path.stderr);
      assert.equal(existsSync(join(path.stdout.trim(), '.cilo', 'config.yml')), true);
    } finally {
      rmSync(failing, { recursive: true, force: true });
    }
  });
});
