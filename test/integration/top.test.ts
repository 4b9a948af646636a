/**
 * `cilo top` (#26, "See it"): each environment's containers summed from the Engine's stats, a
 * shared service once with its users, the machine total, and the unchanged records of a stopped
 * environment; `--once` and a pipe print one table.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { cgroupStats } from '../../src/docker/cgroup-stats.js';
import { DockerClient } from '../../src/docker/client.js';
import { memoryInUse } from '../../src/domain/usage.js';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

interface Usage { cpu_percent: number; memory_bytes: number; net_rx_bytes: number }
interface Snapshot {
  environments: { name: string; status: string; containers: number; shared: string[]; usage: Usage }[];
  shared: { service: string; users: string[]; state: string; usage: Usage }[];
  total: Usage;
  unreachable: unknown[];
}

describe('cilo top', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('top');
  before(() => {
    h = makeHome();
    dir = copyFixture('shared-db', { '.cilo/config.yml': `project: ${project}\n` });
  });
  after(async () => tearDown(h, project, dir));

  test('top --json --once lists each environment with its containers\' memory, and the shared database once', async () => {
    for (const e of ['t1', 't2']) {
      const up = await h.cli(['up', e, '--timeout', '120'], { cwd: dir });
      assert.equal(up.code, 0, up.stderr);
    }
    const down = await h.cli(['down', 't2'], { cwd: dir });
    assert.equal(down.code, 0, down.stderr);

    const r = await h.cli(['top', '--json', '--once'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const snap = JSON.parse(r.stdout) as Snapshot;
    const t1 = snap.environments.find((e) => e.name === 't1');
    const t2 = snap.environments.find((e) => e.name === 't2');
    assert.ok(t1 && t2, r.stdout);
    // app and cache are t1's own; db is the shared container, counted on its own row.
    assert.equal(t1.containers, 2, r.stdout);
    assert.ok(t1.usage.memory_bytes > 0, `t1 uses memory: ${JSON.stringify(t1.usage)}`);
    assert.deepEqual(t1.shared, ['db']);
    assert.equal(t2.status, 'stopped');
    assert.equal(t2.containers, 0, 'a stopped environment runs nothing');
    assert.equal(t2.usage.memory_bytes, 0);

    assert.equal(snap.shared.length, 1, r.stdout);
    const db = snap.shared[0];
    assert.ok(db);
    assert.equal(db.service, 'db');
    assert.ok(db.users.includes('t1'), JSON.stringify(db));
    assert.ok(db.usage.memory_bytes > 0, `the shared database uses memory: ${JSON.stringify(db.usage)}`);
    assert.equal(snap.total.memory_bytes, t1.usage.memory_bytes + t2.usage.memory_bytes + db.usage.memory_bytes, 'the total counts the shared service once');
    assert.deepEqual(snap.unreachable, []);
  });

  test('exec into a shared service runs in the shared container, and says so', async () => {
    const r = await h.cli(['exec', 't1', 'db', 'sh', '-c', 'test -f /tmp/ready && hostname'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const [shared] = await docker.listContainers({ label: [`cilo.project=${project}`, 'cilo.shared=true'] }, false);
    assert.ok(shared, 'the shared db runs');
    assert.equal(r.stdout.trim(), shared.Id.slice(0, 12), 'the command ran in the shared container');
    assert.match(r.stderr, /db is shared: the command runs in the shared container cilo_shared_/);
  });

  test('on this machine a container\'s stats come from its cgroup, and agree with the Engine\'s', async () => {
    const [c] = await docker.listContainers({ label: [`cilo.project=${project}`, 'cilo.env=t1'] }, false);
    assert.ok(c, 'a running container of t1');
    const fast = cgroupStats(c.Id);
    assert.ok(fast, 'the cgroup of a local container is found (cgroup v1 or v2)');
    const engine = await new DockerClient().containerStatsFromEngine(c.Id);
    assert.ok(engine);
    const [a, b] = [memoryInUse(fast), memoryInUse(engine)];
    assert.ok(a > 0 && Math.abs(a - b) <= Math.max(a, b) / 2 + 4 * 1024 * 1024, `memory ${a} from the cgroup against ${b} from the Engine`);
    assert.ok(fast.cpu_stats.cpu_usage.total_usage > 0 && fast.cpu_stats.cpu_usage.total_usage <= engine.cpu_stats.cpu_usage.total_usage * 2 + 1e9, 'CPU time in ns, as the Engine counts it');
    const rx = (s: typeof fast): number => Object.values(s.networks ?? {}).reduce((n, x) => n + x.rx_bytes, 0);
    assert.ok(rx(fast) > 0 && rx(engine) > 0, 'network bytes of its interfaces');
  });

  test('piped, top prints one table with a row per environment and a total, and exits', async () => {
    const r = await h.cli(['top'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^NAME +PROJECT +STATE +IDLE +CONTAINERS +CPU +MEMORY/);
    assert.ok(lines.some((l) => /^t1 +/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^db \(shared\) +/.test(l) && l.includes('used by')), r.stdout);
    assert.match(lines[lines.length - 1] ?? '', /^TOTAL +/);
    assert.ok(!r.stdout.includes('\u001b'), 'no screen codes in a pipe');
  });

  test('a bad --interval is refused in one sentence', async () => {
    const r = await h.cli(['top', '--interval', 'soon'], { cwd: dir });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /interval/);
  });
});
