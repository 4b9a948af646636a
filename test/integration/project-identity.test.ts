/**
 * A project is its name *and* its source directory (issue #23): two unrelated folders with one
 * name never share environments or shared services; the second is refused before anything is
 * made, naming the first's path and the two fixes. A conflict hint never proposes to replace
 * a shared service other environments use. State written before sources were kept migrates.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, editState, ensureFixtureImage, FIXTURES, git, makeHome, removeProjectResources, ROOT, tearDown, uid, type TestHome } from './helpers.js';

const LIMIT = { timeout: 240_000 };

/** `<tmp>/<random>/<name>`: a copy of a fixture in a folder named `name` (two such share a name). */
function folderNamed(name: string, fixture = 'shared-db'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'cilo-identity-')), name);
  mkdirSync(dir);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

interface IdentityState {
  environments: Record<string, { project: string; source: string }>;
  projects?: Record<string, { source: string }>;
}
const stateOf = (h: TestHome): IdentityState => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as IdentityState;

interface Failure {
  ok: false;
  code: string;
  message: string;
  hint: string | null;
}

async function sharedDb(project: string) {
  return docker.listContainers({ label: ['cilo.shared=true', `cilo.project=${project}`, 'cilo.service=db'] });
}

before(() => ensureFixtureImage());

describe('two folders with one name', () => {
  const P = uid('pi');
  const P2 = `${P}-2`;
  let h: TestHome;
  let first: string;
  let second: string;
  let firstDb: string;
  before(() => {
    h = makeHome();
    first = folderNamed(P);
    second = folderNamed(P);
  });
  after(async () => {
    await tearDown(h, P, join(first, '..'), join(second, '..'));
    await removeProjectResources(P2);
  });

  test('the first folder comes up with its shared service', LIMIT, async () => {
    const r = await h.cli(['up', 'e1'], { cwd: first });
    assert.equal(r.code, 0, r.stderr);
    const dbs = await sharedDb(P);
    assert.equal(dbs.length, 1);
    firstDb = dbs[0]!.Id;
    assert.equal(stateOf(h).projects?.[P]?.source, realpathSync(first), 'the project name is recorded with its source');
  });

  test('a new environment of the second folder is refused naming the first and both fixes; nothing is made for it', LIMIT, async () => {
    const r = await h.cli(['up', 'e2', '--json'], { cwd: second });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as Failure;
    assert.equal(doc.code, 'PROJECT_TAKEN');
    assert.ok(doc.message.includes(realpathSync(first)), `names the first's path: ${doc.message}`);
    assert.ok(doc.message.includes(realpathSync(second)), doc.message);
    assert.match(doc.message, /\be1\b/, 'names the environment that holds the name');
    assert.match(doc.hint ?? '', /--project NAME/);
    assert.ok((doc.hint ?? '').includes(`project: NAME\` in ${join(realpathSync(second), '.cilo', 'config.yml')}`), doc.hint ?? '');

    // `create` and `run` (the other ways to make one) are refused the same way, and on stderr
    const c = await h.cli(['create', 'e3'], { cwd: second });
    assert.equal(c.code, 1);
    assert.match(c.stderr, /belongs to .*cannot use it too/);
    const run = await h.cli(['run', 'true', 'e4', '--from', second]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /belongs to /);

    const s = stateOf(h);
    for (const e of ['e2', 'e3', 'e4']) {
      assert.equal(s.environments[e], undefined, `no state entry for ${e}`);
      assert.equal(existsSync(join(h.home, 'envs', P, e)), false, `no workspace for ${e}`);
      assert.deepEqual(await docker.listNetworks({ name: [`cilo_${P}_${e}`] }), [], `no network for ${e}`);
      assert.deepEqual(await docker.listContainers({ label: [`com.docker.compose.project=cilo-${P}-${e}`] }), [], `no container for ${e}`);
    }
    const dbs = await sharedDb(P);
    assert.deepEqual(dbs.map((c) => c.Id), [firstDb], 'the first folder\'s shared container is untouched');
    const info = (await docker.inspectContainer(firstDb))!;
    assert.equal(info.State.Running, true);
    assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [`cilo_${P}_e1`]);
  });

  test('with --project the second folder gets its own environment and its own shared container', LIMIT, async () => {
    const r = await h.cli(['up', 'e2', '--project', P2], { cwd: second });
    assert.equal(r.code, 0, r.stderr);
    const own = await sharedDb(P2);
    assert.equal(own.length, 1);
    assert.notEqual(own[0]!.Id, firstDb);
    assert.deepEqual((await sharedDb(P)).map((c) => c.Id), [firstDb]);
    const s = stateOf(h);
    assert.equal(s.projects?.[P2]?.source, realpathSync(second));
    assert.equal(s.projects?.[P]?.source, realpathSync(first));
  });

  test('a changed shared definition that another environment uses: the hint offers --isolate or waiting, never --recreate', LIMIT, async () => {
    const compose = join(first, 'compose.yaml');
    writeFileSync(compose, readFileSync(compose, 'utf8').replace('hunter2', 'rotated'));
    const r = await h.cli(['up', 'e5', '--json'], { cwd: first });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as Failure;
    assert.equal(doc.code, 'SHARED_CONFLICT');
    assert.match(doc.message, /used by e1\b/);
    assert.match(doc.hint ?? '', /--isolate db/);
    assert.match(doc.hint ?? '', /wait until e1 no longer uses it/);
    assert.doesNotMatch(doc.hint ?? '', /--recreate|shared stop|--force/);
    assert.deepEqual((await sharedDb(P)).map((c) => c.Id), [firstDb], 'nothing replaced the shared container');

    // `shared stop` of a service in use says to release it, not to cut its users off
    const stop = await h.cli(['shared', 'stop', 'db', '--project', P]);
    assert.equal(stop.code, 1, stop.stdout + stop.stderr);
    assert.match(stop.stderr, /in use by e1[\s\S]*hint: .*cilo down/);
    assert.doesNotMatch(stop.stderr, /--force|--recreate/);
    writeFileSync(compose, readFileSync(compose, 'utf8').replace('rotated', 'hunter2'));
  });

  test('destroying the first folder\'s environments frees the name, and the move is said', LIMIT, async () => {
    const d = await h.cli(['destroy', 'e1', '--force']);
    assert.equal(d.code, 0, d.stderr);
    const c = await h.cli(['create', 'e6'], { cwd: second });
    assert.equal(c.code, 0, c.stderr);
    assert.ok(c.stderr.includes(`project "${P}" moves from ${realpathSync(first)}`), c.stderr);
    assert.equal(stateOf(h).projects?.[P]?.source, realpathSync(second));
    // and now the first folder is the other one
    const back = await h.cli(['create', 'e7'], { cwd: first });
    assert.equal(back.code, 1);
    assert.ok(back.stderr.includes(realpathSync(second)), back.stderr);
  });
});

describe('the worktrees of one repository', () => {
  const W = uid('pw');
  let h: TestHome;
  let root: string;
  before(() => {
    h = makeHome();
    root = realpathSync(mkdtempSync(join(tmpdir(), 'cilo-identity-')));
  });
  after(() => tearDown(h, W, root));

  test('are one source: linked worktrees share the name their config gives; another clone does not', LIMIT, async () => {
    const repo = join(root, 'repo');
    cpSync(join(FIXTURES, 'shared-db'), repo, { recursive: true });
    mkdirSync(join(repo, '.cilo'));
    writeFileSync(join(repo, '.cilo', 'config.yml'), `project: ${W}\n`);
    const g = ['-c', 'user.name=t', '-c', 'user.email=t@t'];
    git(repo, 'init', '-q');
    git(repo, 'add', '-A');
    git(repo, ...g, 'commit', '-qm', 'one');
    git(repo, 'worktree', 'add', '-q', join(root, 'feature'));
    git(root, 'clone', '-q', repo, join(root, 'clone'));

    const main = await h.cli(['create', 'w1'], { cwd: repo });
    assert.equal(main.code, 0, main.stderr);
    const linked = await h.cli(['create', 'w2'], { cwd: join(root, 'feature') });
    assert.equal(linked.code, 0, linked.stderr);
    assert.equal(stateOf(h).environments.w2?.project, W);
    const clone = await h.cli(['create', 'w3'], { cwd: join(root, 'clone') });
    assert.equal(clone.code, 1, clone.stderr);
    assert.ok(clone.stderr.includes(`belongs to ${repo},`), clone.stderr);
  });
});

describe('state written before sources were kept', () => {
  const Q = uid('pm');
  let h: TestHome;
  let first: string;
  let second: string;
  before(() => {
    h = makeHome();
    first = folderNamed(Q);
    second = folderNamed(Q);
  });
  after(() => tearDown(h, Q, join(first, '..'), join(second, '..')));

  test('a current-version state without sources: the project gets its environments\' source and keeps working', LIMIT, async () => {
    const c = await h.cli(['create', 'q1'], { cwd: first });
    assert.equal(c.code, 0, c.stderr);
    // the state as the previous cilo wrote it: no `projects`, and an environment made from the second folder
    await editState(h, (s) => {
      delete s.projects;
      const q1 = s.environments.q1!;
      s.environments.q9 = { ...q1, name: 'q9', source: second, workspace: join(h.home, 'envs', Q, 'q9'), subnet: '10.255.255.0/24', created_at: new Date(Date.parse(q1.created_at) + 1000).toISOString() };
    });
    const list = await h.cli(['list', '--all', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((e) => e.name).sort(), ['q1', 'q9']);
    assert.match(list.stderr, new RegExp(`project "${Q}" now belongs to ${first}; its environments q9 made from ${second} keep working`), 'the migration says what it found');
    assert.equal(stateOf(h).projects?.[Q]?.source, first, 'recorded from the oldest environment');
    assert.doesNotMatch((await h.cli(['list', '--all'])).stderr, /now belongs to/, 'said once');

    const refused = await h.cli(['create', 'q2'], { cwd: second });
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(`belongs to ${first}`), refused.stderr);
    const ok = await h.cli(['create', 'q3'], { cwd: first });
    assert.equal(ok.code, 0, ok.stderr);
    await editState(h, (s) => {
      delete s.environments.q9;
    });
  });

  test('a version-2 state: its projects keep their sources (gone from this machine), and the name is not given to another folder', LIMIT, async () => {
    const S = uid('pv');
    const h2 = makeHome();
    const base = h2.baseSubnet.split('.').slice(0, 2).join('.');
    const dir = folderNamed(S);
    try {
      const original = readFileSync(join(ROOT, 'test', 'fixtures', 'state-v2.json'), 'utf8')
        .replaceAll('shop', S)
        .replaceAll('blog', `${S}-b`)
        .replaceAll('10.224.', `${base}.`)
        .replace('"dns_port": 5354', `"dns_port": ${h2.dnsPort}`);
      writeFileSync(join(h2.home, 'state.json'), original);
      const list = await h2.cli(['list', '--all', '--json']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(stateOf(h2).projects?.[S]?.source, `/home/dev/src/${S}`);
      const r = await h2.cli(['create', 'x1', '--json'], { cwd: dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const doc = JSON.parse(r.stdout) as Failure;
      assert.equal(doc.code, 'PROJECT_TAKEN');
      assert.ok(doc.message.includes(`/home/dev/src/${S} (which no longer exists)`), doc.message);
      assert.match(doc.hint ?? '', /If the project moved here, destroy its old environments \(`cilo destroy agent-1 dev-/);
      assert.equal(stateOf(h2).environments.x1, undefined);
    } finally {
      await tearDown(h2, S, join(dir, '..'));
    }
  });
});

