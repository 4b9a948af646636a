/**
 * Issue 14, "Real compose files": compose projects written by others, each in its own small
 * fixture under test/fixtures/<name>/ (copied to a temporary directory per test), run as two
 * environments at once where that matters.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { docker, ensureFixtureImage, makeHome, ROOT, tearDown, uid, type CliResult, type TestHome } from './helpers.js';

/** A fresh copy of test/fixtures/<name>/ (cilo copies it again into each workspace). */
function fixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cilo-${name}-`));
  cpSync(join(ROOT, 'test', 'fixtures', name), dir, { recursive: true });
  return dir;
}

/** One home and one copied fixture per suite, with a unique project name; removed even after a failure. */
interface Suite {
  h: () => TestHome;
  project: string;
  up: (env: string, ...args: string[]) => Promise<CliResult>;
  /** Brings environments `one` and `two` up at once, each with its own arguments; both must succeed. */
  upTwo: (argsOne?: string[], argsTwo?: string[]) => Promise<void>;
}

function suite(name: string): Suite {
  let h: TestHome;
  let dir: string;
  const project = uid('rc');
  before(() => {
    h = makeHome();
    dir = fixture(name);
  });
  after(() => tearDown(h, project, dir));
  const up = (env: string, ...args: string[]): Promise<CliResult> => h.cli(['up', env, '--project', project, '--timeout', '60', ...args], { cwd: dir });
  const upTwo = async (argsOne: string[] = [], argsTwo: string[] = []): Promise<void> => {
    const [one, two] = await Promise.all([up('one', ...argsOne), up('two', ...argsTwo)]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
  };
  return { h: () => h, project, up, upTwo };
}

interface ServiceJson {
  name: string;
  ip: string;
  state: string;
  container?: string | null;
  replicas?: { ip: string; state: string; container?: string }[];
}
interface StatusJson {
  status: string;
  services: ServiceJson[];
}

async function status(h: TestHome, env: string): Promise<StatusJson> {
  const r = await h.cli(['status', env, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

function service(s: StatusJson, name: string): ServiceJson | undefined {
  return s.services.find((x) => x.name === name);
}

async function containersOf(project: string, env: string, svc: string) {
  return docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, `com.docker.compose.service=${svc}`] });
}

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

async function resolveA(h: TestHome, name: string): Promise<string[]> {
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([`127.0.0.1:${h.dnsPort}`]);
  return (await r.resolve4(name).catch(() => [])).sort();
}

before(() => ensureFixtureImage());

describe('replicas: deploy.replicas and scale', () => {
  const s = suite('replicas');

  test('two environments run every replica; DNS answers each; status lists them; replicas: 0 gets nothing', async () => {
    await s.upTwo();
    for (const env of ['one', 'two']) {
      const st = await status(s.h(), env);
      assert.equal(st.status, 'running', 'a service scaled to zero does not make it degraded');
      assert.equal(service(st, 'off'), undefined, 'replicas: 0 gets no address and no name');
      assert.equal((await containersOf(s.project, env, 'off')).length, 0);
      for (const name of ['web', 'worker']) {
        const svc = service(st, name);
        assert.equal(svc?.replicas?.length, 2, `${name} lists both replicas`);
        assert.ok(svc.replicas.every((r) => /^10\.\d+\.\d+\.(19[2-9]|2\d\d)$/.test(r.ip) && r.state === 'running'), JSON.stringify(svc.replicas));
        assert.equal(new Set(svc.replicas.map((r) => r.ip)).size, 2);
        assert.deepEqual(await resolveA(s.h(), `${name}.${env}.test`), svc.replicas.map((r) => r.ip).sort(), `${name}.${env}.test answers every replica`);
      }
      assert.match(service(st, 'api')?.ip ?? '', /^10\.\d+\.\d+\.\d+$/);
      assert.equal(service(st, 'api')?.replicas, undefined);
    }
    assert.equal((await resolveA(s.h(), 'off.one.test')).length, 0);
    // Inside the environment, the service's name reaches both replicas too.
    const [api] = await containersOf(s.project, 'one', 'api');
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) seen.add(dexec(api!.Id, ['wget', '-qO-', 'http://web.one.test/']).out.trim());
    assert.equal(seen.size, 2, `both web replicas answer: ${[...seen].join(', ')}`);
    const table = await s.h().cli(['status', 'one']);
    assert.match(table.stdout, /web\s+isolated\s+10\.\d+\.\d+\.\d+,10\.\d+\.\d+\.\d+/);
  });

  test("status --json: a scaled service's ip, container and state are one replica's (the first), and each replica row is its own container's", async () => {
    const network = `cilo_${s.project}_one`;
    const st = await status(s.h(), 'one');
    for (const name of ['web', 'worker']) {
      const svc = service(st, name);
      assert.ok(svc?.container, `${name} names a container`);
      const c = await docker.inspectContainer(svc.container);
      assert.equal(c?.NetworkSettings.Networks[network]?.IPAddress, svc.ip, `${name}: ip ${svc.ip} belongs to container ${svc.container}`);
      assert.equal(c?.State.Status, svc.state);
      assert.equal(c?.Config.Labels?.['com.docker.compose.container-number'], '1', `${name}: the first replica's`);
      assert.equal(svc.replicas?.[0]?.container, svc.container);
      for (const r of svc.replicas ?? []) {
        const rc = await docker.inspectContainer(r.container ?? '');
        assert.equal(rc?.NetworkSettings.Networks[network]?.IPAddress, r.ip, `${name}: replica ${r.container} has ip ${r.ip}`);
        assert.equal(rc?.State.Status, r.state);
      }
    }
  });

  test('a second up keeps them running and answering', async () => {
    const again = await s.up('one');
    assert.equal(again.code, 0, again.stderr);
    const svc = service(await status(s.h(), 'one'), 'web');
    assert.deepEqual(await resolveA(s.h(), 'web.one.test'), svc?.replicas?.map((r) => r.ip).sort());
  });
});

describe('.env COMPOSE_FILE and COMPOSE_PROFILES, --profile, optional dependencies', () => {
  const s = suite('profiles-env');

  test('compose finds the file and the profiles in .env; --profile adds one; an optional dependency that is off is no error', async () => {
    await s.upTwo([], ['--profile', 'tools']);
    const names = (st: StatusJson): string[] => st.services.map((x) => x.name).sort();
    assert.deepEqual(names(await status(s.h(), 'one')), ['app', 'debugger']);
    // As with `docker compose --profile tools`: the option replaces COMPOSE_PROFILES.
    assert.deepEqual(names(await status(s.h(), 'two')), ['app', 'tools']);
    assert.equal((await containersOf(s.project, 'one', 'debugger'))[0]?.State, 'running', 'the .env profile runs');
    assert.equal((await containersOf(s.project, 'two', 'tools'))[0]?.State, 'running', 'the --profile one runs');
    assert.equal((await containersOf(s.project, 'one', 'tools')).length, 0);
    const [app] = await containersOf(s.project, 'one', 'app');
    assert.equal(dexec(app!.Id, ['cat', '/run/secrets/token']).out, 'from-dotenv', 'a secret read from a variable of .env');
  });

  test('--profile is remembered by a later up, and `--profile ""` clears it', async () => {
    const again = await s.up('two');
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await containersOf(s.project, 'two', 'tools'))[0]?.State, 'running');
    const cleared = await s.up('two', '--profile', '');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await containersOf(s.project, 'two', 'tools')).length, 0);
    assert.equal((await containersOf(s.project, 'two', 'debugger'))[0]?.State, 'running', 'COMPOSE_PROFILES of .env applies again');
  });
});

describe('volumes and networks with a fixed name', () => {
  const s = suite('fixed-names');

  test('each environment gets its own; destroying one never touches the other', async () => {
    await s.upTwo();
    const [a] = await containersOf(s.project, 'one', 'store');
    const [b] = await containersOf(s.project, 'two', 'store');
    assert.equal(dexec(a!.Id, ['sh', '-c', 'echo from-one > /data/who']).code, 0);
    assert.equal(dexec(b!.Id, ['cat', '/data/who']).code, 1, 'data written in one environment is not read in the other');
    const mounts = async (id: string) => JSON.parse(spawnSync('docker', ['inspect', id], { encoding: 'utf8' }).stdout)[0].Mounts.map((m: { Name: string }) => m.Name);
    assert.deepEqual(await mounts(a!.Id), [`cilo-${s.project}-one_cilo-real-compose-fixed-data`]);
    assert.deepEqual(await mounts(b!.Id), [`cilo-${s.project}-two_cilo-real-compose-fixed-data`]);
    assert.equal(await docker.inspectNetwork('cilo-real-compose-fixed-net'), null, 'the fixed-name network is replaced by the environment network');

    const d = await s.h().cli(['destroy', 'one', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((await status(s.h(), 'two')).status, 'running');
    assert.equal(dexec(b!.Id, ['sh', '-c', 'echo still > /data/who && cat /data/who']).out.trim(), 'still');
    assert.equal((await docker.listVolumes({ label: [`com.docker.compose.project=cilo-${s.project}-one`] })).length, 0, 'its own volume is gone');
  });
});

describe('a shared service that uses configs and secrets, linked to by name and alias', () => {
  const s = suite('shared-refs');

  test('two environments share it; links resolve; its configs and secrets are mounted', async () => {
    await s.upTwo();
    const shared = await docker.listContainers({ label: ['cilo.shared=true', `cilo.project=${s.project}`, 'cilo.service=db'] });
    assert.equal(shared.length, 1);
    const logs = spawnSync('docker', ['logs', shared[0]!.Id], { encoding: 'utf8' }).stdout;
    assert.match(logs, /max_connections=7/);
    assert.match(logs, /s3cret/);
    for (const env of ['one', 'two']) {
      const [app] = await containersOf(s.project, env, 'app');
      const ip = service(await status(s.h(), env), 'db')?.ip ?? 'none';
      for (const name of ['db', 'database']) assert.match(dexec(app!.Id, ['nslookup', name]).out, new RegExp(ip.replace(/\./g, '\\.')), `${name} in ${env}`);
    }
  });
});

describe('a shared one-shot job', () => {
  const s = suite('shared-job');

  test('is refused in one sentence and leaves no container behind, every time', async () => {
    for (const env of ['one', 'two']) {
      const r = await s.up(env);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Shared service "migrate" exited \(code 0\) right after it started: only a service that keeps running can be shared\./);
      assert.match(r.stderr, new RegExp(`--isolate migrate`));
      assert.doesNotMatch(r.stderr, /HTTP 404|internal error/);
      assert.equal((await docker.listContainers({ label: ['cilo.shared=true', `cilo.project=${s.project}`] })).length, 0, 'no shared container left behind');
    }
    const list = await s.h().cli(['shared', 'list', '--json']);
    assert.equal(JSON.parse(list.stdout).shared_services.length, 0);
    const isolated = await s.up('three', '--isolate', 'migrate');
    assert.equal(isolated.code, 0, isolated.stderr);
  });
});

describe('readiness and hints', () => {
  const s = suite('crash-loop');

  test('a crash-looping service with a restart policy fails the first up, naming it with its log lines; the hint works', async () => {
    const r = await s.up('one');
    assert.equal(r.code, 1, r.stdout);
    // Failed as a crash loop, not at the end of --timeout (that would say "after 60 s").
    assert.match(r.stderr, /Service "api" of environment "one" keeps restarting \(\d+ restarts/);
    assert.match(r.stderr, /api cannot reach its config/, 'its last log lines are in the message');
    assert.match(r.stderr, /removed again/);
    const hint = /hint: (.*)/.exec(r.stderr)?.[1] ?? '';
    assert.doesNotMatch(hint, /cilo (logs|status|exec|compose)/, 'the hint names no command that needs the removed environment');
    assert.match(hint, /cilo up one/);
    // ...and the command it names does what it says: it tries again (and fails the same way).
    const again = await s.up('one');
    assert.match(again.stderr, /Service "api" of environment "one"/);
    assert.equal((await s.h().cli(['status', 'one'])).code, 1, 'nothing was kept');
  });
});

describe('a service that restarts until what it needs is up', () => {
  const s = suite('retry-until-ready');

  test('counts as ready once it stays up: a few restarts are not a crash loop', async () => {
    const r = await s.up('one');
    assert.equal(r.code, 0, r.stderr);
    const st = await status(s.h(), 'one');
    assert.equal(st.services.find((x) => x.name === 'api')?.state, 'running');
    const logs = await s.h().cli(['logs', 'one', 'api']);
    assert.match(logs.stdout, /up on run 3/);
  });
});
