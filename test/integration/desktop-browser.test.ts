/**
 * Issue #25: on a simulated Docker Desktop (test/support/desktop-sim.ts), the dashboard's links
 * open in Chromium through the router. Everything runs as the test's unprivileged user, whose
 * traffic to container addresses is rejected: cilo, its dashboard, and Debian's chromium (started
 * by hand as that user with a DevTools port, then driven by playwright-core over CDP, since
 * playwright cannot start a browser under another uid). Chromium on Linux trusts what the user's
 * NSS database holds (~/.pki/nssdb): cilo's CA goes there with certutil, as a user does for
 * Chromium and Firefox, and no certificate error is ignored. Skipped, saying why, without root,
 * iptables, chromium, certutil or playwright-core.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import { CHROMIUM, SHOTS, loadPlaywright } from '../support/chromium.js';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CADDY_IMAGE, ensureCaddyImage } from '../support/caddy-image.js';
import { desktopSimSkip, startDesktopSim, type DesktopSim, type RunResult } from '../support/desktop-sim.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome, freeLoopbackPort } from './helpers.js';

const DOCKER_POOLS = ['172.16.0.0/12', '192.168.0.0/16'];


const playwright = await loadPlaywright([{ program: '/usr/bin/certutil', why: 'no certutil to give Chromium the CA (Debian/Ubuntu: apt-get install libnss3-tools)' }]);
const skip = desktopSimSkip() || (typeof playwright === 'string' ? playwright : false) || ensureCaddyImage() || false;
if (skip) console.log(`# desktop-browser.test.ts skipped: ${skip}`);

/** Waits for a child's output to match `re`; rejects when it exits first or after 60 s. */
function lineOf(child: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within 60 s; it printed: ${out.slice(-2000)}`)), 60_000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: exited ${code}; it printed: ${out.slice(-2000)}`));
    });
  });
}

/** Ends a child this file started, by its pid, and waits for it. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

/** Debian's chromium as the simulated user (its HOME, so its NSS database), driven over CDP. */
async function startChromiumAs(sim: DesktopSim, profile: string): Promise<{ chromium: ChildProcess; browser: Browser; page: Page }> {
  if (typeof playwright === 'string') throw new Error(playwright);
  const chromium = sim.start(CHROMIUM, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-port=0', `--user-data-dir=${join(sim.dir, profile)}`, 'about:blank']);
  try {
    const ws = (await lineOf(chromium, /DevTools listening on (ws:\/\/\S+)/, 'chromium'))[1] ?? '';
    const browser = await playwright.chromium.connectOverCDP(ws);
    const context = browser.contexts()[0] ?? (await browser.newContext());
    return { chromium, browser, page: await context.newPage() };
  } catch (e) {
    await stop(chromium);
    throw e;
  }
}

describe("the dashboard's links open in Chromium through the router (simulated Docker Desktop)", { skip }, () => {
  let h: TestHome;
  let sim: DesktopSim;
  let dir: string;
  let httpPort: number;
  let httpsPort: number;
  let ui: ChildProcess | undefined;
  let chromium: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let uiUrl: string;
  const project = uid('reachui');

  const startChromium = (profile: string): ReturnType<typeof startChromiumAs> => startChromiumAs(sim, profile);
  let nss: string;
  const cilo = (args: string[]): Promise<RunResult> => sim.run(process.execPath, [CLI, ...args], { cwd: dir, env: h.env });
  const must = async (args: string[]): Promise<RunResult> => {
    const r = await cilo(args);
    assert.equal(r.code, 0, `cilo ${args.join(' ')} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
    return r;
  };

  before(async () => {
    if (typeof playwright === 'string') return;
    ensureFixtureImage();
    mkdirSync(SHOTS, { recursive: true });
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    sim = startDesktopSim([h.baseSubnet, ...DOCKER_POOLS]);
    sim.own(h.home);
    dir = copyFixture('desktop-web', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n` });
    sim.own(dir);
    httpPort = await freeLoopbackPort();
    httpsPort = await freeLoopbackPort();
    await must(['init', '--routing', 'auto', '--router-http-port', String(httpPort), '--router-https-port', String(httpsPort), '--dns-suffix', '.localhost']);
    await must(['up', 'alpha']);
    // cilo's CA into the user's NSS database, where Chromium on Linux looks for trust.
    const ca = (await must(['trust', '--print'])).stdout.trim();
    nss = `sql:${join(sim.dir, '.pki', 'nssdb')}`;
    await sim.run('mkdir', ['-p', join(sim.dir, '.pki', 'nssdb')]);
    for (const args of [['-N', '-d', nss, '--empty-password'], ['-A', '-d', nss, '-t', 'C,,', '-n', 'cilo local CA', '-i', ca]]) {
      const r = await sim.run('certutil', args);
      assert.equal(r.code, 0, `certutil ${args.join(' ')}: ${r.stderr}`);
    }
    ui = sim.start(process.execPath, [CLI, 'ui', '--port', '0', '--json', '--all'], { cwd: dir, env: h.env });
    uiUrl = (JSON.parse((await lineOf(ui, /^\{[\s\S]*?^\}$/m, 'cilo ui'))[0]) as { url: string }).url;
    ({ chromium, browser, page } = await startChromium('chromium'));
  });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await stop(chromium);
    await stop(ui);
    if (h) {
      await cilo(['destroy', '--all', '--force']).catch(() => undefined);
      await h.cleanup();
    }
    await removeProjectResources(project);
    sim?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Chromium aborts a load with ERR_NETWORK_CHANGED when an interface comes or goes on this
   * machine, which the engine does whenever any test makes or removes a network. That says
   * nothing of the router: the same URL is loaded again (at most three times).
   */
  async function reloadAfterNetworkChange(p: Page): Promise<void> {
    for (let i = 0; i < 3 && (await p.content()).includes('ERR_NETWORK_CHANGED'); i++) {
      await p.reload().catch(() => undefined);
      await p.waitForLoadState('load');
    }
  }

  async function gotoSteady(p: Page, url: string): ReturnType<Page['goto']> {
    for (let i = 0; ; i++) {
      try {
        const r = await p.goto(url);
        if (i < 3 && (await p.content()).includes('ERR_NETWORK_CHANGED')) continue;
        return r;
      } catch (e) {
        // Playwright names the error page it was sent to, not the error: read it from the page.
        const changed = e instanceof Error && (e.message.includes('ERR_NETWORK_CHANGED') || (e.message.includes('chrome-error://') && (await p.content().catch(() => '')).includes('ERR_NETWORK_CHANGED')));
        if (i >= 3 || !changed) throw e;
      }
    }
  }

  test("a service's links on the environment's page (http and https), clicked, load the service through the router", async () => {
    await gotoSteady(page, uiUrl);
    await page.waitForSelector('tr[data-env="alpha"]');
    await page.click('a.env-link:text-is("alpha")');
    const links = page.locator('#services tr[data-service="web"] td.url a');
    await links.first().waitFor();
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    assert.deepEqual(hrefs, [`http://web.alpha.localhost:${httpPort}`, `https://web.alpha.localhost:${httpsPort}`]);
    for (const [i, href] of hrefs.entries()) {
      const [opened] = await Promise.all([page.context().waitForEvent('page'), links.nth(i).click()]);
      await opened.waitForLoadState('load');
      await reloadAfterNetworkChange(opened);
      // An https page Chromium did not trust would show its interstitial here, not the service's page.
      assert.equal(((await opened.textContent('body')) ?? '').trim(), 'web-of-alpha', `${href} showed: ${await opened.content()}`);
      assert.equal(opened.url(), `${href}/`);
      await opened.screenshot({ path: join(SHOTS, `desktop-router-link-${href.slice(0, href.indexOf(':'))}.png`) });
      await opened.close();
    }
  });

  test('the https URL loads with cilo\'s CA trusted, and the http one too', async () => {
    for (const url of [`https://web.alpha.localhost:${httpsPort}/`, `http://web.alpha.localhost:${httpPort}/`]) {
      const r = await gotoSteady(page, url);
      assert.equal(r?.status(), 200, url);
      assert.equal(((await page.textContent('body')) ?? '').trim(), 'web-of-alpha', url);
    }
  });

  test('without cilo\'s CA in its NSS database, Chromium refuses the https page (the trust above was real)', async () => {
    const r = await sim.run('certutil', ['-D', '-d', nss, '-n', 'cilo local CA']);
    assert.equal(r.code, 0, r.stderr);
    const fresh = await startChromium('chromium-untrusting');
    try {
      const attempt = (): Promise<string> =>
        fresh.page.goto(`https://web.alpha.localhost:${httpsPort}/`).then(
          async () => `loaded: ${await fresh.page.content()}; NSS holds: ${(await sim.run('certutil', ['-L', '-d', nss])).stdout}`,
          (e: Error) => e.message,
        );
      // A network another test makes meanwhile aborts the load with ERR_NETWORK_CHANGED (see gotoSteady): that says nothing of trust, so it is tried again.
      let refused = await attempt();
      for (let i = 0; i < 3 && refused.includes('ERR_NETWORK_CHANGED'); i++) refused = await attempt();
      assert.match(refused, /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await fresh.browser.close().catch(() => undefined);
      await stop(fresh.chromium);
    }
  });
});
