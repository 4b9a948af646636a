import { tempDir } from '../../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CiloError } from '../../errors.js';
import { ciloPaths } from '../../state/paths.js';
import { listSnapshots, readSnapshot, SNAPSHOT_FORMAT, snapshotsDir, type Snapshot } from './snapshots.js';

function home() {
  return ciloPaths(tempDir('cilo-snapshots-'));
}

const good: Snapshot = { format: SNAPSHOT_FORMAT, name: 'snap-1', env: 'agent-1', project: 'shop', status: 'ready', created_at: '2026-01-01T00:00:00.000Z', volumes: [{ key: 'data', volume: 'cilo-shop-agent-1_data', labels: {}, image: 'busybox' }], datasets: [{ service: 'db', engine: 'postgres', kind: 'database', name: 'shop_agent_1_s', from: 'shop_agent_1' }], method: 'copy', frozen_ms: 3 };

function put(paths: ReturnType<typeof home>, name: string, text: string): string {
  const dir = join(snapshotsDir(paths), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'snapshot.json'), text);
  return join(dir, 'snapshot.json');
}

function corrupt(file: string, what: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof CiloError && e.code === 'STATE_CORRUPT' && e.message.includes(file) && what.test(e.message) && (e.hint ?? '').includes('by hand');
}

test('a snapshot file is read back as it was written', () => {
  const p = home();
  put(p, 'snap-1', JSON.stringify(good));
  assert.deepEqual(readSnapshot(p, 'snap-1'), good);
});

test('only a missing snapshot is "no snapshot named"', () => {
  const p = home();
  assert.throws(() => readSnapshot(p, 'gone'), (e) => e instanceof CiloError && e.code === 'ENV_NOT_FOUND' && /no snapshot named "gone"/.test(e.message));
});

test('a damaged snapshot file is named with its path and what is wrong', () => {
  const p = home();
  const file = put(p, 'snap-1', '{"format": "cilo.snapshot/1", ');
  assert.throws(() => readSnapshot(p, 'snap-1'), corrupt(file, /invalid JSON/));
  put(p, 'snap-1', '');
  assert.throws(() => readSnapshot(p, 'snap-1'), corrupt(file, /it is empty/));
  put(p, 'snap-1', JSON.stringify({ ...good, volumes: [{ key: 'data' }] }));
  assert.throws(() => readSnapshot(p, 'snap-1'), corrupt(file, /volumes\.0\.volume/));
  put(p, 'snap-1', JSON.stringify({ ...good, format: 'cilo.snapshot/9' }));
  assert.throws(() => readSnapshot(p, 'snap-1'), corrupt(file, /format/));
  put(p, 'snap-1', JSON.stringify({ ...good, name: 'other' }));
  assert.throws(() => readSnapshot(p, 'snap-1'), corrupt(file, /names snapshot "other"/));
});

test('a snapshot file that cannot be read for another reason is not taken for a missing one', () => {
  const p = home();
  mkdirSync(join(snapshotsDir(p), 'snap-1', 'snapshot.json'), { recursive: true }); // EISDIR on read
  assert.throws(() => readSnapshot(p, 'snap-1'), (e) => !(e instanceof CiloError) && (e as NodeJS.ErrnoException).code === 'EISDIR');
  assert.throws(() => listSnapshots(p, () => undefined), (e) => (e as NodeJS.ErrnoException).code === 'EISDIR');
});

test('the list passes over what is not a snapshot and names a damaged one', () => {
  const p = home();
  put(p, 'snap-1', JSON.stringify(good));
  const bad = put(p, 'snap-2', 'not json');
  mkdirSync(join(snapshotsDir(p), 'empty-dir'));
  mkdirSync(join(snapshotsDir(p), 'Not_A_Name'));
  const warned: string[] = [];
  assert.deepEqual(
    listSnapshots(p, (l) => warned.push(l)).map((s) => s.name),
    ['snap-1'],
  );
  assert.equal(warned.length, 1);
  assert.ok(warned[0]?.includes(bad));
});
