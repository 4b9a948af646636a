// The dashboard's dataset sizes (issue 27, "Dashboard speed"): a page never waits for the shared
// engines' inventories; sizes are kept and measured on the dashboard's own clock, and again
// soon after a change. Over stand-ins: a stand-in engine with a running shared postgres, a
// dataset engine that counts its inventories, and the stand-in clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboard } from '../../src/core/dashboard/dashboard.js';
import { DatasetSizeCache } from '../../src/core/dashboard/dataset-sizes.js';
import type { CopyMethod, DatasetEngine, EngineDataset } from '../../src/domain/dataset-engine.js';
import { LABELS, sharedContainerName } from '../../src/domain/names.js';
import { sharedKey } from '../../src/domain/state.js';
import { withStateLock } from '../../src/state/store.js';
import { seedEnvironment, standInContext, type StandIn } from '../support/stand-in.js';

/** A shared postgres whose inventory is counted, answers `sizes`, and waits while `gate` is set. */
class CountingEngine implements DatasetEngine {
  readonly unit = 'bytes';
  inventories = 0;
  sizes: Record<string, number> = {};
  gate: Promise<void> | undefined;
  async ready(): Promise<void> {}
  async inventory(): Promise<EngineDataset[]> {
    this.inventories += 1;
    await this.gate;
    return Object.entries(this.sizes).map(([name, size]) => ({ name, owner: undefined, template: false, size }));
  }
  private unused(): never {
    throw new Error('not part of this stand-in');
  }
  ensureTemplate(): Promise<boolean> {
    return this.unused();
  }
  allocate(): Promise<string> {
    return this.unused();
  }
  holds(): Promise<boolean> {
    return this.unused();
  }
  create(): Promise<boolean> {
    return this.unused();
  }
  copy(): Promise<CopyMethod> {
    return this.unused();
  }
  replace(): Promise<CopyMethod> {
    return this.unused();
  }
  drop(): Promise<void> {
    return this.unused();
  }
  dropTemplate(): Promise<void> {
    return this.unused();
  }
}

/** A home with environment e1 running, its private database app_e1 in shared db, whose container runs. */
async function withDataset(t: { after: (fn: () => void) => void }): Promise<{ s: StandIn; engine: CountingEngine }> {
  const engine = new CountingEngine();
  const s = standInContext();
  t.after(s.cleanup);
  s.ctx.datasetEngines = { open: async () => engine };
  await seedEnvironment(s.ctx, 'e1', { status: 'running' });
  const at = new Date(s.clock.now()).toISOString();
  await withStateLock((st) => {
    const e = st.environments.e1;
    if (e) {
      e.shared = ['db'];
      e.datasets = { db: { engine: 'postgres', kind: 'database', name: 'app_e1', template: null, status: 'ready', created_at: at } };
    }
    st.shared_services[sharedKey('app', 'db')] = { project: 'app', service: 'db', container: sharedContainerName('app', 'db'), config_hash: 'h', users: ['e1'], ips: { e1: '10.224.1.5' }, grace_seconds: 60, grace_until: null, created_at: at };
  }, s.ctx.paths);
  s.local.docker.addContainer({ name: sharedContainerName('app', 'db'), labels: { [LABELS.managed]: 'true', [LABELS.shared]: 'true', [LABELS.project]: 'app', [LABELS.service]: 'db' } });
  engine.sizes = { app_e1: 7_340_032 };
  return { s, engine };
}

interface Sized {
  size: number | null;
  measured_at?: string | null;
}
const sharedSize = async (d: ReturnType<typeof dashboard>): Promise<Sized | undefined> => (await d.snapshot()).shared[0]?.datasets[0];
const pageSize = async (d: ReturnType<typeof dashboard>): Promise<Sized | undefined> => (await d.environment('e1')).datasets[0];
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('snapshots and environment pages do not ask the shared engines for sizes on each request', async (t) => {
  const { s, engine } = await withDataset(t);
  const d = dashboard(s.ctx, { project: undefined });
  for (let i = 0; i < 3; i++) {
    await d.snapshot();
    await d.environment('e1');
    await settle();
  }
  assert.equal(engine.inventories, 1, 'one measurement for six pages');
});

test('a page never waits for a measurement: it shows the last known size and when it was measured', async (t) => {
  const { s, engine } = await withDataset(t);
  const d = dashboard(s.ctx, { project: undefined });
  let open: () => void = () => undefined;
  engine.gate = new Promise((r) => (open = r));
  // The first measurement hangs (a busy engine): the pages answer meanwhile, sizes not known yet.
  assert.deepEqual(await sharedSize(d), { env: 'e1', name: 'app_e1', size: null, unit: 'bytes', measured_at: null });
  assert.deepEqual(await pageSize(d), { env: 'e1', name: 'db: app_e1', size: null, unit: 'bytes', measured_at: null });
  assert.equal(engine.inventories, 1, 'one measurement under way, not one per page');
  const measuredAt = new Date(s.clock.now()).toISOString();
  open();
  engine.gate = undefined;
  await d.sizes.idle();
  s.clock.advance(5_000);
  assert.deepEqual(await sharedSize(d), { env: 'e1', name: 'app_e1', size: 7_340_032, unit: 'bytes', measured_at: measuredAt });
  assert.deepEqual(await pageSize(d), { env: 'e1', name: 'db: app_e1', size: 7_340_032, unit: 'bytes', measured_at: measuredAt });
  assert.equal(engine.inventories, 1);
});

test('sizes are measured again on their own clock, and soon after a change, in the background', async (t) => {
  const { s, engine } = await withDataset(t);
  let announced = 0;
  const cache = new DatasetSizeCache(s.ctx, { project: undefined, onMeasured: () => (announced += 1) });
  const known = (): Sized | undefined => cache.read()[0];
  known();
  await cache.idle();
  assert.equal(engine.inventories, 1, 'the first read starts a measurement');
  assert.equal(announced, 1, 'a measurement is announced, so open pages get the sizes');

  engine.sizes = { app_e1: 9_000_000 };
  s.clock.advance(29_000);
  cache.measureIfDue();
  assert.equal(known()?.size, 7_340_032, 'not yet 30 s old: the last known size');
  assert.equal(engine.inventories, 1);
  s.clock.advance(1_000);
  cache.measureIfDue(); // the dashboard's timer
  await cache.idle();
  assert.equal(engine.inventories, 2, 'measured again at 30 s');
  assert.equal(known()?.size, 9_000_000);

  // A change (an environment stopped, a dataset made): measured again once the last one is 10 s old.
  cache.changed();
  s.clock.advance(5_000);
  cache.measureIfDue();
  assert.equal(engine.inventories, 2);
  s.clock.advance(5_000);
  cache.measureIfDue();
  await cache.idle();
  assert.equal(engine.inventories, 3, 'measured again after the change');

  // Its engine stopped: the last known size stays, with the time it was measured.
  const before = known();
  s.local.docker.byName(sharedContainerName('app', 'db'))!.state = 'exited';
  s.clock.advance(30_000);
  cache.measureIfDue();
  await cache.idle();
  assert.equal(engine.inventories, 3, 'a stopped engine is not asked');
  assert.equal(cache.measurements, 4);
  assert.deepEqual(known(), before);

  // Nobody looked for a long time (no page open): the timer measures nothing.
  s.clock.advance(10 * 60_000);
  cache.measureIfDue();
  assert.equal(cache.measurements, 4);
});

test('no measurement starts while the doctor runs from the dashboard (it asks the same engines)', async (t) => {
  const { s, engine } = await withDataset(t);
  const cache = new DatasetSizeCache(s.ctx, { project: undefined });
  cache.read();
  await cache.idle();
  s.clock.advance(60_000);
  await cache.pausedWhile(async () => {
    cache.read();
    cache.measureIfDue();
    assert.equal(cache.measurements, 1, 'due, but the doctor runs');
  });
  cache.measureIfDue();
  await cache.idle();
  assert.equal(engine.inventories, 2, 'measured once the doctor is done');
});
