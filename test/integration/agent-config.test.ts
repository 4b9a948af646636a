/**
 * Project configuration: validation of `.cilo/config.yml`, `cilo setup`, `cilo config`, and
 * `compose_files` / `env_files` honoured by `up`.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { spawnSync } from 'node:child_process';
import { CLI, copyFixture, ensureFixtureImage, makeHome, uid, type TestHome } from './helpers.js';

/**
 * Node 20 reads a script argument named --env-file as its own option unless `--` ends node's
 * options (https://github.com/nodejs/node/issues/54232); so does a `#!/usr/bin/env node` bin.
 */
function cliAfterDashDash(h: TestHome, args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--', CLI, ...args], { cwd, env: h.env, encoding: 'utf8' });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

before(() => ensureFixtureImage());

describe('config validation', () => {
  let h: TestHome;
  const dirs: string[] = [];
  /** A copy of test/fixtures/bad-config/<name>: a valid compose file and a faulty .cilo/config.yml. */
  const project = (name: string): string => {
    const d = copyFixture(`bad-config/${name}`);
    dirs.push(d);
    return d;
  };
  before(() => {
    h = makeHome();
  });
  after(async () => {
    await h.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a typo\'d key is refused naming the file, the key and the keys expected; nothing is created', async () => {
    const d = project('unknown-key');
    for (const args of [['create', 'typo'], ['up', 'typo'], ['config'], ['run', 'true', 'typo']]) {
      const r = await h.cli(args, { cwd: d });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^cilo: ${join(d, '.cilo', 'config.yml').replace(/[.]/g, '\\.')}: unknown key "compose_file"\\.\\n`), args.join(' '));
      assert.match(r.stderr, /hint: .*compose_files/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    }
    assert.equal(existsSync(join(h.home, 'state.json')) ? Object.keys(JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments).length : 0, 0);
  });

  test('a wrong type names the key and the type expected, nested keys by their path', async () => {
    const wrongType = project('compose-files-not-list');
    const r = await h.cli(['config'], { cwd: wrongType });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.yml: key "compose_files" must be a list/);
    const nested = project('copy-mode');
    const n = await h.cli(['config', '--json'], { cwd: nested });
    assert.equal(n.code, 1);
    assert.equal(JSON.parse(n.stdout).code, 'CONFIG_INVALID', 'no half JSON on stdout: the error document alone');
    assert.match(n.stderr, /key "env\.copy_mode" must be one of all, none, allowlist/);
    const badYaml = project('yaml');
    const y = await h.cli(['config'], { cwd: badYaml });
    assert.equal(y.code, 1);
    assert.match(y.stderr, /is not valid YAML/);
  });
});

describe('cilo setup and cilo config', () => {
  let h: TestHome;
  let dir: string;
  before(() => {
    h = makeHome();
    dir = copyFixture('compose-v1-names');
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('setup detects the compose files, names the project after the directory, and refuses to overwrite', async () => {
    const r = await h.cli(['setup'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, '.cilo', 'config.yml');
    const written = parseYaml(readFileSync(file, 'utf8'));
    const expectedName = basename(dir).toLowerCase().replace(/_/g, '-');
    assert.deepEqual(written, { project: expectedName, compose_files: ['docker-compose.yml', 'docker-compose.override.yml'] });

    const again = await h.cli(['setup', '--name', 'other'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /config\.yml already exists/);
    assert.match(again.stderr, /--force/);
    assert.deepEqual(parseYaml(readFileSync(file, 'utf8')), written, 'left as it was');

    const forced = cliAfterDashDash(h, ['setup', '--force', '--name', 'My_Shop', '--compose', 'docker-compose.yml', '--env-file', 'config/dev.env', '--dns-suffix', 'Dev.Local', '--default-env', 'main'], dir);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /config\/dev\.env does not exist yet/);
    assert.deepEqual(parseYaml(readFileSync(file, 'utf8')), {
      project: 'my-shop',
      compose_files: ['docker-compose.yml'],
      env_files: ['config/dev.env'],
      dns_suffix: '.dev.local',
      default_environment: 'main',
    });
  });

  test('setup refuses bad input with one sentence and writes nothing', async () => {
    const before = readFileSync(join(dir, '.cilo', 'config.yml'), 'utf8');
    const cases: [string[], RegExp][] = [
      [['--name', 'bad name!'], /Invalid project name/],
      [['--compose', 'missing.yml'], /compose file missing\.yml does not exist/],
      [['--compose', '/etc/hostname'], /not inside the project directory/],
      [['--dns-suffix', 'bad_suffix'], /Invalid DNS suffix/],
      [['--default-env', '-'], /Invalid environment name/],
      // An environment name is taken as typed (a project name, from a directory, is normalized).
      [['--default-env', 'Main'], /Invalid environment name "Main": .*; did you mean "main"\?/],
    ];
    for (const [args, msg] of cases) {
      const r = await h.cli(['setup', '--force', ...args], { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(readFileSync(join(dir, '.cilo', 'config.yml'), 'utf8'), before);
    }
    const empty = copyFixture('no-compose');
    const none = await h.cli(['setup'], { cwd: empty });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /No compose file/);
    assert.equal(existsSync(join(empty, '.cilo')), false);
    rmSync(empty, { recursive: true, force: true });
  });

  test('config shows the effective configuration as a table, YAML and real JSON', async () => {
    const json = await h.cli(['config', '--format', 'json'], { cwd: dir });
    assert.equal(json.code, 0, json.stderr);
    const c = JSON.parse(json.stdout);
    assert.equal(c.project, 'my-shop');
    assert.deepEqual(c.compose_files, ['docker-compose.yml']);
    assert.equal(c.compose_files_source, 'config');
    assert.equal(c.dns_suffix, '.dev.local');
    assert.equal(c.env.copy_mode, 'all');
    assert.deepEqual(JSON.parse((await h.cli(['config', '--json'], { cwd: dir })).stdout), c);
    const yaml = await h.cli(['config', '--format', 'yaml'], { cwd: dir });
    const { dir: _dir, config_file: _file, config_exists: _exists, compose_files_source: _source, ...keys } = c;
    const set = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)));
    const { init_hook: hook, ...unhooked } = c.env;
    assert.deepEqual(parseYaml(yaml.stdout), { ...set, env: hook === null ? unhooked : c.env }, 'a config file: config keys only, unset ones left out');
    const table = await h.cli(['config'], { cwd: dir });
    assert.match(table.stdout, /^project\s+my-shop$/m);
    assert.match(table.stdout, /^compose_files\s+docker-compose\.yml \(config\)$/m);
    const bad = await h.cli(['config', '--format', 'xml'], { cwd: dir });
    assert.equal(bad.code, 2);
  });
});

describe('compose_files and env_files are honoured', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('cf');
  before(() => {
    h = makeHome();
    dir = copyFixture('compose-files-config');
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('up resolves deploy/app.yml with config/dev.env; exec and run see the result', async () => {
    const r = await h.cli(['up', 'c1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const ex = await h.cli(['exec', 'c1', 'app', 'sh', '-c', 'echo $GREETING']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.equal(ex.stdout.trim(), 'hello-from-dev-env');
    const ps = await h.cli(['compose', 'c1', 'ps', '--format', '{{.Service}}']);
    assert.equal(ps.stdout.trim(), 'app');
    const cfg = JSON.parse((await h.cli(['config', '--json'], { cwd: dir })).stdout);
    assert.deepEqual([cfg.compose_files, cfg.env_files], [['deploy/app.yml'], ['config/dev.env']]);
  });
});
