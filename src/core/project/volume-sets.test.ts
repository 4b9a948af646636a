import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSummary, Filters } from '../../domain/engine.js';
import type { PauseEngine } from '../environments/pause.js';
import { methodOf, whileFrozen } from './volume-sets.js';

/** A stand-in engine: containers a and b running, c paused before (by `down --pause`). */
function engine(): { docker: PauseEngine; states: Map<string, string> } {
  const states = new Map([['a', 'running'], ['b', 'running'], ['c', 'paused']]);
  const summary = (Id: string): ContainerSummary => ({ Id, Names: [`/${Id}`], Image: 'x', State: states.get(Id) ?? '?', Status: '', Labels: {} });
  const docker: PauseEngine = {
    listContainers: async (filters?: Filters) => [...states].filter(([, s]) => (filters?.status ?? [s]).includes(s)).map(([id]) => summary(id)),
    pauseContainer: async (id: string) => void states.set(id, 'paused'),
    unpauseContainer: async (id: string) => void states.set(id, 'running'),
  };
  return { docker, states };
}

test('the source is frozen while the copy runs and thawed after, even when the copy fails; one paused before stays paused', async () => {
  const { docker, states } = engine();
  const ctx = { site: { docker }, warn: () => undefined };
  let during: string[] = [];
  const ok = await whileFrozen(ctx, { project: 'p', name: 'e' }, async () => {
    during = [...states.values()];
    return 42;
  });
  assert.equal(ok.result, 42);
  assert.deepEqual(during, ['paused', 'paused', 'paused']);
  assert.deepEqual([...states], [['a', 'running'], ['b', 'running'], ['c', 'paused']]);

  await assert.rejects(whileFrozen(ctx, { project: 'p', name: 'e' }, () => Promise.reject(new Error('disk full'))), /disk full/);
  assert.deepEqual([...states], [['a', 'running'], ['b', 'running'], ['c', 'paused']]);
});

test('methodOf names how several copies were made', () => {
  assert.equal(methodOf([]), 'none');
  assert.equal(methodOf([{ volume: 'a', method: 'copy', ms: 1 }, { volume: 'b', method: 'copy', ms: 1 }]), 'copy');
  assert.equal(methodOf([{ volume: 'a', method: 'copy', ms: 1 }, { volume: 'b', method: 'container', ms: 1 }]), 'mixed');
});
