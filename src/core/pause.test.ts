import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Engine } from './ports.js';
import type { CoreContext } from './context.js';
import { pauseContainers } from './pause.js';

/** Pure logic of the rollback only: a stand-in engine whose second pause fails. */
test('a pause that fails for one container thaws the others: all or nothing', async () => {
  const paused = new Set<string>();
  const docker = {
    listContainers: async () => [{ Id: 'a' }, { Id: 'b' }, { Id: 'c' }],
    pauseContainer: async (id: string) => {
      if (id === 'b') throw new Error('cgroup freezer failed');
      paused.add(id);
    },
    unpauseContainer: async (id: string) => {
      paused.delete(id);
    },
  } as unknown as Engine;
  const ctx = { docker, log: () => undefined, warn: () => undefined } as unknown as CoreContext;
  await assert.rejects(pauseContainers(ctx, { project: 'p', name: 'e' }), /cgroup freezer failed/);
  assert.deepEqual([...paused], []);
});
