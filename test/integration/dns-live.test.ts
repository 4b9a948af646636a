/**
 * DNS against real environments: names appear after `up` and vanish after `down` or `destroy`
 * (polled; how soon is measured by bench/), and a client querying in a loop while other
 * environments come and go never sees a failed query.
 */
import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ask, resolveA, waitForAddresses } from '../support/dns-query.js';
import { copyFixture, ensureFixtureImage, makeHome, removeProjectResources, uid, type TestHome } from './helpers.js';

let h: TestHome;
let dir: string;
const project = uid('dl');
const ipOf = (env: string, service: string): string => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments[env].services[service].ip;
const addresses = (name: string): Promise<string[]> => resolveA(h.dnsPort, name);

const resolvesTo = (name: string, want: string[], after: string): Promise<void> => waitForAddresses(h.dnsPort, name, want, after);

before(async () => {
  ensureFixtureImage();
  h = makeHome();
  dir = copyFixture('web-db');
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
  assert.deepEqual(await addresses('db.steady.test'), [ipOf('steady', 'db')]);
  assert.deepEqual(await addresses('WEB.Steady.TEST'), [ipOf('steady', 'web')]);
  assert.deepEqual(await addresses(`${project}.steady.test`), [ipOf('steady', 'web')]);
  assert.deepEqual(await addresses(`a.b.${project}.steady.test`), [ipOf('steady', 'web')]);
  const nx = await ask({ port: h.dnsPort, name: 'nosuch.steady.test' });
  assert.deepEqual([nx.rcode, nx.aa, nx.answers.length], ['NXDOMAIN', true, 0]);
  const refused = await ask({ port: h.dnsPort, name: 'example.com' });
  assert.deepEqual([refused.rcode, refused.answers.length], ['REFUSED', 0]);
});

test('while another environment is brought up, stopped and destroyed, a query loop sees no failure; its names follow each change', async () => {
  let stop = false;
  let queries = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (!stop) {
      try {
        const a = await addresses('web.steady.test');
        if (a.join() !== ipOf('steady', 'web')) failures.push(`answer ${a.join(',') || 'NXDOMAIN'}`);
      } catch (e) {
        failures.push(String(e));
      }
      queries++;
    }
  })();
  try {
    const up = await h.cli(['up', 'moving', '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    await resolvesTo('web.moving.test', [ipOf('moving', 'web')], 'a fresh up');

    const down = await h.cli(['down', 'moving']);
    assert.equal(down.code, 0, down.stderr);
    await resolvesTo('web.moving.test', [], 'down');

    const up2 = await h.cli(['up', 'moving']);
    assert.equal(up2.code, 0, up2.stderr);
    await resolvesTo('db.moving.test', [ipOf('moving', 'db')], 'up of the stopped environment');

    const destroy = await h.cli(['destroy', 'moving', '--force']);
    assert.equal(destroy.code, 0, destroy.stderr);
    await resolvesTo(`${project}.moving.test`, [], 'destroy');
  } finally {
    stop = true;
    await loop;
  }
  assert.ok(queries > 100, `the loop ran (${queries} queries)`);
  assert.deepEqual(failures, []);
});
