/**
 * Issue 27, "Dashboard speed": one background dashboard per home however many `cilo ui
 * --detach` run at once; the datasets' sizes are measured in the background and shown with
 * when they were measured; a `down` made outside the page reaches its event stream. Against a
 * real engine and a real shared postgres with private databases. No test here asserts a duration.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import { CHROMIUM, loadPlaywright } from '../support/chromium.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { ensureDbImages } from '../support/fixture-images.js';
import { copyFixture, makeHome, tearDown, uid, type TestHome } from './helpers.js';
import { http, openEvents, signIn, startUi, type RunningUi } from './ui-helpers.js';

/** The pids of the background dashboards (`cilo ui ... --instance`) of this home. */
function backgroundDashboards(home: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!args.includes('ui') || !args.includes('--instance')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`CILO_HOME=${home}`)) out.push(Number(pid));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

describe('cilo ui --detach twice at once', () => {
  let h: TestHome;
  before(() => {
    h = makeHome();
  });
  after(async () => {
    await h.cli(['ui', 'stop']);
    await h.cleanup();
  });

  test('starts one server: both report it (same pid and URL), and only one runs', async () => {
    const runs = await Promise.all([0, 1].map(() => h.cli(['ui', '--detach', '--all', '--json'])));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const [a, b] = runs.map((r) => JSON.parse(r.stdout) as { started: boolean; pid: number; url: string });
    assert.ok(a && b);
    assert.deepEqual([a.pid, a.url], [b.pid, b.url], 'both report the same server');
    assert.deepEqual([a.started, b.started].sort(), [false, true], 'one started it, the other found it running');
    assert.deepEqual(backgroundDashboards(h.home), [a.pid], 'one dashboard process for the home');
    const status = JSON.parse((await h.cli(['ui', 'status', '--json'])).stdout) as { pid: number };
    assert.equal(status.pid, a.pid);
  });
});

const skip = ensureDbImages();
if (skip) console.log(`# ui-speed.test.ts (datasets) skipped: ${skip}`);

const playwright = await loadPlaywright();

interface Dataset {
  env: string;
  name: string;
  size: number | null;
  measured_at?: string | null;
}
interface Snapshot {
  environments: { name: string; status: string }[];
  shared: { service: string; datasets: Dataset[] }[];
}

describe('the dashboard with private databases in a shared postgres', { skip }, () => {
  let h: TestHome;
  let dir: string;
  let ui: RunningUi | undefined;
  let cookie = '';
  const project = uid('uis');

  before(async () => {
    h = makeHome();
    dir = copyFixture('datasets-pg');
    for (const env of ['e1', 'e2']) {
      const up = await h.cli(['up', env, '--project', project], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
    }
    ui = await startUi(h, ['--all']);
    cookie = await signIn(ui);
  });
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close().catch(() => undefined);
    await ui?.stop();
    await tearDown(h, project, dir);
  });

  test('sizes arrive on the event stream once measured, with when; the environment page shows them too', async () => {
    const u = ui!;
    const events = await openEvents(u.port, '/api/events', cookie);
    try {
      const measured = (d: unknown): boolean => {
        const sets = (d as Snapshot).shared.find((s) => s.service === 'db')?.datasets ?? [];
        return sets.length === 2 && sets.every((x) => typeof x.size === 'number' && x.size > 0 && typeof x.measured_at === 'string');
      };
      await events.next('snapshot', measured);
      const page = JSON.parse((await http(u.port, 'GET', '/api/env/e1', { headers: { cookie } })).body) as { datasets: Dataset[] };
      assert.equal(page.datasets.length, 1);
      assert.ok(typeof page.datasets[0]?.size === 'number' && page.datasets[0].size > 0, JSON.stringify(page.datasets));
      assert.match(String(page.datasets[0]?.measured_at), /^\d{4}-\d\d-\d\dT/);
    } finally {
      events.close();
    }
  });

  test('a down outside the page reaches its event stream; the other environment stays running', async () => {
    const u = ui!;
    const events = await openEvents(u.port, '/api/events', cookie);
    const statusOf = (env: string) => (d: unknown) => (d as Snapshot).environments.find((e) => e.name === env)?.status;
    try {
      await events.next('snapshot', (d) => statusOf('e1')(d) === 'running');
      const down = await h.cli(['down', 'e1']);
      assert.equal(down.code, 0, down.stderr);
      const snap = await events.next('snapshot', (d) => statusOf('e1')(d) === 'stopped');
      assert.equal(statusOf('e2')(snap), 'running');
    } finally {
      events.close();
    }
  });

  test('in the browser: sizes with how long ago they were measured; a down outside the page turns its row stopped', { skip: typeof playwright === 'string' ? playwright : false }, async () => {
    if (typeof playwright === 'string') return;
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(ui!.url);
    const cell = page.locator('tr[data-shared$="/db"] td').last();
    await cell
      .locator('span.dataset', { hasText: 'measured' })
      .first()
      .waitFor({ timeout: 60_000 })
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\npage errors: ${errors.join('; ')}\n${await page.locator('main').innerHTML()}`);
      });
    assert.match(String(await cell.textContent()), /^\S+_e1 \(\d+\.\d MB, measured [\dsmhd ]+ ago\), \S+_e2 \(\d+\.\d MB, measured [\dsmhd ]+ ago\)$/);
    await page.locator('tr[data-env="e2"] [data-field="status"]', { hasText: 'running' }).waitFor();
    const down = await h.cli(['down', 'e2']);
    assert.equal(down.code, 0, down.stderr);
    await page.locator('tr[data-env="e2"] [data-field="status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
    await page.click('a.env-link:text-is("e1")');
    await page.locator('#datasets span.dataset', { hasText: 'measured' }).waitFor({ timeout: 60_000 });
    assert.match(String(await page.locator('#datasets p').textContent()), /^db: \S+_e1 \(\d+\.\d MB, measured [\dsmhd ]+ ago\)$/);
    assert.deepEqual(errors, []);
  });

  test("Run doctor from the page answers with the doctor's report", async () => {
    const u = ui!;
    const r = await http(u.port, 'POST', '/api/doctor', { headers: { cookie, origin: `http://127.0.0.1:${u.port}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 200, r.body);
    const record = JSON.parse(r.body) as { report: { engine: { reachable: boolean } } };
    assert.equal(record.report.engine.reachable, true);
  });
});
