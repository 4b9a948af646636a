import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, copyFixture, docker, ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome, tearDown } from './helpers.js';

before(() => ensureFixtureImage());

/** One service, `app`, sleeping. */
const simpleProject = (): string => copyFixture('app-sleep');

const stateText = (h: TestHome): string => (existsSync(join(h.home, 'state.json')) ? readFileSync(join(h.home, 'state.json'), 'utf8') : '');

async function labelled(project: string): Promise<number> {
  const f = { label: [`cilo.project=${project}`] };
  return (await docker.listContainers(f)).length + (await docker.listNetworks(f)).length + (await docker.listVolumes(f)).length;
}

describe('engine unreachable and compose missing', () => {
  let h: TestHome;
  let dir: string;
  const p = uid('eu');
  before(async () => {
    h = makeHome();
    dir = simpleProject();
    const c = await h.cli(['create', 'present', '--project', p], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
  });
  after(async () => {
    await h.cli(['destroy', '--all', '--force']);
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const host of ['unix:///nonexistent/docker.sock', 'tcp://127.0.0.1:1']) {
    test(`DOCKER_HOST=${host}: a clear error naming Docker, state untouched`, async () => {
      const before = stateText(h);
      for (const args of [['up', 'present'], ['create', 'other', '--project', p], ['down', 'present'], ['destroy', 'present', '--force'], ['status', 'present']]) {
        const r = await h.cli(args, { cwd: dir, env: { DOCKER_HOST: host } });
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Cannot reach the Docker engine/);
        assert.match(r.stderr, /hint: Start Docker/);
        assert.equal(stateText(h), before, `${args.join(' ')} left state untouched`);
      }
    });
  }

  test('Compose v2 missing: a clear error saying how to get it; nothing left behind', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'cilo-nocompose-'));
    // A docker CLI without the compose plugin answers exactly like this.
    writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "docker: \'compose\' is not a docker command." >&2\necho "See \'docker --help\'" >&2\nexit 1\n');
    chmodSync(join(bin, 'docker'), 0o755);
    const before = stateText(h);
    // CILO_COMPOSE=docker: go through that docker CLI rather than the plugin binary found on disk.
    const r = await h.cli(['up', 'nocompose', '--project', p], { cwd: dir, env: { PATH: `${bin}:/usr/bin:/bin`, CILO_COMPOSE: 'docker' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Docker Compose v2 .* is not installed/);
    assert.match(r.stderr, /hint: Install the Compose v2 plugin/);
    assert.equal(stateText(h), before, 'the environment created by this up was rolled back');
    assert.equal(existsSync(join(h.home, 'envs', p, 'nocompose')), false);
    rmSync(bin, { recursive: true, force: true });
  });

  test('CILO_COMPOSE naming a missing binary: a clear error naming it; nothing left behind', async () => {
    const before = stateText(h);
    const r = await h.cli(['up', 'badcompose', '--project', p], { cwd: dir, env: { CILO_COMPOSE: '/nonexistent/docker-compose' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /CILO_COMPOSE names \/nonexistent\/docker-compose, which does not exist/);
    assert.match(r.stderr, /hint: Set CILO_COMPOSE to the path of a Compose v2 binary/);
    assert.equal(stateText(h), before, 'the environment created by this up was rolled back');
    assert.equal(existsSync(join(h.home, 'envs', p, 'badcompose')), false);
  });
});

describe('bad input: one clear message, non-zero exit, nothing half-created', () => {
  let h: TestHome;
  const p = uid('bi');
  const dirs: Record<string, string> = {};
  before(async () => {
    h = makeHome();
    dirs.good = simpleProject();
    // Every other case runs in a copy of the fixture it names (test/fixtures/<dir>); those that
    // get as far as claiming a project use `${p}x`, since `p` is the name of dirs.good.
    for (const c of cases) if (c.dir && c.dir !== 'good') dirs[c.dir] ??= copyFixture(c.dir);
    writeFileSync(join(dirs.good, 'not-a-dir'), 'file');
    const c = await h.cli(['create', 'taken', '--project', p], { cwd: dirs.good });
    assert.equal(c.code, 0, c.stderr);
  });
  after(async () => {
    await h.cli(['destroy', '--all', '--force']);
    await h.cleanup();
    await removeProjectResources(p);
    await removeProjectResources(`${p}x`);
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  });

  const cases: { name: string; args: () => string[]; dir?: string; code: number; err: RegExp }[] = [
    { name: 'unknown command', args: () => ['frobnicate'], code: 2, err: /Unknown command 'frobnicate'/ },
    { name: 'unknown flag', args: () => ['up', 'x', '--frobnicate'], code: 2, err: /Unknown option '--frobnicate'/ },
    { name: 'missing env argument', args: () => ['up'], code: 2, err: /missing required argument 'env'/i },
    { name: 'env name with spaces', args: () => ['create', 'a b', '--project', p], dir: 'good', code: 2, err: /Invalid environment name "a b"/ },
    { name: 'env name with a dot', args: () => ['create', 'a.b', '--project', p], dir: 'good', code: 2, err: /Invalid environment name/ },
    { name: 'env name too long', args: () => ['create', 'x'.repeat(64), '--project', p], dir: 'good', code: 2, err: /1 to 63 characters/ },
    { name: 'env name that normalizes to nothing', args: () => ['up', '_/_', '--project', p], dir: 'good', code: 2, err: /Invalid environment name "_\/_"/ },
    { name: 'env name non-ascii', args: () => ['create', 'çafé', '--project', p], dir: 'good', code: 2, err: /Invalid environment name/ },
    { name: 'invalid --project', args: () => ['create', 'ok1', '--project', 'Bad Project'], dir: 'good', code: 2, err: /Invalid project name "Bad Project"/ },
    { name: 'invalid project name in config', args: () => ['create', 'ok2'], dir: 'bad-config/project-name', code: 2, err: /Invalid project name "Not Valid!"/ },
    { name: '--from does not exist', args: () => ['create', 'ok3', '--from', '/nonexistent/dir'], code: 2, err: /does not exist/ },
    { name: '--from is a file', args: () => ['create', 'ok4', '--from', join(dirs.good!, 'not-a-dir')], code: 2, err: /is not a directory/ },
    { name: 'no compose file', args: () => ['up', 'ok5', '--project', p], dir: 'no-compose', code: 1, err: /No compose file/ },
    { name: 'listed compose file missing', args: () => ['create', 'ok6', '--project', p], dir: 'bad-config/missing-compose-file', code: 1, err: /deploy\/nope\.yml .* does not exist/ },
    { name: 'invalid YAML', args: () => ['up', 'ok7', '--project', `${p}x`], dir: 'bad/yaml', code: 1, err: /compose model .* is invalid/ },
    { name: 'invalid compose schema', args: () => ['up', 'ok8', '--project', `${p}x`], dir: 'bad/restart-policy', code: 1, err: /invalid restart policy 'sometimes-maybe'/ },
    { name: 'undefined dependency', args: () => ['up', 'ok9', '--project', `${p}x`], dir: 'bad/undefined-dependency', code: 1, err: /invalid.*ghost/ },
    { name: 'required variable unset', args: () => ['up', 'ok10', '--project', `${p}x`], dir: 'bad/required-variable', code: 1, err: /MISSING_IMAGE/ },
    { name: 'image that cannot be had', args: () => ['up', 'ok11', '--project', `${p}x`, '--timeout', '20'], dir: 'bad/missing-image', code: 1, err: /does-not-exist/ },
    { name: 'typo in config key', args: () => ['create', 'ok12', '--project', p], dir: 'bad-config/unknown-key', code: 1, err: /config\.yml: unknown key "compose_file"/ },
    { name: 'wrong type in config', args: () => ['create', 'ok13', '--project', p], dir: 'bad-config/hostnames-not-list', code: 1, err: /config\.yml: key "hostnames" must be a list/ },
    { name: 'invalid YAML in config', args: () => ['create', 'ok14', '--project', p], dir: 'bad-config/yaml', code: 1, err: /config\.yml is not valid YAML/ },
    { name: 'name taken', args: () => ['create', 'taken', '--project', `${p}x`], dir: 'good', code: 1, err: /already used by project/ },
    { name: 'already exists', args: () => ['create', 'taken', '--project', p], dir: 'good', code: 1, err: /already exists/ },
    { name: 'unknown env for status', args: () => ['status', 'ghost-env'], code: 1, err: /no environment named "ghost-env"/ },
    { name: 'unknown env for down', args: () => ['down', 'ghost-env'], code: 1, err: /no environment named/ },
    { name: 'unknown env for destroy', args: () => ['destroy', 'ghost-env', '--force'], code: 1, err: /no environment named/ },
    { name: 'destroy without name or --all', args: () => ['destroy', '--force'], code: 2, err: /Name the environment to destroy/ },
    { name: 'destroy with name and --all', args: () => ['destroy', 'taken', '--all', '--force'], code: 2, err: /either an environment name or --all/ },
    { name: 'project mismatch', args: () => ['path', 'taken', '--project', 'other-project'], code: 2, err: /belongs to project/ },
    { name: 'unknown service in --shared', args: () => ['up', 'taken', '--shared', 'nosuch'], code: 2, err: /--shared names "nosuch"/ },
    { name: 'unknown service in --isolate', args: () => ['up', 'taken', '--isolate', 'nosuch'], code: 2, err: /--isolate names "nosuch"/ },
    { name: 'exec into unknown service after up is refused by compose', args: () => ['logs', 'taken', 'nosuch'], code: 1, err: /has not been started yet/ },
    { name: 'invalid list format', args: () => ['list', '--format', 'xml'], code: 2, err: /Allowed choices are table, json, quiet/ },
    { name: 'non-numeric timeout', args: () => ['up', 'taken', '--timeout', 'soon'], code: 2, err: /--timeout must be a whole number/ },
    { name: 'invalid base subnet', args: () => ['init', '--base-subnet', '10.0.0.0/33'], code: 2, err: /not an IPv4 range/ },
    { name: 'invalid DNS port', args: () => ['init', '--dns-port', '99999'], code: 2, err: /not a valid port/ },
    { name: 'no compose services', args: () => ['up', 'ok15', '--project', `${p}x`], dir: 'bad/no-services', code: 1, err: /./ },
  ];

  test('a copy that fails after the network was claimed leaves no network, workspace or state entry', async () => {
    // A file name that is not valid UTF-8 cannot be copied by Node: a real failure midway.
    const d = simpleProject();
    writeFileSync(Buffer.from(`${d}/bad\xff.txt`, 'latin1'), 'x');
    const before = stateText(h);
    // its own project name: `p` belongs to dirs.good (one name, one source)
    const r = await h.cli(['create', 'copyfail', '--project', `${p}x`], { cwd: d });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^cilo: The file name ".*bad\uFFFD\.txt" is not valid UTF-8, so cilo cannot copy it\./);
    assert.match(r.stderr, /hint: Rename it to a UTF-8 name/);
    assert.equal(stateText(h), before);
    assert.equal(await docker.inspectNetwork(`cilo_${p}x_copyfail`), null);
    assert.equal(existsSync(join(h.home, 'envs', `${p}x`, 'copyfail')), false);
    assert.deepEqual(readdirSync(join(h.home, 'envs', p)).sort(), ['taken']);
    rmSync(d, { recursive: true, force: true });
  });

  for (const c of cases) {
    test(c.name, async () => {
      const before = stateText(h);
      const r = await h.cli(c.args(), { cwd: c.dir ? dirs[c.dir] : tmpdir() });
      assert.equal(r.code, c.code, `exit code; stderr: ${r.stderr}`);
      assert.match(r.stderr, c.err);
      // One clear sentence: the only `cilo: ` line (up's progress lines, on stderr since #27, may come first).
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('cilo: '));
      assert.equal(errors.length, 1, `one clear sentence; stderr: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at .+[:(]\d+/m, 'no stack trace');
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.equal(stateText(h), before, 'state untouched');
      assert.deepEqual(readdirSync(join(h.home, 'envs', p)).sort(), ['taken'], 'no workspace left behind');
      assert.equal(await labelled(`${p}x`), 0);
    });
  }
});

describe('crash safety: SIGKILL mid-command, then re-running or doctor --fix', () => {
  let h: TestHome;
  let dir: string;
  const p = uid('ck');
  before(() => {
    h = makeHome();
    const files: Record<string, string> = {};
    // Enough files that the copy is still running when it is killed.
    for (let i = 0; i < 3000; i++) files[`src/d${i % 50}/f${i}.txt`] = `file ${i}\n`.repeat(20);
    dir = copyFixture('app-web-volume', files);
  });
  after(() => tearDown(h, p, dir));

  /** Starts the CLI and SIGKILLs it once `when` is true (polled every 5 ms) or after `maxMs`. */
  function killWhen(args: string[], when: () => boolean, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: h.env, stdio: 'ignore' });
      const start = Date.now();
      const timer = setInterval(() => {
        if (when() || Date.now() - start > maxMs) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
      child.on('close', () => {
        clearInterval(timer);
        resolve();
      });
    });
  }
  const statusOf = (env: string): string | undefined => {
    try {
      return JSON.parse(stateText(h)).environments[env]?.status;
    } catch {
      return undefined;
    }
  };
  async function assertConsistent(): Promise<void> {
    const r = await h.cli(['doctor', '--json']);
    assert.ok(r.stdout.startsWith('{'), `doctor printed no report (exit ${r.code}): ${r.stderr}`);
    const report = JSON.parse(r.stdout) as { findings: { kind: string }[] };
    assert.deepEqual(report.findings.map((f) => f.kind).filter((k) => k !== 'dns.down'), [], JSON.stringify(report.findings));
  }

  test('killed during create: re-running create finishes it', async () => {
    await killWhen(['create', 'k1', '--project', p], () => statusOf('k1') === 'creating', 10_000);
    assert.equal(statusOf('k1'), 'creating', 'the intent was recorded before copying');
    const again = await h.cli(['create', 'k1', '--project', p], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statusOf('k1'), 'created');
    assert.ok(existsSync(join(h.home, 'envs', p, 'k1', 'src', 'd49', 'f2999.txt')), 'the copy is complete');
    await assertConsistent();
  });

  test('killed during create: doctor --fix cleans it up instead', async () => {
    await killWhen(['create', 'k2', '--project', p], () => statusOf('k2') === 'creating', 10_000);
    const r = await h.cli(['doctor', '--fix', '--json']);
    assert.ok(JSON.parse(r.stdout).findings.some((f: { kind: string; fixed: boolean }) => f.kind === 'env.interrupted-create' && f.fixed));
    assert.equal(statusOf('k2'), undefined);
    assert.equal(existsSync(join(h.home, 'envs', p, 'k2')), false);
    await assertConsistent();
  });

  test('killed during up: re-running up brings it up', async () => {
    await killWhen(['up', 'k1'], () => statusOf('k1') === 'starting', 10_000);
    const again = await h.cli(['up', 'k1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statusOf('k1'), 'running');
    await assertConsistent();
  });

  for (const delay of [50, 300]) {
    test(`killed ${delay} ms into down: re-running down stops it`, async () => {
      await killWhen(['down', 'k1'], () => false, delay);
      const again = await h.cli(['down', 'k1']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(statusOf('k1'), 'stopped');
      const running = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-k1`] }, false);
      assert.equal(running.length, 0);
      await assertConsistent();
      const up = await h.cli(['up', 'k1']);
      assert.equal(up.code, 0, up.stderr);
    });
  }

  test('killed during destroy: re-running destroy (or doctor --fix) finishes it', async () => {
    await killWhen(['destroy', 'k1', '--force'], () => statusOf('k1') === 'destroying', 10_000);
    const again = await h.cli(['destroy', 'k1', '--force']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(statusOf('k1'), undefined);
    assert.equal(await labelled(p), 0, 'no container, network or volume left');
    await assertConsistent();
  });
});

describe('load and permissions', () => {
  let h: TestHome;
  let dir: string;
  const p = uid('ld');
  before(() => {
    h = makeHome();
    dir = simpleProject();
  });
  after(() => tearDown(h, p, dir));

  test('8 processes doing create + up at once all succeed; state records all of them', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `load-${i}`);
    const results = await Promise.all(names.map((n) => h.cli(['up', n, '--project', p, '--timeout', '300'], { cwd: dir })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(stateText(h));
    for (const n of names) assert.equal(s.environments[n]?.status, 'running');
    assert.equal(new Set(names.map((n) => s.environments[n].subnet)).size, 8);
    for (const n of names) {
      const c = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-${n}`] });
      assert.equal(c[0]?.State, 'running');
    }
  });

  test('CILO_HOME and its files are private to the user', () => {
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => {
      const full = join(d, n);
      return statSync(full).isDirectory() && !full.includes(`${join(h.home, 'envs')}/`) ? [full, ...walk(full)] : [full];
    });
    assert.equal(statSync(h.home).mode & 0o077, 0);
    for (const f of [join(h.home, 'state.json'), join(h.home, 'state.json.bak'), join(h.home, 'envs'), join(h.home, 'generated'), join(h.home, 'dns')]) {
      assert.equal(statSync(f).mode & 0o077, 0, `${f} is private`);
    }
    for (const f of walk(join(h.home, 'generated'))) assert.equal(statSync(f).mode & 0o077, 0, `${f} is private`);
  });
});

describe('a reader that goes away', () => {
  let h: TestHome;
  before(() => {
    h = makeHome();
  });
  after(() => h.cleanup());

  for (const args of [['list', '--all', '--json'], ['--help']]) {
    test(`\`cilo ${args.join(' ')} | head -c 0\`: no stack trace, exit 0`, async () => {
      const child = spawn(process.execPath, [CLI, ...args], { cwd: tmpdir(), env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before cilo writes a byte, like `head -c 0`
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((res) => child.on('close', res));
      assert.equal(stderr, '');
      assert.equal(code, 0);
    });
  }
});
