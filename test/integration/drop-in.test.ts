/**
 * Issue 13, "drop-in for users of the original": what a user of the original Go cilo does,
 * on a real engine. Fixture projects live in test/fixtures/drop-in-<name>/.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addressesOf, queryDns } from '../../src/dns/client.js';
import type { State } from '../../src/domain/state.js';
import { docker, doctorJson, editState, ensureFixtureImage, FIXTURE_IMAGE, git, makeHome, removeProjectResources, ROOT, tearDown, uid, type TestHome } from './helpers.js';

/** A fresh copy of test/fixtures/<name> (tests change their projects). */
function fixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `cilo-${name}-`));
  cpSync(resolve(ROOT, 'test', 'fixtures', name), dir, { recursive: true });
  return dir;
}

const stateOf = (h: TestHome): State => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as State;

/** The environment's own containers (compose project), by service. */
async function ownContainers(project: string, env: string): Promise<string[]> {
  const cs = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`] });
  return cs.map((c) => c.Labels['com.docker.compose.service'] ?? '').sort();
}

before(() => ensureFixtureImage());

describe('a project set up by the original cilo', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('orig');
  before(() => {
    h = makeHome();
    dir = fixture('drop-in-original-setup');
  });
  after(() => tearDown(h, project, dir));

  test('its config (build_tool, environments) is accepted; a key without effect is warned about once', async () => {
    const r = await h.cli(['up', 'dev', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /unknown key/);
    assert.doesNotMatch(r.stderr, /build_tool/, 'build_tool: docker is what cilo does anyway');
    assert.equal(r.stderr.match(/"environments" has no effect/g)?.length, 1, r.stderr);
    const c = await h.cli(['config', '--json'], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
  });

  test('up of a new name creates it without guessing; a name that is not found is answered with the likely typo', async () => {
    const r = await h.cli(['up', 'dew', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /did you mean/i, 'up of a new name is a request to create it');
    assert.equal(stateOf(h).environments.dew?.status, 'running');
    const typo = await h.cli(['status', 'deb'], { cwd: dir });
    assert.notEqual(typo.code, 0);
    assert.match(typo.stderr, /There is no environment named "deb"/);
    assert.match(typo.stderr, /Did you mean dev or dew\?/);
    // dev, dev2, dev3... is a series, as agent-1, agent-2 in the README: never a typo of each other.
    const series = await h.cli(['status', 'dev2'], { cwd: dir });
    assert.notEqual(series.code, 0);
    assert.match(series.stderr, /There is no environment named "dev2"/);
    assert.doesNotMatch(series.stderr, /did you mean/i);
  });
});

describe('create --include, as in the original', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('dinc');
  before(() => {
    h = makeHome();
    dir = fixture('drop-in-include');
  });
  after(() => tearDown(h, project, dir));

  test('copies only the files matching the glob (plus what up needs), and the environment starts', async () => {
    const r = await h.cli(['create', 'inc1', '--project', project, '--include', '*.txt'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const ws = stateOf(h).environments.inc1!.workspace;
    const files = spawnSync('find', ['.', '-type', 'f'], { cwd: ws, encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').sort();
    assert.deepEqual(files, ['./.cilo/meta.json', './compose.yaml', './notes.txt', './src/b.txt', './src/lib/d.txt']);
    const up = await h.cli(['up', 'inc1']);
    assert.equal(up.code, 0, up.stderr);
  });
});

describe('shared services as users of the original use them', () => {
  let h: TestHome;
  const dirs: string[] = [];
  const projects: string[] = [];
  /** One project per test: shared containers outlive their environments by a grace period. */
  const newProject = (): string => {
    projects.push(uid('dsh'));
    return projects.at(-1)!;
  };
  before(() => {
    h = makeHome();
  });
  after(async () => {
    await tearDown(h, projects[0] ?? 'none', ...dirs);
    for (const p of projects.slice(1)) await removeProjectResources(p);
  });

  test('an environment whose services are all shared comes up, with its network, names and references', async () => {
    const project = newProject();
    const dir = fixture('drop-in-all-shared');
    dirs.push(dir);
    const r = await h.cli(['up', 'all1', '--project', project, '--shared', 'cache'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const env = stateOf(h).environments.all1!;
    assert.equal(env.status, 'running');
    assert.deepEqual(env.shared, ['cache', 'db']);
    assert.deepEqual(await ownContainers(project, 'all1'), []);
    assert.deepEqual(stateOf(h).shared_services[`${project}/db`]!.users, ['all1']);
    assert.ok(await docker.inspectNetwork(`cilo_${project}_all1`));
    // a second up of the same environment (nothing to start either) and a down work too
    const again = await h.cli(['up', 'all1']);
    assert.equal(again.code, 0, again.stderr);
    const down = await h.cli(['down', 'all1']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(stateOf(h).environments.all1!.status, 'stopped');
    assert.deepEqual(stateOf(h).shared_services[`${project}/db`]?.users ?? [], []);
    const destroyed = await h.cli(['destroy', 'all1', '--force']);
    assert.equal(destroyed.code, 0, destroyed.stderr);
  });

  test('a running environment switches a service from isolated to shared and back', async () => {
    const project = newProject();
    const dir = fixture('drop-in-switch');
    dirs.push(dir);
    const up = await h.cli(['up', 'sw1', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const ip = stateOf(h).environments.sw1!.services.cache!.ip;
    assert.deepEqual(await ownContainers(project, 'sw1'), ['app', 'cache']);

    const toShared = await h.cli(['up', 'sw1', '--shared', 'cache']);
    assert.equal(toShared.code, 0, toShared.stderr);
    let s = stateOf(h);
    assert.equal(s.environments.sw1!.status, 'running');
    assert.equal(s.environments.sw1!.services.cache!.type, 'shared');
    assert.deepEqual(await ownContainers(project, 'sw1'), ['app'], 'its own cache container is gone');
    const shared = (await docker.inspectContainer(`cilo_shared_${project}_cache`))!;
    assert.equal(shared.NetworkSettings.Networks[`cilo_${project}_sw1`]?.IPAddress, ip, 'the shared container took the address');
    const again = await h.cli(['up', 'sw1']);
    assert.equal(again.code, 0, again.stderr);

    const toIsolated = await h.cli(['up', 'sw1', '--isolate', 'cache']);
    assert.equal(toIsolated.code, 0, toIsolated.stderr);
    s = stateOf(h);
    assert.equal(s.environments.sw1!.services.cache!.type, 'isolated');
    assert.deepEqual(s.environments.sw1!.shared, []);
    assert.deepEqual(await ownContainers(project, 'sw1'), ['app', 'cache']);
    const own = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-sw1`, 'com.docker.compose.service=cache'] });
    assert.equal(own[0]!.NetworkSettings?.Networks?.[`cilo_${project}_sw1`]?.IPAddress, ip, 'its own container has the address again');
    const detached = await docker.inspectContainer(`cilo_shared_${project}_cache`);
    assert.ok(!detached || !detached.NetworkSettings.Networks[`cilo_${project}_sw1`], 'the shared container left the network');
  });

  test('a first up that fails releases the shared service it took; shared stop then works', async () => {
    const project = newProject();
    const dir = fixture('drop-in-failed-first-up');
    dirs.push(dir);
    const r = await h.cli(['up', 'bad1', '--project', project], { cwd: dir });
    assert.equal(r.code, 1, r.stdout);
    const s = stateOf(h);
    assert.equal(s.environments.bad1, undefined, 'rolled back');
    const rec = s.shared_services[`${project}/db`];
    assert.ok(!rec || !rec.users.includes('bad1'), JSON.stringify(rec));
    assert.ok(!rec || rec.grace_until !== null, 'nobody holds it: its grace runs');
    const stop = await h.cli(['shared', 'stop', 'db', '--project', project]);
    assert.ok(stop.code === 0 || /no shared service/i.test(stop.stderr), stop.stderr);
    assert.equal(await docker.inspectContainer(`cilo_shared_${project}_db`), null);
  });

  test('doctor reports users of a shared service that are not environments, and --fix drops them', async () => {
    const project = newProject();
    const dir = fixture('drop-in-switch');
    dirs.push(dir);
    const up = await h.cli(['up', 'gh1', '--project', project, '--shared', 'cache'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    await editState(h, (s) => {
      // what an older cilo's failed first `up` left behind
      s.shared_services[`${project}/cache`]!.users.push('ghost');
      s.shared_services[`${project}/cache`]!.ips.ghost = '10.1.2.3';
    });
    const stop = await h.cli(['down', 'gh1']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stateOf(h).shared_services[`${project}/cache`]!.grace_until, null, 'the ghost keeps it from its grace');
    const report = await doctorJson(h);
    const finding = report.findings.find((f) => f.kind === 'shared.unknown-user');
    assert.ok(finding, JSON.stringify(report.findings));
    assert.match(finding.message, /ghost/);
    const fixed = await doctorJson(h, '--fix');
    assert.ok(fixed.findings.find((f) => f.kind === 'shared.unknown-user')?.fixed, JSON.stringify(fixed.findings));
    const rec = stateOf(h).shared_services[`${project}/cache`];
    assert.ok(!rec || (rec.users.length === 0 && rec.grace_until !== null), JSON.stringify(rec));
  });
});

describe('cilo.hostnames on a service that is not the ingress', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('dhn');
  before(() => {
    h = makeHome();
    dir = fixture('drop-in-hostnames');
  });
  after(() => tearDown(h, project, dir));

  test('the names resolve to that service, from the host (cilo DNS) and from the containers', async () => {
    const r = await h.cli(['up', 'hn1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const env = stateOf(h).environments.hn1!;
    assert.equal(env.ingress, 'web');
    assert.deepEqual(env.hostnames, ['www']);
    assert.deepEqual(env.services.api!.hostnames, ['v1', 'api-docs']);
    const apiIp = env.services.api!.ip;
    for (const name of ['v1', 'api-docs']) {
      assert.deepEqual(addressesOf(await queryDns({ port: h.dnsPort, name: `${name}.hn1.test` })), [apiIp], name);
    }
    assert.deepEqual(addressesOf(await queryDns({ port: h.dnsPort, name: 'www.hn1.test' })), [env.services.web!.ip]);
    const web = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-hn1`, 'com.docker.compose.service=web'] });
    const ns = spawnSync('docker', ['exec', web[0]!.Id, 'nslookup', 'v1.hn1.test'], { encoding: 'utf8' });
    assert.match(`${ns.stdout}${ns.stderr}`, new RegExp(apiIp.replace(/\./g, '\\.')));
  });
});

function commitAll(dir: string, message: string): void {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

describe('diff and merge: the patch, its short forms, and repositories nested in the project', () => {
  let h: TestHome;
  let src: string;
  let ws: string;
  const project = uid('dgit');
  before(async () => {
    h = makeHome();
    src = fixture('drop-in-nested-repos');
    // libs/util is a checkout of its own, ignored by the outer repository
    writeFileSync(join(src, '.gitignore'), 'libs/util/\n');
    for (const dir of [join(src, 'libs/util'), src]) {
      git(dir, 'init', '-q', '-b', 'main');
      git(dir, 'config', 'user.name', 'Cilo Test');
      git(dir, 'config', 'user.email', 'cilo-test@example.invalid');
      commitAll(dir, 'initial');
    }
    const c = await h.cli(['create', 'g1', '--from', src, '--project', project]);
    assert.equal(c.code, 0, c.stderr);
    ws = stateOf(h).environments.g1!.workspace;
    // committed and uncommitted work in both repositories, and a new file
    writeFileSync(join(ws, 'src/app.sh'), '#!/bin/sh\necho app v2\n');
    commitAll(ws, 'agent: app v2');
    writeFileSync(join(ws, 'README.md'), 'one\ntwo, edited\nthree\n');
    writeFileSync(join(ws, 'notes.txt'), 'new file\n');
    writeFileSync(join(ws, 'libs/util/util.sh'), '#!/bin/sh\necho util v2\n');
    commitAll(join(ws, 'libs/util'), 'agent: util v2');
  });
  after(() => tearDown(h, project, src));

  test('diff prints the patch of every repository, committed and uncommitted, new files too', async () => {
    const r = await h.cli(['diff', 'g1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /agent: app v2/);
    assert.match(r.stdout, /Repository libs\/util:\n {2}1 commit\(s\)[^\n]*\n {4}[0-9a-f]{12} agent: util v2/);
    for (const file of ['README.md', 'notes.txt', 'src/app.sh', 'libs/util/util.sh']) assert.match(r.stdout, new RegExp(`^diff --git a/${file} b/${file}$`, 'm'), file);
    assert.match(r.stdout, /^-echo util v1\n\+echo util v2$/m);
    assert.match(r.stdout, /^\+new file$/m);
    assert.doesNotMatch(r.stdout, /meta\.json/, 'never cilo\'s own files');

    // the output applies to a copy of the source as it is: it is a patch
    const copy = mkdtempSync(join(tmpdir(), 'cilo-apply-'));
    try {
      cpSync(src, copy, { recursive: true });
      rmSync(join(copy, '.git'), { recursive: true });
      rmSync(join(copy, 'libs/util/.git'), { recursive: true });
      const apply = spawnSync('git', ['apply', '-'], { cwd: copy, input: r.stdout, encoding: 'utf8' });
      assert.equal(apply.status, 0, apply.stderr);
      assert.equal(readFileSync(join(copy, 'libs/util/util.sh'), 'utf8'), readFileSync(join(ws, 'libs/util/util.sh'), 'utf8'));
      assert.equal(readFileSync(join(copy, 'notes.txt'), 'utf8'), 'new file\n');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('--name-only and --stat are the short forms; --json carries them too', async () => {
    const names = await h.cli(['diff', 'g1', '--name-only']);
    assert.equal(names.code, 0, names.stderr);
    assert.deepEqual(names.stdout.trim().split('\n'), ['README.md', 'notes.txt', 'src/app.sh', 'libs/util/util.sh']);
    const stat = await h.cli(['diff', 'g1', '--stat']);
    assert.equal(stat.code, 0, stat.stderr);
    assert.match(stat.stdout, /^ libs\/util\/util\.sh \| 2 \+-$/m);
    assert.match(stat.stdout, /^ 4 files changed, 4 insertions\(\+\), 3 deletions\(-\)$/m);
    const j = JSON.parse((await h.cli(['diff', 'g1', '--json'])).stdout);
    assert.deepEqual(j.repos.map((x: { path: string }) => x.path), ['.', 'libs/util']);
    assert.deepEqual(j.files, ['README.md', 'notes.txt', 'src/app.sh', 'libs/util/util.sh']);
    assert.match(j.patch, /diff --git a\/libs\/util\/util\.sh/);
  });

  test('merge brings the commits of every repository into the source repository at the same place', async () => {
    const r = await h.cli(['merge', 'g1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.deepEqual(m.repos.map((x: { path: string; result: string }) => [x.path, x.result]), [['.', 'fast-forward'], ['libs/util', 'fast-forward']]);
    assert.equal(git(src, 'log', '-1', '--format=%s'), 'agent: app v2');
    assert.equal(git(join(src, 'libs/util'), 'log', '-1', '--format=%s'), 'agent: util v2');
    assert.equal(readFileSync(join(src, 'libs/util/util.sh'), 'utf8'), '#!/bin/sh\necho util v2\n');
    assert.equal(m.uncommitted, 2, 'README.md and notes.txt stay in the workspace');
  });
});

describe('diff of a project without git shows the patch too', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('dfil');
  before(() => {
    h = makeHome();
    dir = fixture('drop-in-include');
  });
  after(() => tearDown(h, project, dir));

  test('changed, added and removed files as a patch', async () => {
    const c = await h.cli(['create', 'f1', '--project', project], { cwd: dir });
    assert.equal(c.code, 0, c.stderr);
    const ws = stateOf(h).environments.f1!.workspace;
    writeFileSync(join(ws, 'notes.txt'), 'notes, edited\n');
    writeFileSync(join(ws, 'src/new.txt'), 'added\n');
    rmSync(join(ws, 'src/c.js'));
    const r = await h.cli(['diff', 'f1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^diff --git a\/notes\.txt b\/notes\.txt\n[^]*?^-notes\n\+notes, edited$/m);
    assert.match(r.stdout, /^diff --git a\/src\/new\.txt b\/src\/new\.txt\nnew file mode/m);
    assert.match(r.stdout, /^diff --git a\/src\/c\.js b\/src\/c\.js\ndeleted file mode/m);
    assert.doesNotMatch(r.stdout, new RegExp(ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '/'), 'paths are the tree\'s, not the machine\'s');
    const names = await h.cli(['diff', 'f1', '--name-only']);
    assert.deepEqual(names.stdout.trim().split('\n'), ['notes.txt', 'src/c.js', 'src/new.txt']);
  });
});

describe('doctor and resources no cilo home claims', () => {
  let h: TestHome;
  const project = uid('dun');
  const made: { containers: string[]; networks: string[] } = { containers: [], networks: [] };
  before(() => {
    h = makeHome();
  });
  after(async () => {
    for (const c of made.containers) spawnSync('docker', ['rm', '-f', c], { stdio: 'ignore' });
    for (const n of made.networks) spawnSync('docker', ['network', 'rm', n], { stdio: 'ignore' });
    await tearDown(h, project);
  });

  function run(name: string, labels: string[]): void {
    const r = spawnSync('docker', ['run', '-d', '--name', name, ...labels.flatMap((l) => ['--label', l]), FIXTURE_IMAGE, 'sleep', '3600'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    made.containers.push(name);
  }

  test('a cilo-labelled shared container and network without a home are unmanaged; another home\'s are left alone', async () => {
    const original = `cilo_shared_${project}_db`;
    const otherHome = `${project}-other-home`;
    run(original, ['cilo=true', 'cilo.shared=true', `cilo.project=${project}`, 'cilo.service=db']);
    run(otherHome, ['cilo=true', 'cilo.home=some-other-home', 'cilo.shared=true', `cilo.project=${project}`, 'cilo.service=cache']);
    const net = `cilo_${project}_dev`;
    const n = spawnSync('docker', ['network', 'create', '--label', 'cilo=true', '--label', `cilo.env=dev`, '--label', `cilo.project=${project}`, net], { encoding: 'utf8' });
    assert.equal(n.status, 0, n.stderr);
    made.networks.push(net);

    const report = await doctorJson(h);
    const about = (subject: string) => report.findings.find((f) => f.subject === subject);
    assert.equal(about(original)?.kind, 'shared.unmanaged', JSON.stringify(report.findings));
    assert.equal(about(net)?.kind, 'unmanaged.network', JSON.stringify(report.findings));
    assert.equal(about(otherHome), undefined, 'another home\'s container is its business');

    await doctorJson(h, '--fix');
    assert.equal(await docker.inspectContainer(original), null);
    assert.equal(await docker.inspectNetwork(net), null);
    assert.ok(await docker.inspectContainer(otherHome), 'never another home\'s');
  });
});
