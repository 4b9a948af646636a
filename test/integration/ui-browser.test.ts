/**
 * `cilo ui` in a real browser: Debian's chromium driven by playwright-core (which downloads no
 * browser). Skipped, saying why, where chromium or playwright-core is missing; CI (.ci/run)
 * installs chromium. Screenshots of each page go to test-output/ for a person to look at.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import { CHROMIUM, SHOTS, loadPlaywright } from '../support/chromium.js';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { startUi, type RunningUi } from './ui-helpers.js';



const playwright = await loadPlaywright();
const skip = typeof playwright === 'string' ? playwright : false;

async function containerStates(project: string, env: string): Promise<string[]> {
  return (await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`] })).map((c) => c.State);
}

describe('cilo ui in Chromium', { skip }, () => {
  let h: TestHome;
  let dir: string;
  let ui: RunningUi | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const project = uid('uib');

  before(async () => {
    ensureFixtureImage();
    mkdirSync(SHOTS, { recursive: true });
    h = makeHome();
    dir = copyFixture('ui-stack', {
      '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n`,
    });
    for (const env of ['alpha', 'beta']) {
      const up = await h.cli(['up', env], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
    }
    ui = await startUi(h);
    if (typeof playwright === 'string') return;
    browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  // Every browser and server this file started is closed here, also when a test failed.
  after(async () => {
    await browser?.close().catch(() => undefined);
    await ui?.stop();
    await tearDown(h, project, dir);
  });

  test('opens the printed URL, signs in, and shows both environments', async () => {
    await page.goto(ui!.url);
    await page.waitForSelector('tr[data-env="alpha"]');
    await page.waitForSelector('tr[data-env="beta"]');
    assert.equal(await page.locator('#environments tbody tr').count(), 2);
    assert.ok(!page.url().includes('token='), 'the token left the address bar');
    assert.equal(await page.locator('tr[data-env="alpha"] [data-field="status"]').textContent(), 'running');
    await page.locator('#live[data-state="live"]').waitFor();
  });

  test('down turns the row stopped without a reload, and the containers are really stopped', async () => {
    await page.evaluate(() => Object.assign(window, { ciloNoReload: true }));
    await page.click('tr[data-env="alpha"] button[data-action="down"]');
    await page.locator('tr[data-env="alpha"] [data-field="status"]', { hasText: 'stopped' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { ciloNoReload?: boolean }).ciloNoReload), true, 'the page was not reloaded');
    const states = await containerStates(project, 'alpha');
    assert.ok(states.length >= 2 && states.every((s) => s === 'exited'), `alpha's containers: ${states.join(', ')}`);
    assert.equal(await page.locator('tr[data-env="beta"] [data-field="status"]').textContent(), 'running');
    await page.click('#run-doctor');
    await page.locator('.doctor-summary').waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'ui-home.png'), fullPage: true });
  });

  test("an environment's page shows its services and a line its container printed", async () => {
    await page.click('a.env-link:text-is("beta")');
    await page.locator('#services tr[data-service="web"]').waitFor();
    assert.equal(await page.locator('#services tbody tr').count(), 3);
    await page.locator('#logs .log-line', { hasText: 'hello-from-beta' }).waitFor({ timeout: 60_000 });
    await page.locator('#logs .log-line', { hasText: 'request 2 served' }).waitFor({ timeout: 60_000 });
    await page.selectOption('#log-service', 'worker');
    await page.locator('#logs .log-line', { hasText: 'worker ready' }).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#logs .log-line', { hasText: 'served' }).count(), 0, 'only the chosen service');
    await page.selectOption('#log-service', '');
    await page.locator('#logs .log-line', { hasText: 'served' }).first().waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, 'ui-environment.png'), fullPage: true });
    await page.click('a.back');
    await page.locator('#environments').waitFor();
    const streams = async () => (await page.evaluate(async () => (await (await fetch('/api/server')).json()) as { log_streams: number })).log_streams;
    await waitFor(async () => (await streams()) === 0, { what: 'leaving the page to end its log stream', deadlineMs: 60_000, intervalMs: 100 });
  });

  test("up on a stopped environment's page starts it, and its log goes on from where it ended", async () => {
    await page.click('a.env-link:text-is("alpha")');
    await page.locator('#logs .log-line.note').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#logs .log-line', { hasText: 'hello-from-alpha' }).count(), 1);
    await page.click('.env-actions button[data-action="up"]');
    await page.locator('.env-header [data-field="status"]', { hasText: 'running' }).waitFor({ timeout: 90_000 });
    const states = await containerStates(project, 'alpha');
    assert.ok(states.length >= 2 && states.every((s) => s === 'running'), `alpha's containers: ${states.join(', ')}`);
    // The container printed its greeting again when it started: the log resumed, without repeating the old lines.
    await page.locator('#logs .log-line', { hasText: 'hello-from-alpha' }).nth(1).waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#logs .log-line', { hasText: 'hello-from-alpha' }).count(), 2);
    await page.click('a.back');
    await page.locator('tr[data-env="alpha"] [data-field="status"]', { hasText: 'running' }).waitFor();
  });

  test('destroy asks for the name typed again, then removes the environment', async () => {
    await page.click('tr[data-env="alpha"] button[data-action="destroy"]');
    const confirm = page.locator('#destroy-confirm');
    await page.locator('#destroy-dialog[open]').waitFor();
    // It says exactly what goes and what stays, as the server reads it for this environment.
    const what = page.locator('#destroy-what', { hasText: `its network cilo_${project}_alpha` });
    await what.waitFor();
    const text = (await what.textContent()) ?? '';
    assert.match(text, new RegExp(`^Destroying alpha removes its \\d+ containers cilo-${project}-alpha-\\S+`));
    assert.match(text, /its workspace \/\S+\/alpha with every file in it/);
    assert.match(text, /The shared service cache is released, not removed/);
    assert.equal(await confirm.isDisabled(), true);
    await page.fill('#destroy-input', 'alph');
    assert.equal(await confirm.isDisabled(), true);
    await page.fill('#destroy-input', 'alpha');
    assert.equal(await confirm.isDisabled(), false);
    await page.screenshot({ path: join(SHOTS, 'ui-destroy.png') });
    await confirm.click();
    await page.locator('tr[data-env="alpha"]').waitFor({ state: 'detached', timeout: 60_000 });
    assert.deepEqual(await containerStates(project, 'alpha'), []);
    assert.equal(await page.locator('#environments tbody tr').count(), 1);
  });

  test('the page threw no error all along', () => {
    assert.deepEqual(pageErrors, []);
  });
});
