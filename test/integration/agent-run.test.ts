/**
 * `cilo run`: creates and starts the environment, runs a program (no shell) in the workspace
 * with the CILO_* variables, passes arguments and stdin through, forwards signals and exits
 * with the program's status.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, copyFixture, ensureFixtureImage, makeHome, uid, waitFor, type TestHome } from './helpers.js';

interface EnvRec {
  project: string;
  subnet: string;
  status: string;
  workspace: string;
  services: Record<string, { ip: string }>;
}
const stateOf = (h: TestHome): { environments: Record<string, EnvRec> } => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));

function parseVars(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.startsWith('CILO_'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

before(() => ensureFixtureImage());

describe('cilo run', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('run');
  before(() => {
    h = makeHome();
    dir = copyFixture('run-web-api'); // web (expose 8080), my-api; scripts/hello.sh, scripts/not-exec.sh
    chmodSync(join(dir, 'scripts/hello.sh'), 0o755); // also where a checkout does not keep modes
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates and starts the environment, then runs the command in the workspace with the CILO_* variables', async () => {
    const r = await h.cli(['run', '--project', project, 'sh', 'r1', '-c', 'env; echo "PWD=$(pwd)"'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const s = stateOf(h).environments.r1!;
    assert.equal(s.status, 'running');
    const vars = parseVars(r.stdout);
    assert.equal(vars.CILO_ENV, 'r1');
    assert.equal(vars.CILO_PROJECT, project);
    assert.equal(vars.CILO_WORKSPACE, s.workspace);
    assert.equal(vars.CILO_BASE_URL, `http://${project}.r1.test`);
    assert.equal(vars.CILO_DNS_SUFFIX, '.test');
    assert.equal(vars.CILO_SERVICE_WEB_URL, 'http://web.r1.test:8080');
    assert.equal(vars.CILO_SERVICE_WEB_IP, s.services.web?.ip);
    assert.equal(vars.CILO_SERVICE_MY_API_URL, 'http://my-api.r1.test');
    assert.equal(vars.CILO_SERVICE_MY_API_IP, s.services['my-api']?.ip);
    assert.match(r.stdout, new RegExp(`^PWD=${s.workspace}$`, 'm'));
    assert.doesNotMatch(r.stdout, /Starting|Creating|Copying/, "cilo's own progress never goes to stdout");
  });

  test("exits with the command's status; 128+N when it is killed by signal N", async () => {
    const r = await h.cli(['run', 'sh', 'r1', '-c', 'exit 42']);
    assert.equal(r.code, 42, r.stderr);
    const killed = await h.cli(['run', 'sh', 'r1', '-c', 'kill -KILL $$']);
    assert.equal(killed.code, 137);
  });

  test('arguments after the environment (and after --) reach the command untouched; stdin passes through', async () => {
    const r = await h.cli(['run', 'sh', 'r1', '-c', 'printf "[%s]" "$@"', 'zero', '--project', 'x y', '-c', '--']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[--project][x y][-c][--]');
    const sep = await h.cli(['run', 'sh', 'r1', '--', '-c', 'printf "[%s]" "$@"', 'zero', '--no-up']);
    assert.equal(sep.stdout, '[--no-up]', 'a leading -- is a separator');
    const cat = await h.cli(['run', 'cat', 'r1'], { input: 'from stdin\n' });
    assert.equal(cat.stdout, 'from stdin\n');
    const rel = await h.cli(['run', './scripts/hello.sh', 'r1']);
    assert.equal(rel.code, 0, rel.stderr);
    assert.equal(rel.stdout.trim(), `hello from ${stateOf(h).environments.r1!.workspace}`, 'a relative path is relative to the workspace');
  });

  test('a SIGTERM sent to cilo reaches the command, and cilo exits with its status', async () => {
    const marker = join(h.home, `term-${uid()}`);
    const child = spawn(process.execPath, [CLI, 'run', 'sh', 'r1', '-c', `trap 'echo got-term > ${marker}; exit 7' TERM; echo ready; while :; do sleep 0.1; done`], {
      env: h.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await waitFor(() => stdout.includes('ready') || child.exitCode !== null, { what: '"ready" from the command', deadlineMs: 60_000 }).catch((e: Error) => {
      child.kill('SIGKILL');
      throw new Error(`${e.message}; cilo's stderr: ${stderr}`);
    });
    assert.equal(child.exitCode, null, `cilo run ended before the signal: ${stderr}`);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    assert.equal(code, 7, stderr);
    assert.equal(readFileSync(marker, 'utf8').trim(), 'got-term');
  });

  test('a command that does not exist or cannot run: one clear sentence, 127 or 126', async () => {
    const r = await h.cli(['run', 'no-such-program-xyz', 'r1']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^cilo: Command "no-such-program-xyz" was not found on PATH\.\n/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    const ne = await h.cli(['run', './scripts/not-exec.sh', 'r1']);
    assert.equal(ne.code, 126);
    assert.match(ne.stderr, /is not executable/);
  });

  test('--no-create refuses a missing environment and creates nothing; misplaced options are a usage error', async () => {
    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    const r = await h.cli(['run', '--no-create', 'true', 'absent'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no environment named "absent".*--no-create/);
    const misplaced = await h.cli(['run', 'true', '--no-up', 'absent'], { cwd: dir });
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /options go before <command> or right after <env>/);
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before);
    assert.equal(existsSync(join(h.home, 'envs', project, 'absent')), false);
  });

  test('many runs for different environments at once (--no-up) do not interfere', async () => {
    const names = ['par-a', 'par-b', 'par-c'];
    const results = await Promise.all(names.map((n) => h.cli(['run', '--no-up', '--project', project, 'sh', n, '-c', 'echo "$CILO_ENV $CILO_WORKSPACE"; exit 3'], { cwd: dir })));
    const s = stateOf(h);
    names.forEach((n, i) => {
      const r = results[i]!;
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout.trim(), `${n} ${s.environments[n]?.workspace}`);
      assert.equal(s.environments[n]?.status, 'created', '--no-up creates without starting');
    });
    const subnets = Object.values(s.environments).map((e) => e.subnet);
    assert.equal(new Set(subnets).size, subnets.length);
    // --no-create with --no-up on an existing environment just runs
    const again = await h.cli(['run', '--no-up', '--no-create', 'sh', 'par-a', '-c', 'echo $CILO_ENV']);
    assert.equal(again.stdout.trim(), 'par-a');
  });
});

