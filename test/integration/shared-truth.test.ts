/**
 * Issue #23, "Truth" of shared services: a shared service keeps the aliases it declares; a
 * refused one-shot shared service leaves no volume; unused shared volumes and dataset templates
 * are listed and removed by `cilo shared rm` / `doctor --fix`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

const sharedIp = (h: TestHome, project: string, service: string, env: string): string =>
  (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { shared_services: Record<string, { ips: Record<string, string> }> }).shared_services[`${project}/${service}`]!.ips[env]!;

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

async function appOf(project: string, env: string): Promise<string> {
  const apps = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`, 'com.docker.compose.service=app'] });
  assert.equal(apps.length, 1, `one app container of ${env}`);
  return apps[0]!.Id;
}

before(() => ensureFixtureImage());

describe('a shared service keeps the aliases it declares', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('sa');
  before(() => {
    h = makeHome();
    dir = copyFixture('shared-alias');
  });
  after(() => tearDown(h, project, dir));

  test('`aliases: [database]` resolves from each environment to the shared container, on its first and on a later environment', async () => {
    for (const env of ['a1', 'a2']) {
      const up = await h.cli(['up', env, '--project', project], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
      const app = await appOf(project, env);
      const ip = sharedIp(h, project, 'db', env);
      for (const name of ['db', 'database']) {
        const r = dexec(app, ['nslookup', name]);
        assert.equal(r.code, 0, `${name} from ${env}: ${r.out}`);
        assert.match(r.out, new RegExp(`Address:?\\s+${ip.replace(/\./g, '\\.')}`), `${name} from ${env} is the shared db at ${ip}: ${r.out}`);
      }
    }
  });
});
