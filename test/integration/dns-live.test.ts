/**
 * DNS against real environments: names appear when `up` returns and vanish when `down` or
 * `destroy` returns (within 100 ms), and a client querying in a loop while other environments
 * come and go never sees a failed query.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addressesOf, queryDns } from '../../src/dns/client.js';
import { ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome } from './helpers.js';
import { webDbProject } from './fixtures.js';

let h: TestHome;
let dir: string;
const project = uid('dl');
const ipOf = (env: string, service: string): string => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments[env].services[service].ip;

async function answers(name: string): Promise<{ rcode: string; ips: string[] }> {
  const p = (await queryDns({ port: h.dnsPort, name, timeoutMs: 1000 })) as { rcode?: string };
  return { rcode: p.rcode ?? '?', ips: addressesOf(p as Parameters<typeof addressesOf>[0]) };
}

/** Polls until `ok` holds; returns the ms it took after the command returned, or Infinity. */
async function within(ms: number, ok: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 <= ms) {
    if (await ok()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 5));
  }
  return Infinity;
}

before(async () => {
  ensureFixtureImage();
  h = makeHome();
  dir = webDbProject();
  const r = await h.cli(['up', 'steady', '--project', project], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await h.cli(['destroy', '--all', '--force']);
  await h.cleanup();
  await removeProjectResources(project);
  rmSync(dir, { recursive: true, force: true });
});

test('names of a real environment resolve from the host, apex and wildcard to the ingress', async () => {
  assert.deepEqual((await answers('db.steady.test')).ips, [ipOf('steady', 'db')]);
  assert.deepEqual((await answers('WEB.Steady.TEST')).ips, [ipOf('steady', 'web')]);
  assert.deepEqual((await answers(`${project}.steady.test`)).ips, [ipOf('steady', 'web')]);
  assert.deepEqual((await answers(`a.b.${project}.steady.test`)).ips, [ipOf('steady', 'web')]);
  assert.equal((await answers('nosuch.steady.test')).rcode, 'NXDOMAIN');
  assert.equal((await answers('example.com')).rcode, 'REFUSED');
});

test('while another environment is brought up, stopped and destroyed, a query loop sees no failure; changes answer within 100 ms', async () => {
  let stop = false;
  let queries = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (!stop) {
      try {
        const a = await answers('web.steady.test');
        if (a.ips[0] !== ipOf('steady', 'web')) failures.push(`answer ${a.rcode} ${a.ips.join(',')}`);
      } catch (e) {
        failures.push(String(e));
      }
      queries++;
    }
  })();
  try {
    const up = await h.cli(['up', 'moving', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const upMs = await within(100, async () => (await answers('web.moving.test')).ips[0] === ipOf('moving', 'web'));
    assert.ok(upMs <= 100, `a fresh up resolves ${upMs} ms after it returned`);

    const down = await h.cli(['down', 'moving']);
    assert.equal(down.code, 0, down.stderr);
    const downMs = await within(100, async () => (await answers('web.moving.test')).rcode === 'NXDOMAIN');
    assert.ok(downMs <= 100, `a stopped environment stops resolving within 100 ms (${downMs})`);

    const up2 = await h.cli(['up', 'moving']);
    assert.equal(up2.code, 0, up2.stderr);
    assert.ok((await within(100, async () => (await answers('db.moving.test')).ips.length === 1)) <= 100);

    const destroy = await h.cli(['destroy', 'moving', '--force']);
    assert.equal(destroy.code, 0, destroy.stderr);
    const goneMs = await within(100, async () => (await answers(`${project}.moving.test`)).rcode === 'NXDOMAIN');
    assert.ok(goneMs <= 100, `a destroyed environment stops resolving within 100 ms (${goneMs})`);
  } finally {
    stop = true;
    await loop;
  }
  assert.ok(queries > 100, `the loop ran (${queries} queries)`);
  assert.deepEqual(failures, []);
});
