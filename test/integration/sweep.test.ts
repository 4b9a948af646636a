/**
 * The suite's own sweep (test/support/sweep.ts): the home of a test process that has ended is
 * removed whole (its DNS server, its containers, network and volumes, its directory), while the
 * home of a live one is left alone. A record of its own keeps the sweep here to this test's homes.
 */
import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciloPaths, homeId } from '../../src/state/paths.js';
import { ownerAlive, pidAlive, processStart, processesOfHome, readRecords, recordHomeFor, sweepDeadHomes } from '../support/sweep.js';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

const records = mkdtempSync(join(tmpdir(), 'cilo-sweep-records-'));
const project = uid('swp');
let dead: TestHome;
let live: TestHome;
let dir: string;
const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });

before(() => {
  ensureFixtureImage();
  dead = makeHome();
  live = makeHome();
  dir = copyFixture('shared-db-idle');
});
after(async () => {
  sleeper.kill('SIGKILL');
  await tearDown(dead, project, dir);
  await tearDown(live, `${project}l`);
  rmSync(records, { recursive: true, force: true });
});

/** A process that has ended: its pid is what a killed test process leaves in its records. */
function endedPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

const labelled = async (h: TestHome): Promise<{ containers: number; networks: number; volumes: number }> => {
  const filters = { label: [`cilo.home=${homeId(ciloPaths(h.home))}`] };
  return { containers: (await docker.listContainers(filters)).length, networks: (await docker.listNetworks(filters)).length, volumes: (await docker.listVolumes(filters)).length };
};

test('the home of an ended test process loses its DNS server, containers, network, volumes and directory; a live one keeps everything', async () => {
  const up = await dead.cli(['up', 'e1', '--project', project], { cwd: dir });
  assert.equal(up.code, 0, up.stderr);
  const dns = await dead.cli(['dns', 'start']);
  assert.equal(dns.code, 0, dns.stderr);
  const dnsPid = Number(readFileSync(join(dead.home, 'dns', 'dns.pid'), 'utf8').trim());
  const liveDns = await live.cli(['dns', 'start']);
  assert.equal(liveDns.code, 0, liveDns.stderr);
  const liveDnsPid = Number(readFileSync(join(live.home, 'dns', 'dns.pid'), 'utf8').trim());

  const made = await labelled(dead);
  assert.ok(made.containers >= 2, `the environment's and the shared container: ${JSON.stringify(made)}`);
  assert.ok(made.networks >= 1 && made.volumes >= 1, JSON.stringify(made));
  assert.ok(pidAlive(dnsPid));
  assert.ok(processesOfHome(dead.home).includes(dnsPid), 'the DNS server is found by its CILO_HOME');

  recordHomeFor(dead.home, { pid: endedPid(), start: null }, records);
  recordHomeFor(live.home, { pid: sleeper.pid ?? 0, start: processStart(sleeper.pid ?? 0) }, records);
  const report = sweepDeadHomes(records);

  assert.equal(report.live, 1);
  assert.deepEqual(report.homes.map((h) => h.home), [dead.home]);
  assert.ok(report.homes[0]?.removed.processes.includes(dnsPid));
  assert.ok(!pidAlive(dnsPid), 'the DNS server of the ended home was left running');
  assert.deepEqual(await labelled(dead), { containers: 0, networks: 0, volumes: 0 });
  assert.ok(!existsSync(dead.home), 'the home directory is gone');
  assert.deepEqual(readRecords(records).map((r) => r.home), [live.home], 'the ended home is forgotten, the live one kept');

  assert.ok(pidAlive(liveDnsPid), "the live home's DNS server was stopped");
  assert.ok(existsSync(live.home));
});

test("an owner's pid taken by another process does not keep a home alive", () => {
  const pid = sleeper.pid ?? 0;
  assert.equal(ownerAlive({ pid, start: processStart(pid) }), true);
  assert.equal(ownerAlive({ pid, start: '1' }), false, 'same pid, another start time: another process');
  assert.equal(ownerAlive({ pid: endedPid(), start: null }), false);
});
