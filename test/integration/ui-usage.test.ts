/**
 * The dashboard shows what each environment and shared service uses (issue #26, "See it": the
 * columns of `cilo top` and a machine total), in Debian's chromium driven by playwright-core.
 * Skipped, saying why, where chromium or playwright-core is missing. The usage comes from its own
 * endpoint, asked every few seconds only while the page is visible.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import { CHROMIUM, SHOTS, loadPlaywright } from '../support/chromium.js';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { copyFixture, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { http, signIn, startUi, type RunningUi } from './ui-helpers.js';



const playwright = await loadPlaywright();
const skip = typeof playwright === 'string' ? playwright : false;

interface Usage { cpu_percent: number; memory_bytes: number }
interface UsageAnswer {
  environments: { name: string; project: string; containers: number; usage: Usage }[];
  shared: { service: string; users: string[]; usage: Usage }[];
  shown: Usage;
  total: { usage: Usage; containers: number };
  engine: { memory_bytes: number | null; cpus: number | null } | null;
}

/** `12.3 MB` as bytes (decimal units, as the page and `cilo top` print them). */
function parseBytes(text: string): number {
  const m = /^([\d.]+) (B|kB|MB|GB|TB)\b/.exec(text.trim());
  assert.ok(m, `a size: "${text}"`);
  return Number(m[1]) * 1000 ** ['B', 'kB', 'MB', 'GB', 'TB'].indexOf(m[2] ?? 'B');
}

/** A script that makes the page believe it is `state` (a string: the test runner's transform would add helpers a page lacks to a function). */
function seen(state: 'hidden' | 'visible'): string {
  return `Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => '${state}' }); document.dispatchEvent(new Event('visibilitychange'));`;
}

describe("cilo ui shows what the containers use", { skip }, () => {
  let h: TestHome;
  let dir: string;
  let ui: RunningUi | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const project = uid('uiu');

  before(async () => {
    ensureFixtureImage();
    mkdirSync(SHOTS, { recursive: true });
    h = makeHome();
    dir = copyFixture('ui-stack', { '.cilo/config.yml': `project: ${project}\n` });
    const up = await h.cli(['up', 'u1'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    ui = await startUi(h, ['--project', project]);
    if (typeof playwright === 'string') return;
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await ui?.stop();
    await tearDown(h, project, dir);
  });

  test('/api/usage answers each environment and shared service with its use, the total and the engine, behind the session', async () => {
    assert.equal((await http(ui!.port, 'GET', '/api/usage')).status, 401);
    const cookie = await signIn(ui!);
    const r = await http(ui!.port, 'GET', '/api/usage', { headers: { cookie } });
    assert.equal(r.status, 200, r.body);
    const u = JSON.parse(r.body) as UsageAnswer;
    const env = u.environments.find((e) => e.name === 'u1');
    assert.ok(env, r.body);
    assert.equal(env.project, project);
    assert.equal(env.containers, 2, 'web and worker; the shared cache on its own row');
    assert.ok(env.usage.memory_bytes > 0, r.body);
    const cache = u.shared.find((s) => s.service === 'cache');
    assert.ok(cache && cache.users.includes('u1'), r.body);
    assert.ok(u.total.containers >= 3, r.body);
    assert.ok(u.total.usage.memory_bytes >= env.usage.memory_bytes + cache.usage.memory_bytes, r.body);
    assert.ok(u.engine && (u.engine.memory_bytes ?? 0) > 0, `docker info's MemTotal: ${r.body}`);
  });

  test("the page shows the environment's memory, the shared service's, and a total row", async () => {
    await page.goto(ui!.url);
    const memory = page.locator('#environments tr[data-env="u1"] [data-usage="memory"]');
    await memory.filter({ hasText: /B$/ }).waitFor({ timeout: 60_000 });
    assert.ok(parseBytes((await memory.textContent()) ?? '') > 0, `u1's memory: ${await memory.textContent()}`);
    assert.match((await page.locator('#environments tr[data-env="u1"] [data-usage="cpu"]').textContent()) ?? '', /^\d+\.\d%$/);
    assert.match((await page.locator('#environments tr[data-env="u1"] [data-usage="net"]').textContent()) ?? '', /B \/ .*B$/);
    const shared = page.locator(`#shared tr[data-shared="${project}/cache"] [data-usage="memory"]`);
    await shared.filter({ hasText: /B$/ }).waitFor({ timeout: 60_000 });
    assert.ok(parseBytes((await shared.textContent()) ?? '') > 0);
    const total = page.locator('#machine tr[data-total="cilo"]');
    await total.waitFor();
    assert.ok(parseBytes((await total.locator('[data-usage="memory"]').textContent()) ?? '') > 0);
    assert.ok(Number(await total.locator('[data-usage="containers"]').textContent()) >= 3);
    await page.locator('#machine tr[data-total="project"]').waitFor();
    await page.locator('#machine tr[data-total="engine"] [data-usage="memory"]', { hasText: /in all$/ }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'ui-usage.png'), fullPage: true });
  });

  test('the page asks again every few seconds while visible, and not while hidden', async () => {
    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/usage') asked.push(r.url());
    });
    await waitFor(async () => asked.length >= 2, { what: 'two more polls of /api/usage while the page is visible', deadlineMs: 60_000, intervalMs: 200 });
    await page.evaluate(seen('hidden'));
    await new Promise((r) => setTimeout(r, 1500)); // a poll already on its way when the page was hidden
    const before = asked.length;
    await new Promise((r) => setTimeout(r, 8000)); // more than two poll intervals
    assert.equal(asked.length, before, 'a hidden page asks for nothing');
    await page.evaluate(seen('visible'));
    await waitFor(async () => asked.length > before, { what: 'a poll once the page is visible again', deadlineMs: 30_000, intervalMs: 200 });
  });

  test('the page threw no error all along', () => {
    assert.deepEqual(pageErrors, []);
  });
});
