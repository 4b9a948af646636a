/**
 * Issue 23, "Truth": the dashboard's destroy dialog says exactly what is removed. The page reads
 * it from GET /api/env/<env>/destroy before asking for the name: the containers, network,
 * volumes and workspace by name, the private datasets that are dropped, and the shared services
 * that are released (not removed). Against a real shared postgres with a private database.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDbImages } from '../support/fixture-images.js';
import { docker, makeHome, ROOT, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { http, signIn, startUi, type RunningUi } from './ui-helpers.js';

const skip = ensureDbImages();
if (skip) console.log(`# ui-destroy.test.ts skipped: ${skip}`);

interface Plan {
  env: string;
  containers: string[];
  network: string;
  volumes: string[];
  workspace: string | null;
  datasets: { service: string; engine: string; name: string }[];
  shared: string[];
  text: string;
}

interface EnvState {
  workspace: string;
  datasets?: Record<string, { name: string }>;
}

describe('the destroy dialog names what goes and what stays', { skip }, () => {
  let h: TestHome;
  let ui: RunningUi | undefined;
  let dir: string;
  const p = uid('uid');
  before(async () => {
    h = makeHome();
    dir = mkdtempSync(join(tmpdir(), 'cilo-uid-'));
    cpSync(join(ROOT, 'test', 'fixtures', 'datasets-pg'), dir, { recursive: true });
  });
  after(async () => {
    await ui?.stop();
    await tearDown(h, p, dir);
  });

  test('GET /api/env/<env>/destroy: its containers, network, workspace, its private database by name (dropped), the shared db released; then destroy does that', async () => {
    const up = await h.cli(['up', 'e1', '--project', p], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const rec = (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, EnvState> }).environments.e1;
    const dataset = rec?.datasets?.db?.name;
    assert.ok(rec && dataset, 'e1 has a private database');
    const own = (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-e1`] })).map((c) => (c.Names[0] ?? '').replace(/^\//, '')).sort();
    assert.ok(own.length > 0);

    ui = await startUi(h, ['--all']);
    const cookie = await signIn(ui);
    const r = await http(ui.port, 'GET', '/api/env/e1/destroy', { headers: { cookie } });
    assert.equal(r.status, 200, r.body);
    const plan = JSON.parse(r.body) as Plan;
    assert.deepEqual(plan.containers, own);
    assert.equal(plan.network, `cilo_${p}_e1`);
    assert.equal(plan.workspace, rec.workspace);
    assert.deepEqual(plan.datasets, [{ service: 'db', engine: 'postgres', name: dataset }]);
    assert.deepEqual(plan.shared, ['db']);
    for (const c of own) assert.ok(plan.text.includes(c), `the text names container ${c}: ${plan.text}`);
    assert.ok(plan.text.includes(`its network cilo_${p}_e1`), plan.text);
    assert.ok(plan.text.includes(`its workspace ${rec.workspace} with every file in it`), plan.text);
    assert.ok(plan.text.includes(`It drops its private dataset ${dataset} (postgres, in shared service db): that data is gone.`), plan.text);
    assert.ok(plan.text.includes('The shared service db is released, not removed'), plan.text);
    assert.doesNotMatch(plan.text, /removes[^.]*\bdb\b[^.]*container/, 'the shared container is not among what is removed');

    // The dialog's words are what destroy does.
    const gone = await http(ui.port, 'POST', '/api/env/e1/destroy', { headers: { cookie, origin: `http://127.0.0.1:${ui.port}`, 'content-type': 'application/json' }, body: JSON.stringify({ confirm: 'e1' }) });
    assert.equal(gone.status, 200, gone.body);
    assert.deepEqual(await docker.listContainers({ label: [`com.docker.compose.project=cilo-${p}-e1`] }), []);
    assert.equal((await docker.listNetworks({ name: [`cilo_${p}_e1`] })).filter((n) => n.Name === `cilo_${p}_e1`).length, 0);
    assert.equal(existsSync(rec.workspace), false);
    const shared = await docker.inspectContainer(`cilo_shared_${p}_db`);
    assert.equal(shared?.State.Running, true, 'the shared db keeps running');
    await waitFor(
      () => {
        const dbs = readDatabases(p);
        return !dbs.includes(dataset) && dbs;
      },
      { what: `database ${dataset} to be dropped`, deadlineMs: 30_000, intervalMs: 250 },
    );
  });
});

/** The shared postgres's databases, read through its own psql (there is no client on the host). */
function readDatabases(p: string): string[] {
  const r = spawnSync('docker', ['exec', '-e', 'PGPASSWORD=app', `cilo_shared_${p}_db`, 'psql', '-h', '127.0.0.1', '-U', 'app', '-d', 'postgres', '-Atc', 'SELECT datname FROM pg_database ORDER BY 1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}
