/**
 * The command line itself, run as the built CLI: where options may stand, JSON failures, the
 * list JSON shape, and the pieces of the original's surface (#12, #13).
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, copyFixture, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

interface EnvRec {
  project: string;
  services: Record<string, { type: string }>;
}
const stateOf = (h: TestHome): { environments: Record<string, EnvRec> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

/** A directory with a `name` script that prints its arguments, one a line. */
function argPrinter(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-bin-'));
  writeFileSync(join(dir, name), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  chmodSync(join(dir, name), 0o755);
  return dir;
}

before(() => ensureFixtureImage());

describe('the command line against an environment', () => {
  let h: TestHome;
  let dir: string;
  let bin: string;
  const project = uid('cli');
  before(() => {
    h = makeHome();
    dir = copyFixture('app-cache', { '.cilo/config.yml': `project: ${project}\n` });
    bin = argPrinter('fake-compose');
  });
  after(async () => tearDown(h, project, dir, bin));

  test('up --shared cache <env>: the option takes one value, so it may stand before the environment (#13 item 7)', async () => {
    const r = await h.cli(['up', '--shared', 'cache', 's1', '--timeout', '60', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const view = JSON.parse(r.stdout) as { name: string; services: { name: string; type: string }[] };
    assert.equal(view.name, 's1');
    assert.equal(view.services.find((s) => s.name === 'cache')?.type, 'shared');
    assert.equal(stateOf(h).environments.s1?.services.app?.type, 'isolated');
  });

  test('list --format json and --json print a top-level array of environments (#13 item 13)', async () => {
    for (const args of [['list', '--all', '--format', 'json'], ['list', '--json']]) {
      const r = await h.cli(args, { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as { name: string; project: string; services: unknown[] }[];
      assert.ok(Array.isArray(list), `${args.join(' ')} prints an array`);
      assert.deepEqual(list.map((e) => [e.name, e.project, e.services.length]), [['s1', project, 2]]);
    }
  });

  test('exec takes cobra-style -t=false and --interactive=false and passes them on to compose exec (#13 item 14)', async () => {
    const fake = { CILO_COMPOSE: join(bin, 'fake-compose') };
    const r = await h.cli(['exec', '-t=false', '--interactive=false', 's1', 'app', 'ls', '-la'], { env: fake });
    assert.equal(r.code, 0, r.stderr);
    const args = r.stdout.trim().split('\n');
    assert.deepEqual(args.slice(args.indexOf('exec')), ['exec', '-T', '--interactive=false', 'app', 'ls', '-la']);
    const after = await h.cli(['exec', 's1', 'app', '--tty=false', '--', 'echo', '--tty=false'], { env: fake });
    assert.equal(after.code, 0, after.stderr);
    const a = after.stdout.trim().split('\n');
    assert.deepEqual(a.slice(a.indexOf('exec')), ['exec', '-T', 'app', 'echo', '--tty=false']);
    const real = await h.cli(['exec', '-t=false', 's1', 'app', 'echo', 'hello']);
    assert.equal(real.code, 0, real.stderr);
    assert.equal(real.stdout, 'hello\n');
  });

  test("compose: cilo's --project before or right after <env>, checked against the environment (#13 item 10)", async () => {
    for (const args of [['compose', '--project', project, 's1', 'ps', '--format', 'json'], ['compose', 's1', '--project', project, 'ps', '--format', 'json']]) {
      const r = await h.cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /"Service":"app"/);
    }
    const wrong = await h.cli(['compose', 's1', '--project', 'other', 'ps']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /belongs to project/);
  });

  test("run: cilo's options right after <env> up to `--`, which is dropped; the rest reaches the command (#13 item 8)", async () => {
    const r = await h.cli(['run', 'sh', 's1', '--from', dir, '--', '-c', 'printf "[%s]" "$@"', 'zero', 'a', '--', '--from']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[a][--][--from]');
    const echo = await h.cli(['run', 'echo', 's1', '--', '--', 'x']);
    assert.equal(echo.stdout, '-- x\n', 'only the first -- is a separator');
    // With --project after the environment, cilo used to create it under the directory's project.
    const other = `${project}b`;
    const created = await h.cli(['run', 'sh', 'r2', '--project', other, '--no-up', '-c', 'echo "$CILO_PROJECT"'], { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, `${other}\n`);
    assert.equal(stateOf(h).environments.r2?.project, other);
    const misplaced = await h.cli(['run', 'true', '--no-up', 'absent'], { cwd: dir });
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /cilo's options go before <command> or right after <env>/);
  });

  test('hostnames add and remove take comma-separated lists (#13 item 9)', async () => {
    const add = await h.cli(['hostnames', 'add', 's1', 'admin,docs', 'shop', '--json']);
    assert.equal(add.code, 0, add.stderr);
    assert.deepEqual((JSON.parse(add.stdout) as { added: string[] }).added.sort(), ['admin', 'docs', 'shop']);
    const rm = await h.cli(['hostnames', 'remove', 's1', 'admin,shop', '--json']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual((JSON.parse(rm.stdout) as { hostnames: { name: string }[] }).hostnames.map((x) => x.name), ['docs']);
  });

  test('under --json a failure is also one JSON document on stdout; the sentence stays on stderr (#12)', async () => {
    const missing = await h.cli(['status', 'nosuch', '--json']);
    assert.equal(missing.code, 1);
    assert.deepEqual(JSON.parse(missing.stdout), {
      ok: false,
      code: 'ENV_NOT_FOUND',
      message: 'There is no environment named "nosuch".',
      hint: 'Run `cilo list --all` to see the environments, or `cilo create` to make one.',
    });
    assert.match(missing.stderr, /^cilo: There is no environment named "nosuch"\.\nhint: /);

    const usage = await h.cli(['status', '--json']);
    assert.equal(usage.code, 2);
    const doc = JSON.parse(usage.stdout) as { ok: boolean; code: string; message: string; hint: string | null };
    assert.deepEqual([doc.ok, doc.code, doc.message], [false, 'USAGE', "Missing required argument 'env'."]);
    assert.match(usage.stderr, /^cilo: Missing required argument 'env'\./);

    const mismatch = await h.cli(['hostnames', 'list', 's1', '--project', 'other', '--json']);
    assert.equal(mismatch.code, 2);
    assert.equal((JSON.parse(mismatch.stdout) as { code: string }).code, 'PROJECT_MISMATCH');

    const plain = await h.cli(['status', 'nosuch']);
    assert.equal(plain.stdout, '', 'without --json, stdout stays empty');
  });
});

describe('the command line without an environment running', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('clj');
  before(() => {
    h = makeHome();
    dir = copyFixture('app-cache', {
      '.cilo/config.yml': `project: ${project}\nhostnames: [admin]\nshared_grace_period: 30\nenv:\n  copy_mode: allowlist\n  copy: [".env"]\n  render:\n    - file: .env\n      tokens: true\n`,
    });
  });
  after(async () => tearDown(h, project, dir));

  test("init --base-subnet takes the original's prefix form: 10.N. is 10.N.0.0/16 (#13 item 14)", async () => {
    const prefix = h.baseSubnet.replace(/0\.0\/16$/, '');
    const r = await h.cli(['init', '--base-subnet', prefix, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { base_subnets: string[] }).base_subnets, [h.baseSubnet]);
    const cidr = await h.cli(['init', '--base-subnet', h.baseSubnet, '--json']);
    assert.equal(cidr.code, 0, cidr.stderr);
  });

  test("dns logs prints the DNS server's log; --tail N its last lines; -f follows it (#13 item 14)", async () => {
    const all = await h.cli(['dns', 'logs']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /listening on 127\.0\.0\.1:\d+/);
    const last = await h.cli(['dns', 'logs', '--tail', '1']);
    assert.equal(last.stdout.split('\n').length, 2, 'one line');

    const child = spawn(process.execPath, [CLI, 'dns', 'logs', '-f', '--tail', '0'], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    child.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    try {
      // Following has begun once a line appended now comes out (it reads from the log's end at its start).
      let probes = 0;
      await waitFor(
        () => {
          appendFileSync(join(h.home, 'dns', 'dns.log'), `follow-probe ${++probes}\n`);
          return followed.includes('follow-probe');
        },
        { what: '`cilo dns logs -f` to print a line appended to the log', deadlineMs: 60_000, intervalMs: 250 },
      );
      assert.equal((await h.cli(['dns', 'stop'])).code, 0);
      await waitFor(() => assert.match(followed, /stopped/) ?? true, { what: 'the server\'s "stopped" line to be followed', deadlineMs: 60_000 });
    } finally {
      child.kill('SIGTERM');
    }
    assert.doesNotMatch(followed, /listening on/, '--tail 0 printed nothing before following');
  });

  test('config --format yaml prints a config file that cilo accepts (#13 item 14)', async () => {
    const yaml = await h.cli(['config', '--format', 'yaml'], { cwd: dir });
    assert.equal(yaml.code, 0, yaml.stderr);
    const before = JSON.parse((await h.cli(['config', '--json'], { cwd: dir })).stdout) as Record<string, unknown>;
    writeFileSync(join(dir, '.cilo', 'config.yml'), yaml.stdout);
    const again = await h.cli(['config'], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    const after = JSON.parse((await h.cli(['config', '--json'], { cwd: dir })).stdout) as Record<string, unknown>;
    assert.deepEqual({ ...after, compose_files_source: 'config' }, { ...before, compose_files_source: 'config' }, 'the same configuration');
  });

  test('doctor --help says it exits 1 when problems remain (#13 item 15)', async () => {
    const r = await h.cli(['doctor', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Exit status: 0 when no problem is left .*, 1 when any remains/s);
  });

  test('completion: the bash script is valid bash and completes environment and service names from state', async () => {
    for (const e of ['c1', 'c2']) assert.equal((await h.cli(['create', e], { cwd: dir })).code, 0);
    const envs = await h.cli(['__complete', 'envs']);
    assert.equal(envs.code, 0, envs.stderr);
    assert.equal(envs.stdout, 'c1\nc2\n');

    const script = await h.cli(['completion', 'bash']);
    assert.equal(script.code, 0, script.stderr);
    const bin = mkdtempSync(join(tmpdir(), 'cilo-bin-'));
    try {
      writeFileSync(join(bin, 'completion.bash'), script.stdout);
      assert.equal(spawnSync('bash', ['-n', join(bin, 'completion.bash')]).status, 0, 'bash -n');
      mkdirSync(join(bin, 'path'));
      writeFileSync(join(bin, 'path', 'cilo'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(join(bin, 'path', 'cilo'), 0o755);
      const complete = (line: string[]): string[] => {
        const words = line.map((w) => `'${w}'`).join(' ');
        const r = spawnSync('bash', ['-c', `source "${bin}/completion.bash"; COMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _cilo_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
          env: { ...h.env, PATH: `${join(bin, 'path')}:${process.env.PATH}` },
          encoding: 'utf8',
        });
        return r.stdout.split('\n').filter((l) => l !== '');
      };
      assert.deepEqual(complete(['cilo', 'status', '']), ['c1', 'c2']);
      assert.deepEqual(complete(['cilo', 'hostnames', 'a']), ['add']);
      assert.deepEqual(complete(['cilo', 'destroy', '--k']), ['--keep-workspace']);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  const noShells = ['zsh', 'fish'].filter((s) => spawnSync('sh', ['-c', `command -v ${s}`]).status !== 0);
  test('completion: the zsh and fish scripts are valid and complete names from state, in the real shells', { skip: noShells.length > 0 ? `${noShells.join(' and ')} not installed` : false }, async () => {
    const bin = mkdtempSync(join(tmpdir(), 'cilo-bin-'));
    try {
      mkdirSync(join(bin, 'path'));
      writeFileSync(join(bin, 'path', 'cilo'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(join(bin, 'path', 'cilo'), 0o755);
      for (const shell of ['zsh', 'fish']) writeFileSync(join(bin, `completion.${shell}`), (await h.cli(['completion', shell])).stdout);
      assert.equal(spawnSync('zsh', ['-n', join(bin, 'completion.zsh')]).status, 0, 'zsh -n');
      assert.equal(spawnSync('fish', ['--no-execute', join(bin, 'completion.fish')]).status, 0, 'fish --no-execute');
      const env = { ...h.env, PATH: `${join(bin, 'path')}:${process.env.PATH}` };
      const lines = (r: { stdout: string }): string[] => r.stdout.split('\n').filter((l) => l !== '');
      // zsh: the script's function run with the words typed; compadd and _files (zsh's completion
      // system, loaded by compinit in a terminal) print what they were given.
      const zsh = (line: string[]): string[] => {
        const stubs = 'compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }; _files() { print FILES; }';
        const words = line.map((w) => `'${w}'`).join(' ');
        return lines(spawnSync('zsh', ['-f', '-c', `${stubs}; source "${bin}/completion.zsh"; words=(${words}); CURRENT=${line.length}; _cilo`], { env, encoding: 'utf8' }));
      };
      // fish: its own completion machinery (`complete -C`) on the command line as typed.
      const fish = (typed: string): string[] => lines(spawnSync('fish', ['--no-config', '-c', `source "${bin}/completion.fish"; complete -C '${typed}'`], { env, encoding: 'utf8' }));
      assert.deepEqual(zsh(['cilo', 'status', '']), ['c1', 'c2']);
      assert.deepEqual(zsh(['cilo', 'hostnames', 'a']), ['add']);
      assert.deepEqual(zsh(['cilo', 'destroy', '--k']), ['--keep-workspace']);
      assert.deepEqual(zsh(['cilo', 'setup', '--env-file', '']), ['FILES'], 'a file name where cilo offers nothing');
      assert.deepEqual(fish('cilo status '), ['c1', 'c2']);
      assert.deepEqual(fish('cilo hostnames a'), ['add']);
      assert.deepEqual(fish('cilo destroy --k'), ['--keep-workspace']);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});

describe('base ranges outside the private ones (#27)', () => {
  let h: TestHome;
  before(() => {
    h = makeHome();
  });
  after(() => tearDown(h, uid('priv')));
  const stateText = (): string => readFileSync(join(h.home, 'state.json'), 'utf8');

  test('init, network migrate and host add --subnet refuse a public or carrier range, leaving the state as it was', async () => {
    assert.equal((await h.cli(['init'])).code, 0);
    const before = stateText();
    for (const args of [
      ['init', '--base-subnet', '8.8.0.0/16'],
      ['init', '--base-subnet', '8.8.'],
      ['init', '--base-subnet', '100.64.0.0/16'],
      ['init', '--base-subnet', '172.15.0.0/16'],
      ['network', 'migrate', '8.8.0.0/16'],
      ['host', 'add', 'h1', 'ssh://nobody@127.0.0.1:1', '--subnet', '8.8.0.0/16'],
    ]) {
      const r = await h.cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^cilo: .* lies outside the private ranges \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\)/, args.join(' '));
      assert.match(r.stderr, /--force/);
      assert.equal(stateText(), before, args.join(' '));
    }
  });

  test('--force takes it; a private range needs no --force', async () => {
    const forced = await h.cli(['init', '--base-subnet', '8.8.0.0/16', '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual((JSON.parse(forced.stdout) as { base_subnets: string[] }).base_subnets, ['8.8.0.0/16']);
    const back = await h.cli(['init', '--base-subnet', h.baseSubnet, '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual((JSON.parse(back.stdout) as { base_subnets: string[] }).base_subnets, [h.baseSubnet]);
    assert.equal((await h.cli(['init', '--base-subnet', '192.168.128.0/20'])).code, 0);
    assert.equal((await h.cli(['init', '--base-subnet', h.baseSubnet])).code, 0);
  });
});
