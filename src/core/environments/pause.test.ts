import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSummary } from '../../domain/engine.js';
import { pauseContainers, type PauseEngine } from './pause.js';

/** Pure logic of the rollback only: a stand-in engine whose second pause fails. */
test('a pause that fails for one container thaws the others: all or nothing', async () => {
  const paused = new Set<string>();
  const summary = (Id: string): ContainerSummary => ({ Id, Names: [`/${Id}`], Image: 'x', State: 'running', Status: 'Up', Labels: {} });
  const docker: PauseEngine = {
    listContainers: async () => ['a', 'b', 'c'].map(summary),
    pauseContainer: async (id: string) => {
      if (id === 'b') throw new Error('cgroup freezer failed');
      paused.add(id);
    },
    unpauseContainer: async (id: string) => {
      paused.delete(id);
    },
  };
  await assert.rejects(pauseContainers({ site: { docker } }, { project: 'p', name: 'e' }), /cgroup freezer failed/);
  assert.deepEqual([...paused], []);
});
