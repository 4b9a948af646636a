import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { waitForAddresses } from '../support/dns-query.js';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

function status(h: TestHome, env: string): string | undefined {
  return (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { status: string }> }).environments[env]?.status;
}

async function containersOf(project: string, env: string) {
  const list = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`] });
  return Object.fromEntries(list.map((c) => [c.Labels['com.docker.compose.service'] ?? '?', { id: c.Id, state: c.State }]));
}

function dexec(id: string, cmd: string[]): { code: number; out: string } {
  const r = spawnSync('docker', ['exec', id, ...cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** The counter that the fixture's app writes every 0.2 s, read with `docker exec`. */
function count(id: string): number {
  const r = dexec(id, ['cat', '/tmp/count']);
  assert.equal(r.code, 0, r.out);
  return Number(r.out.trim());
}

const ipOf = (h: TestHome, env: string, service: string): string => JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments[env].services[service].ip;

before(() => ensureFixtureImage());

describe('down --pause', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('pz');
  before(() => {
    h = makeHome();
    // app keeps its state in memory only (a shell variable counting up) and waits for db's
    // healthcheck, whose interval (5 s) is longer than a pause; cache is shared.
    dir = copyFixture('pause-counter');
  });
  after(() => tearDown(h, project, dir));

  test('freezes the containers, keeps the shared service, drops the DNS names; up resumes the same processes', async () => {
    for (const env of ['a', 'b']) {
      const up = await h.cli(['up', env, '--project', project], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
    }
    const before = await containersOf(project, 'a');
    const appId = before.app!.id;
    const pid = dexec(appId, ['cat', '/tmp/pid']).out.trim();
    assert.match(pid, /^\d+$/);
    await waitForAddresses(h.dnsPort, 'app.a.test', [ipOf(h, 'a', 'app')], 'up');

    const down = await h.cli(['down', 'a', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Environment a is paused/);
    assert.equal(status(h, 'a'), 'paused');
    assert.equal((await containersOf(project, 'a')).app?.state, 'paused', 'the container is frozen, not stopped');
    const list = JSON.parse((await h.cli(['list', '--json'], { cwd: '/' })).stdout) as { name: string; status: string }[];
    assert.equal(list.find((e) => e.name === 'a')?.status, 'paused');
    // A paused environment has no DNS names, like a stopped one.
    await waitForAddresses(h.dnsPort, 'app.a.test', [], 'down --pause');
    const shared = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).shared_services;
    const users = Object.values(shared as Record<string, { users: string[] }>).flatMap((s) => s.users);
    assert.deepEqual(users.sort(), ['a', 'b'], 'the paused environment keeps holding the shared service (its frozen processes use it)');

    // Frozen: its counter does not move (read through the engine's view of /tmp/count).
    const up = await h.cli(['up', 'a']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(status(h, 'a'), 'running');
    const after = await containersOf(project, 'a');
    assert.equal(after.app?.id, appId, 'the same container');
    assert.equal(after.app?.state, 'running');
    assert.equal(dexec(appId, ['cat', '/tmp/pid']).out.trim(), pid, 'the same process: it was resumed, not restarted');
    const n1 = count(appId);
    await waitFor(() => count(appId) > n1, { what: `the resumed process to count on from ${n1}` });
    await waitForAddresses(h.dnsPort, 'app.a.test', [ipOf(h, 'a', 'app')], 'up of the paused environment');
    const users2 = Object.values(JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).shared_services as Record<string, { users: string[] }>).flatMap((s) => s.users).sort();
    assert.deepEqual(users2, ['a', 'b'], 'the shared service is attached again');
  });

  test('the counter of a paused environment stands still', async () => {
    const down = await h.cli(['down', 'a', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    const id = (await containersOf(project, 'a')).app!.id;
    // `docker exec` cannot run in a paused container; `docker cp` reads its files.
    const tmp = mkdtempSync(join(tmpdir(), 'cilo-pause-'));
    const read = (): number => {
      assert.equal(spawnSync('docker', ['cp', `${id}:/tmp/count`, join(tmp, 'count')]).status, 0);
      return Number(readFileSync(join(tmp, 'count'), 'utf8').trim());
    };
    const c1 = read();
    assert.ok(Number.isFinite(c1));
    // The clock: b runs the same loop. While b's counter moves on by 3 (0.6 s of its time), a's stays.
    const b = (await containersOf(project, 'b')).app!.id;
    const b1 = count(b);
    await waitFor(() => count(b) >= b1 + 3, { what: "environment b's counter to move on by 3" });
    assert.equal(read(), c1);
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a change made while paused is applied by the next up, once the thawed healthcheck passes again', async () => {
    const before = await containersOf(project, 'a');
    const ws = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments.a.workspace as string;
    const file = join(ws, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  app:\n    image:', '  app:\n    environment: {CHANGED: "1"}\n    image:'));
    const up = await h.cli(['up', 'a']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(status(h, 'a'), 'running');
    const after = await containersOf(project, 'a');
    assert.notEqual(after.app?.id, before.app?.id, 'the changed service was recreated by compose');
    assert.equal(after.db?.id, before.db?.id, 'the unchanged one was resumed');
    assert.equal(after.db?.state, 'running');
    const inspect = await docker.inspectContainer(after.app!.id);
    assert.ok(inspect?.Config.Env?.includes('CHANGED=1'));
    const down = await h.cli(['down', 'a', '--pause']);
    assert.equal(down.code, 0, down.stderr);
  });

  test('down of a paused environment stops it gracefully; up starts it', async () => {
    assert.equal(status(h, 'a'), 'paused');
    const down = await h.cli(['down', 'a']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(status(h, 'a'), 'stopped');
    const c = await containersOf(project, 'a');
    assert.equal(c.app?.state, 'exited');
    const inspect = await docker.inspectContainer(c.app!.id);
    assert.equal(inspect?.State.ExitCode, 143, 'ended by SIGTERM (via init), not SIGKILL after the timeout');
    const up = await h.cli(['up', 'a']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await containersOf(project, 'a')).app?.state, 'running');
  });

  test('up of an environment paused by hand (docker pause) resumes it instead of failing', async () => {
    const id = (await containersOf(project, 'b')).app!.id;
    assert.equal(spawnSync('docker', ['pause', id]).status, 0);
    const up = await h.cli(['up', 'b']);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await containersOf(project, 'b')).app?.state, 'running');
  });

  test('network migrate stops a paused environment to move it: it is then stopped, and up starts it on the new subnet', async () => {
    const down = await h.cli(['down', 'b', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    const used = (await docker.listNetworks()).flatMap((n) => (n.IPAM.Config ?? []).map((x) => x.Subnet ?? ''));
    const target = [...Array(18).keys()].map((i) => `10.${220 + i}.0.0/16`).find((t) => !used.some((u) => u.startsWith(`${t.split('.').slice(0, 2).join('.')}.`)));
    assert.ok(target, 'a free /16 to move to');
    const prefix = `${target.split('.').slice(0, 2).join('.')}.`;
    const r = await h.cli(['network', 'migrate', target, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const moved = (JSON.parse(r.stdout) as { moved: { name: string; restarted: boolean }[] }).moved;
    assert.deepEqual(moved.map((m) => [m.name, m.restarted]), [['a', true], ['b', false]]);
    assert.equal(status(h, 'b'), 'stopped');
    assert.equal((await containersOf(project, 'b')).app?.state, 'exited');
    const up = await h.cli(['up', 'b']);
    assert.equal(up.code, 0, up.stderr);
    const b = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')).environments.b as { subnet: string; workspace: string; services: Record<string, { ip: string }> };
    assert.ok(b.subnet.startsWith(prefix), b.subnet);
    assert.equal(JSON.parse(readFileSync(join(b.workspace, '.cilo', 'meta.json'), 'utf8')).subnet, b.subnet, 'the workspace says where it is now');
    await waitForAddresses(h.dnsPort, 'app.b.test', [b.services.app!.ip], 'up on the new subnet');
    assert.ok(b.services.app!.ip.startsWith(prefix));
  });

  test('destroy of a paused environment leaves nothing behind', async () => {
    const down = await h.cli(['down', 'b', '--pause']);
    assert.equal(down.code, 0, down.stderr);
    const d = await h.cli(['destroy', 'b', '--force']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(await containersOf(project, 'b'), {});
    assert.equal(await docker.inspectNetwork(`cilo_${project}_b`), null);
    assert.equal(status(h, 'b'), undefined);
  });
});
