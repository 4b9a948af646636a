/**
 * Issue 23, "Truth": `status`, `list`, the manifest and `up` never call an environment running
 * over a dead service. A service that exited (other than a one-shot job that completed) or keeps
 * restarting makes it `degraded`, naming the service and why; `up` does not call a crash loop
 * ready. Fixture: test/fixtures/degraded.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { http, signIn, startUi } from './ui-helpers.js';

interface Problem {
  service: string;
  reason: string;
}
interface ServiceJson {
  name: string;
  state: string;
  ready_by: string | null;
}
interface ManifestJson {
  status: string;
  problems: Problem[];
  services: ServiceJson[];
}
interface ListJson {
  name: string;
  status: string;
  problems: Problem[];
}

before(() => ensureFixtureImage());

describe('degraded: which service, and why', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('lv');
  before(() => {
    h = makeHome();
    dir = copyFixture('degraded');
  });
  after(() => tearDown(h, project, dir));

  async function manifest(env: string): Promise<ManifestJson> {
    const r = await h.cli(['status', env, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ManifestJson;
  }

  async function listed(env: string): Promise<ListJson | undefined> {
    const r = await h.cli(['list', '--all', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as ListJson[]).find((e) => e.name === env);
  }

  async function containerOf(env: string, service: string): Promise<string> {
    const [c] = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, `com.docker.compose.service=${service}`] });
    assert.ok(c, `a container of ${service} in ${env}`);
    return c.Id;
  }

  function touch(id: string, file: string): void {
    const r = spawnSync('docker', ['exec', id, 'touch', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }

  test('one-shot jobs that exited 0 (no restart policy, or on-failure) are not degraded: up succeeds and status says running', async () => {
    const [one, two] = await Promise.all(['one', 'two'].map((env) => h.cli(['up', env, '--project', project, '--timeout', '120'], { cwd: dir })));
    assert.equal(one?.code, 0, one?.stderr);
    assert.equal(two?.code, 0, two?.stderr);
    const m = await manifest('one');
    assert.equal(m.status, 'running', JSON.stringify(m.problems));
    assert.deepEqual(m.problems, []);
    for (const job of ['migrate', 'seed']) {
      const s = m.services.find((x) => x.name === job);
      assert.deepEqual([s?.state, s?.ready_by], ['exited', 'completed'], job);
    }
    assert.equal((await listed('one'))?.status, 'running');
    assert.match((await h.cli(['status', 'one'])).stdout, /Status:\s+running\n/);
  });

  test('a service that exits 1 after it started: status, status --json, list and list --json say degraded, naming it and its exit code', async () => {
    touch(await containerOf('one', 'dies'), '/tmp/die');
    const m = await waitFor(
      async () => {
        const now = await manifest('one');
        return now.services.find((s) => s.name === 'dies')?.state === 'exited' && now;
      },
      { what: 'the service dies to exit', deadlineMs: 60_000, intervalMs: 200 },
    );
    assert.equal(m.status, 'degraded');
    assert.deepEqual(m.problems, [{ service: 'dies', reason: 'exited with code 1' }]);
    assert.equal(m.services.find((s) => s.name === 'dies')?.ready_by, null);
    const table = await h.cli(['status', 'one']);
    assert.match(table.stdout, /Status:\s+degraded: dies exited with code 1\n/);
    const l = await listed('one');
    assert.equal(l?.status, 'degraded');
    assert.deepEqual(l?.problems, [{ service: 'dies', reason: 'exited with code 1' }]);
    const list = await h.cli(['list', '--all']);
    assert.match(list.stdout, /one\s+\S+\s+degraded: dies exited with code 1/);
  });

  test('the dashboard says it too: degraded, naming the service and its exit code, on the main page and the environment page', async () => {
    const ui = await startUi(h, ['--all']);
    try {
      const cookie = await signIn(ui);
      const snap = await http(ui.port, 'GET', '/api/snapshot', { headers: { cookie } });
      assert.equal(snap.status, 200, snap.body);
      const row = (JSON.parse(snap.body) as { environments: ListJson[] }).environments.find((e) => e.name === 'one');
      assert.equal(row?.status, 'degraded');
      assert.deepEqual(row?.problems, [{ service: 'dies', reason: 'exited with code 1' }]);
      const page = await http(ui.port, 'GET', '/api/env/one', { headers: { cookie } });
      assert.equal(page.status, 200, page.body);
      const detail = JSON.parse(page.body) as ListJson;
      assert.equal(detail.status, 'degraded');
      assert.deepEqual(detail.problems, [{ service: 'dies', reason: 'exited with code 1' }]);
    } finally {
      await ui.stop();
    }
  });

  test('a service that crash-loops under restart: always is degraded at every look, never running, and up does not call it ready', async () => {
    touch(await containerOf('two', 'looper'), '/tmp/crash');
    await waitFor(async () => (await manifest('two')).problems.some((p) => p.service === 'looper'), { what: 'looper to be named a problem', deadlineMs: 60_000, intervalMs: 200 });
    // Between its restarts it runs for a moment: no look may call the environment running then.
    for (let i = 0; i < 15; i++) {
      const m = await manifest('two');
      assert.equal(m.status, 'degraded', `look ${i}: ${JSON.stringify(m.services.find((s) => s.name === 'looper'))}`);
      assert.deepEqual(
        m.problems.map((p) => p.service),
        ['looper'],
      );
      assert.match(m.problems[0]?.reason ?? '', /^keeps restarting \(\d+ restarts?(, last exit code 1)?\)$/);
      const l = await listed('two');
      assert.equal(l?.status, 'degraded');
      assert.match(l?.problems[0]?.reason ?? '', /^keeps restarting/);
    }
    const again = await h.cli(['up', 'two', '--project', project, '--timeout', '40'], { cwd: dir });
    assert.equal(again.code, 1, `up called a crash loop ready: ${again.stdout}`);
    assert.match(again.stderr, /Service "looper" of environment "two" keeps restarting \(\d+ restarts/);
    assert.doesNotMatch(again.stderr, /after 40 s/, 'known for a crash loop at once, not at the end of --timeout');
  });
});
