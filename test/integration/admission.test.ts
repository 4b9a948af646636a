/**
 * Admission by memory budget (#26): an environment whose estimate (its services' limits, from
 * the mem-limited fixture: 48 MB + 16 MB) does not fit is refused before anything is made; with
 * --wait-for-capacity it starts once room appears; parallel ups are admitted one at a time.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { CLI, copyFixture, docker, editState, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

const MB = 1024 * 1024;
/** The fixture's estimate: app's mem_limit 48m + worker's deploy limit 16M. */
const ESTIMATE = 64 * MB;

interface StateFile {
  memory_budget?: string;
  environments: Record<string, { status: string; memory_admitted?: number }>;
  memory_reservations?: Record<string, unknown>;
}

function readStateFile(h: TestHome): StateFile {
  return JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as StateFile;
}

async function projectResources(project: string): Promise<{ containers: number; networks: number }> {
  const containers = await docker.listContainers({ label: [`cilo.project=${project}`] }, true);
  const networks = await docker.listNetworks({ label: [`cilo.project=${project}`] });
  return { containers: containers.length, networks: networks.length };
}

describe('admission by memory budget', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('adm');
  before(() => {
    h = makeHome();
    dir = copyFixture('mem-limited', { '.cilo/config.yml': `project: ${project}\n` });
  });
  after(async () => tearDown(h, project, dir));

  test('init --memory-budget takes a size, a percent or none, and refuses anything else with exit 2 and nothing changed', async () => {
    const set = await h.cli(['init', '--memory-budget', '60%', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((JSON.parse(set.stdout) as { memory_budget: string }).memory_budget, '60%');
    const bad = await h.cli(['init', '--memory-budget', 'lots']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /"lots" is not a memory budget: give a size such as 6g/);
    assert.equal(readStateFile(h).memory_budget, '60%', 'a refused budget changes nothing');
    const none = await h.cli(['init', '--memory-budget', 'none']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(readStateFile(h).memory_budget, undefined);
  });

  test('a budget smaller than the estimate refuses up with nothing made, code CAPACITY under --json', async () => {
    assert.equal((await h.cli(['init', '--memory-budget', '32m'])).code, 0);
    const r = await h.cli(['up', 'small', '--json'], { cwd: dir });
    assert.notEqual(r.code, 0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; code: string; message: string };
    assert.equal(doc.code, 'CAPACITY', r.stdout);
    assert.match(doc.message, /needs about 64 MB but the memory budget 32m \(32 MB\) has 32 MB left/);
    assert.equal(readStateFile(h).environments.small, undefined, 'no state entry');
    assert.deepEqual(await projectResources(project), { containers: 0, networks: 0 });
    assert.deepEqual(readStateFile(h).memory_reservations ?? {}, {}, 'no reservation left behind');
  });

  test('a reservation left by a process that is gone does not count', async () => {
    assert.equal((await h.cli(['init', '--memory-budget', '100m'])).code, 0);
    const dead = spawnSync('true').pid;
    await editState(h, (s) => {
      s.memory_reservations = { ghost: { env: 'ghost', pid: dead, bytes: 90 * MB, at: new Date().toISOString() } };
    });
    const r = await h.cli(['up', 'revived', '--timeout', '120'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readStateFile(h).memory_reservations ?? {}, {}, 'the dead reservation was dropped and the up released its own');
    assert.equal((await h.cli(['destroy', 'revived', '--force'])).code, 0);
  });

  test('the reservation of an up killed with SIGKILL while starting does not count for the next up', async () => {
    assert.equal((await h.cli(['init', '--memory-budget', '100m'])).code, 0);
    const child = spawn(process.execPath, [CLI, 'up', 'killed', '--timeout', '120'], { cwd: dir, env: h.env, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => Object.values(readStateFile(h).memory_reservations ?? {}).some((r) => (r as { pid?: number }).pid === child.pid), { what: 'the up to hold its reservation', deadlineMs: 120_000, intervalMs: 20 });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.ok(Object.keys(readStateFile(h).memory_reservations ?? {}).length > 0, 'SIGKILL leaves the reservation in state');
    // 64 MB reserved by the dead up + 64 MB asked now would not fit in 100 MB if it counted.
    const r = await h.cli(['up', 'after-kill', '--timeout', '120'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readStateFile(h).environments['after-kill']?.status, 'running');
    assert.deepEqual(readStateFile(h).memory_reservations ?? {}, {}, 'the dead reservation was dropped');
    for (const name of ['after-kill', 'killed']) {
      if (readStateFile(h).environments[name]) assert.equal((await h.cli(['destroy', name, '--force'])).code, 0);
    }
    await waitFor(async () => (await projectResources(project)).containers === 0, { deadlineMs: 60_000, what: 'nothing of either left' });
  });

  test('--wait-for-capacity starts once another environment is destroyed', async () => {
    assert.equal((await h.cli(['init', '--memory-budget', '100m'])).code, 0);
    const first = await h.cli(['up', 'first', '--timeout', '120'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readStateFile(h).environments.first?.memory_admitted, ESTIMATE);
    const refused = await h.cli(['up', 'second'], { cwd: dir });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /longest idle first: first/);

    const waiting = h.cli(['up', 'second', '--wait-for-capacity', '180', '--timeout', '120'], { cwd: dir });
    // Still waiting: nothing of it made yet.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(readStateFile(h).environments.second, undefined, 'a waiting up makes nothing');
    const destroy = await h.cli(['destroy', 'first', '--force']);
    assert.equal(destroy.code, 0, destroy.stderr);
    const second = await waiting;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /Waiting for memory/);
    assert.equal(readStateFile(h).environments.second?.status, 'running');
    assert.equal((await h.cli(['destroy', 'second', '--force'])).code, 0);
  });

  test('parallel ups against a budget that fits three admit exactly three', async () => {
    assert.equal((await h.cli(['init', '--memory-budget', `${3 * 64 + 32}m`])).code, 0);
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const results = await Promise.all(names.map((n) => h.cli(['up', n, '--json', '--timeout', '150'], { cwd: dir })));
    const started = results.filter((r) => r.code === 0);
    const refused = results.filter((r) => r.code !== 0);
    assert.equal(started.length, 3, results.map((r) => r.stderr.slice(-400)).join('\n---\n'));
    for (const r of refused) assert.match(r.stdout, /"CAPACITY"/, r.stdout + r.stderr);
    const state = readStateFile(h);
    const running = Object.values(state.environments).filter((e) => e.status === 'running');
    assert.equal(running.length, 3);
    assert.ok(running.reduce((n, e) => n + (e.memory_admitted ?? 0), 0) <= (3 * 64 + 32) * MB, 'the budget is never exceeded');
    assert.deepEqual(state.memory_reservations ?? {}, {}, 'every reservation released');
    await waitFor(async () => (await projectResources(project)).containers === 6, { deadlineMs: 30_000, what: 'three environments of two containers' });
  });
});
