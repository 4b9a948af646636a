import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome } from './helpers.js';

/**
 * A project in the shape users have: a web service publishing a host port, a database-like
 * service with a named volume and a healthcheck, and a dependency between them.
 */
const webDbProject = (): string => copyFixture('web-db');

function treeHash(dir: string): string {
  const r = spawnSync('sh', ['-c', 'find . -type f -o -type l | sort | xargs -d "\\n" sha256sum; find . | sort | xargs -d "\\n" stat -c "%n %a"'], { cwd: dir, encoding: 'utf8' });
  return createHash('sha256').update(r.stdout).digest('hex');
}

function state(h: TestHome): { environments: Record<string, { project: string; subnet: string; status: string; workspace: string; services: Record<string, { ip: string }> }> } {
  return JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));
}

async function container(project: string, env: string, service: string) {
  const list = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, `com.docker.compose.service=${service}`] });
  assert.equal(list.length, 1, `one container for ${service} in ${env}`);
  return (await docker.inspectContainer(list[0]!.Id))!;
}

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

before(() => ensureFixtureImage());

describe('two environments of a port-publishing project, side by side', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('p');
  before(async () => {
    h = makeHome();
    dir = webDbProject();
  });
  after(async () => {
    await h.cleanup();
    await removeProjectResources(project);
    rmSync(dir, { recursive: true, force: true });
  });

  test('both come up at once with their own network, subnet, fixed IPs and no published ports', async () => {
    const before = treeHash(dir);
    const [a, b] = await Promise.all([h.cli(['up', 'one', '--project', project], { cwd: dir }), h.cli(['up', 'two', '--project', project], { cwd: dir })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stdout, new RegExp(`web\\s+isolated\\s+10\\.\\d+\\.\\d+\\.\\d+\\s+http://web\\.one\\.test:8080\\s+running`));
    const s = state(h);
    assert.notEqual(s.environments.one?.subnet, s.environments.two?.subnet);
    for (const env of ['one', 'two']) {
      const web = await container(project, env, 'web');
      assert.equal(web.State.Running, true);
      assert.deepEqual(Object.keys(web.NetworkSettings.Networks), [`cilo_${project}_${env}`]);
      assert.equal(web.NetworkSettings.Networks[`cilo_${project}_${env}`]?.IPAddress, s.environments[env]?.services.web?.ip);
      const full = JSON.parse(spawnSync('docker', ['inspect', web.Id], { encoding: 'utf8' }).stdout)[0];
      assert.deepEqual(full.HostConfig.PortBindings ?? {}, {}, 'no host port is published');
      assert.equal(web.Config.Labels?.cilo, 'true');
      assert.equal(web.Config.Labels?.['cilo.project'], project);
      assert.equal(web.Config.Labels?.['cilo.env'], env);
      const net = await docker.inspectNetwork(`cilo_${project}_${env}`);
      assert.equal(net?.IPAM.Config?.[0]?.Subnet, s.environments[env]?.subnet);
      assert.equal(net?.Labels?.['cilo.env'], env);
    }
    assert.equal(treeHash(dir), before, 'the project files are never modified');
  });

  test('service names resolve inside the containers, short and fully qualified', async () => {
    const db = await container(project, 'one', 'db');
    const short = dexec(db.Id, ['wget', '-qO-', 'http://web:8080/']);
    assert.equal(short.code, 0, short.out);
    assert.match(short.out, /hello-/);
    const fq = dexec(db.Id, ['wget', '-qO-', 'http://web.one.test:8080/']);
    assert.equal(fq.code, 0, fq.out);
    // the other environment's name is not reachable from here
    const other = dexec(db.Id, ['wget', '-T', '2', '-qO-', 'http://web.two.test:8080/']);
    assert.notEqual(other.code, 0);
  });

  test('status, list, path, logs, exec and compose work by name from any directory', async () => {
    const st = await h.cli(['status', 'one', '--json'], { cwd: '/' });
    assert.equal(st.code, 0, st.stderr);
    const view = JSON.parse(st.stdout);
    assert.equal(view.status, 'running');
    assert.deepEqual(view.services.map((x: { name: string; type: string; state: string }) => [x.name, x.type, x.state.split(' ')[0]]), [
      ['db', 'isolated', 'running'],
      ['web', 'isolated', 'running'],
    ]);
    const table = await h.cli(['status', 'one'], { cwd: '/' });
    assert.match(table.stdout, /NAME\s+TYPE\s+IP\s+URL\s+STATE/);

    const list = await h.cli(['list', '--all', '--format', 'json'], { cwd: '/' });
    assert.deepEqual(JSON.parse(list.stdout).map((e: { name: string }) => e.name), ['one', 'two']);
    const quiet = await h.cli(['list', '--project', project, '--format', 'quiet'], { cwd: '/' });
    assert.equal(quiet.stdout, 'one\ntwo\n');
    const inProject = await h.cli(['ls', '--json', '--project', project]);
    assert.equal(JSON.parse(inProject.stdout).length, 2);

    const path = await h.cli(['path', 'two'], { cwd: '/' });
    assert.equal(path.stdout.trim(), join(h.home, 'envs', project, 'two'));
    assert.ok(existsSync(join(path.stdout.trim(), 'compose.yaml')));

    const ex = await h.cli(['exec', 'one', 'web', 'cat', '/www/index.html'], { cwd: '/' });
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /hello-/);
    const exCode = await h.cli(['exec', 'one', 'web', 'sh', '-c', 'exit 7']);
    assert.equal(exCode.code, 7, 'exec passes the exit status through');

    const logs = await h.cli(['logs', 'one', 'db', '--tail', '5']);
    assert.equal(logs.code, 0, logs.stderr);
    const ps = await h.cli(['compose', 'one', 'ps', '--format', '{{.Service}}']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.deepEqual(ps.stdout.trim().split('\n').sort(), ['db', 'web']);

    const wrong = await h.cli(['status', 'one', '--project', 'someone-else']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, new RegExp(`belongs to project "${project}"`));
    const missingSvc = await h.cli(['exec', 'one', 'nosuch', 'true']);
    assert.equal(missingSvc.code, 2);
    assert.match(missingSvc.stderr, /no service "nosuch"/);
  });

  test('down keeps containers and volume data; up starts them again with the same IPs', async () => {
    const db = await container(project, 'one', 'db');
    assert.equal(dexec(db.Id, ['sh', '-c', 'echo precious > /data/keep']).code, 0);
    const ipsBefore = state(h).environments.one?.services;
    const down = await h.cli(['down', 'one']);
    assert.equal(down.code, 0, down.stderr);
    const stopped = await container(project, 'one', 'db');
    assert.equal(stopped.State.Running, false, 'the container is kept, stopped');
    assert.equal(stopped.Id, db.Id);
    assert.equal(state(h).environments.one?.status, 'stopped');
    assert.ok(await docker.inspectNetwork(`cilo_${project}_one`), 'the network is kept');
    const st = JSON.parse((await h.cli(['status', 'one', '--json'])).stdout);
    assert.equal(st.status, 'stopped');

    const up = await h.cli(['up', 'one']);
    assert.equal(up.code, 0, up.stderr);
    const again = await container(project, 'one', 'db');
    assert.equal(again.Id, db.Id, 'a quick start reuses the container');
    assert.equal(dexec(again.Id, ['cat', '/data/keep']).out.trim(), 'precious');
    assert.deepEqual(state(h).environments.one?.services, ipsBefore);
  });

  test('up on a running environment is idempotent and recreates only a changed service', async () => {
    const web = await container(project, 'two', 'web');
    const db = await container(project, 'two', 'db');
    const same = await h.cli(['up', 'two']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal((await container(project, 'two', 'web')).Id, web.Id);
    const ws = state(h).environments.two!.workspace;
    const file = join(ws, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('init: true\n    command: ["sh", "-c", "mkdir', 'init: true\n    environment: {CHANGED: "1"}\n    command: ["sh", "-c", "mkdir'));
    const changed = await h.cli(['up', 'two']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.notEqual((await container(project, 'two', 'web')).Id, web.Id, 'the changed service is recreated');
    assert.equal((await container(project, 'two', 'db')).Id, db.Id, 'the unchanged one is kept');
    const recreate = await h.cli(['up', 'two', '--recreate']);
    assert.equal(recreate.code, 0, recreate.stderr);
    assert.notEqual((await container(project, 'two', 'db')).Id, db.Id, '--recreate recreates everything');
  });

  test('destroy asks for --force without a terminal, then leaves nothing behind; the subnet is reused', async () => {
    const s = state(h);
    const subnet = s.environments.two!.subnet;
    const refused = await h.cli(['destroy', 'two']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--force/);
    assert.ok(state(h).environments.two, 'nothing was destroyed');

    const d = await h.cli(['destroy', 'two', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(state(h).environments.two, undefined);
    assert.equal((await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-two`] })).length, 0);
    assert.equal(await docker.inspectNetwork(`cilo_${project}_two`), null);
    assert.equal((await docker.listVolumes({ label: [`com.docker.compose.project=cilo-${project}-two`] })).length, 0);
    assert.equal(existsSync(s.environments.two!.workspace), false);
    // env one is untouched
    assert.equal((await container(project, 'one', 'web')).State.Running, true);

    const c = await h.cli(['create', 'three', '--project', project], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(state(h).environments.three?.subnet, subnet, 'the freed subnet is reused');
  });

  test('destroy --keep-workspace keeps the files, removes the rest', async () => {
    const ws = state(h).environments.one!.workspace;
    const d = await h.cli(['destroy', 'one', '--force', '--keep-workspace']);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(existsSync(join(ws, 'compose.yaml')));
    assert.equal(await docker.inspectNetwork(`cilo_${project}_one`), null);
    assert.equal((await docker.listVolumes({ label: [`com.docker.compose.project=cilo-${project}-one`] })).length, 0);
    const again = await h.cli(['create', 'one', '--project', project], { cwd: dir });
    assert.equal(again.code, 1, 'a kept workspace is never copied over');
    assert.match(again.stderr, /A workspace already exists/);
    assert.ok(existsSync(join(ws, 'compose.yaml')));
    assert.equal(JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments.one, undefined);
    const all = await h.cli(['destroy', '--all', '--force']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(state(h).environments, {});
  });
});

describe('names, projects and bad input', () => {
  let h: TestHome;
  const projA = uid('pa');
  const projB = uid('pb');
  let dirA: string;
  let dirB: string;
  before(() => {
    h = makeHome();
    dirA = webDbProject();
    dirB = webDbProject();
  });
  after(async () => {
    await h.cleanup();
    rmSync(dirA, { recursive: true, force: true });
    rmSync(dirB, { recursive: true, force: true });
  });

  test('an environment name is unique across projects; the error names the holder', async () => {
    const a = await h.cli(['create', 'shared-name', '--project', projA], { cwd: dirA });
    assert.equal(a.code, 0, a.stderr);
    const b = await h.cli(['create', 'shared-name', '--project', projB], { cwd: dirB });
    assert.equal(b.code, 1);
    assert.match(b.stderr, new RegExp(`already used by project "${projA}"`));
    const again = await h.cli(['create', 'shared-name', '--project', projA], { cwd: dirA });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
  });

  test('invalid names are refused with the rule and leave state untouched', async () => {
    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    for (const bad of ['Bad Name', '-', 'a.b', 'x'.repeat(70)]) {
      const r = await h.cli(['create', bad, '--project', projA], { cwd: dirA });
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /lowercase letters, digits/);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    const badProject = await h.cli(['create', 'ok-name', '--project', 'bad project!'], { cwd: dirA });
    assert.equal(badProject.code, 2);
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before);
    const missing = await h.cli(['status', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no environment named "nope"/);
  });

  test('an environment name is taken exactly as typed: `destroy --force -- -FOO_` does not destroy foo, nor does any command take a normalized name', async () => {
    const made = await h.cli(['create', 'foo', '--project', projA], { cwd: dirA });
    assert.equal(made.code, 0, made.stderr);
    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    const destroy = await h.cli(['destroy', '--force', '--', '-FOO_']);
    assert.equal(destroy.code, 2, destroy.stdout + destroy.stderr);
    assert.match(destroy.stderr, /Invalid environment name "-FOO_": a name must be lowercase letters, digits and "-", 1 to 63 characters, starting and ending with a letter or digit; did you mean "foo"\?/);
    assert.doesNotMatch(destroy.stdout, /Destroyed/);
    assert.ok(state(h).environments.foo, 'foo still exists');
    assert.ok(existsSync(state(h).environments.foo!.workspace), "foo's workspace is still there");
    // Every command that takes <env> refuses the same way, before doing anything.
    const commands: string[][] = [
      ['status', 'Foo'],
      ['status', 'Foo', '--json'],
      ['down', 'FOO'],
      ['up', 'Foo', '--project', projA],
      ['create', 'Foo', '--project', projA],
      ['path', 'Foo'],
      ['logs', 'Foo'],
      ['exec', 'Foo', 'web', 'true'],
      ['compose', 'Foo', 'ps'],
      ['diff', 'Foo'],
      ['merge', 'Foo'],
      ['hostnames', 'list', 'Foo'],
      ['snapshot', 'create', 'Foo'],
      ['fork', 'Foo', 'bar'],
      ['fork', 'foo', 'Bar'],
      ['run', 'true', 'Foo', '--project', projA],
      ['db', 'reset', 'Foo'],
      ['setup', '--default-env', 'Foo'],
    ];
    for (const args of commands) {
      const r = await h.cli(args, { cwd: dirA });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /Invalid environment name "(Foo|FOO|Bar)": .*did you mean "(foo|bar)"\?/, args.join(' '));
    }
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before, 'nothing changed');
    assert.equal(state(h).environments.bar, undefined);
  });

  test('a directory without a compose file is refused before anything is created', async () => {
    const empty = copyFixture('no-compose');
    const before = readFileSync(join(h.home, 'state.json'), 'utf8');
    const r = await h.cli(['create', 'nocompose', '--from', empty, '--project', projA]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No compose file/);
    assert.equal(readFileSync(join(h.home, 'state.json'), 'utf8'), before);
    assert.equal(existsSync(join(h.home, 'envs', projA, 'nocompose')), false);
    rmSync(empty, { recursive: true, force: true });
  });

  test('create copies modes and symlinks, skips dot-directories but .git and .cilo', async () => {
    // The copy rules' cases are written here: git keeps no .git/ or node_modules/ in a fixture.
    const d = copyFixture('app-image', {
      'bin/run.sh': '#!/bin/sh\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.cilo/config.yml': `project: ${projB}\n`,
      '.cache/big': 'skip me\n',
      '.env': 'A=1\n',
      'node_modules/.bin/x': 'skip\n',
    });
    chmodSync(join(d, 'bin/run.sh'), 0o755);
    symlinkSync('bin/run.sh', join(d, 'link'));
    const r = await h.cli(['create', 'copy-check', '--from', d]);
    assert.equal(r.code, 0, r.stderr);
    const ws = state(h).environments['copy-check']!.workspace;
    assert.equal(state(h).environments['copy-check']!.project, projB, 'project name from .cilo/config.yml');
    assert.equal(statSync(join(ws, 'bin/run.sh')).mode & 0o777, 0o755);
    assert.ok(lstatSync(join(ws, 'link')).isSymbolicLink());
    assert.equal(readlinkSync(join(ws, 'link')), 'bin/run.sh');
    assert.ok(existsSync(join(ws, '.git/HEAD')));
    assert.ok(existsSync(join(ws, '.env')));
    assert.ok(existsSync(join(ws, '.cilo/meta.json')));
    assert.equal(existsSync(join(ws, '.cache')), false);
    assert.equal(existsSync(join(ws, 'node_modules/.bin')), false);
    const inc = await h.cli(['create', 'copy-include', '--from', d, '--include', '.cache']);
    assert.equal(inc.code, 0, inc.stderr);
    assert.ok(existsSync(join(state(h).environments['copy-include']!.workspace, '.cache/big')));
    const empty = await h.cli(['create', 'copy-empty', '--from', d, '--empty']);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(existsSync(join(state(h).environments['copy-empty']!.workspace, 'compose.yaml')), false);
    rmSync(d, { recursive: true, force: true });
  });

  test('8 processes creating environments at once: all recorded, 8 distinct subnets', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `par-${i}`);
    const results = await Promise.all(names.map((n) => h.cli(['create', n, '--project', projA], { cwd: dirA })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const s = state(h);
    const subnets = names.map((n) => s.environments[n]?.subnet);
    assert.equal(subnets.filter(Boolean).length, 8);
    assert.equal(new Set(subnets).size, 8);
    const allSubnets = Object.values(s.environments).map((e) => e.subnet);
    assert.equal(new Set(allSubnets).size, allSubnets.length, 'no two environments share a subnet');
  });

  test('a failing service is named with its last log lines; the environment is marked error', async () => {
    const d = copyFixture('failing-service');
    // its own project name: projA is the name of dirA (one name, one source)
    const projF = uid('pf');
    const fresh = await h.cli(['up', 'failing-new', '--from', d, '--project', projF, '--timeout', '30']);
    assert.equal(fresh.code, 1);
    assert.match(fresh.stderr, /Service "broken" of environment "failing-new" exited with code 3/);
    assert.equal(state(h).environments['failing-new'], undefined, 'an environment made by the failing up itself is removed again');
    assert.equal(await docker.inspectNetwork(`cilo_${projF}_failing-new`), null);
    const c = await h.cli(['create', 'failing', '--from', d, '--project', projF]);
    assert.equal(c.code, 0, c.stderr);
    const r = await h.cli(['up', 'failing', '--timeout', '30']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Service "broken" of environment "failing" exited with code 3/);
    assert.match(r.stderr, /cannot-connect-to-db/);
    assert.equal(state(h).environments.failing?.status, 'error');
    const d2 = await h.cli(['destroy', 'failing', '--force']);
    assert.equal(d2.code, 0, d2.stderr);
    assert.equal((await docker.listContainers({ label: [`com.docker.compose.project=cilo-${projF}-failing`] })).length, 0);
    rmSync(d, { recursive: true, force: true });
  });

  test('an invalid compose file is one clear error and leaves no network or containers', async () => {
    const d = copyFixture('bad/unknown-service-key');
    const projI = uid('pi');
    const r = await h.cli(['up', 'invalid-compose', '--from', d, '--project', projI]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /compose model .* is invalid/);
    assert.match(r.stderr, /bogus_key/);
    assert.equal(await docker.inspectNetwork(`cilo_${projI}_invalid-compose`), null);
    const s = state(h);
    assert.equal(s.environments['invalid-compose'], undefined, 'an environment created by this up is rolled back');
    rmSync(d, { recursive: true, force: true });
  });
});
