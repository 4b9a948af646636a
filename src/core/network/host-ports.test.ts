import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPortCandidates } from '../../domain/host-ports.js';
import { ciloPaths, homeId } from '../../state/paths.js';
import type { CoreContext } from '../context.js';
import { chooseHostPorts } from './host-ports.js';

const paths = ciloPaths('/tmp/cilo-host-ports-unit');
const order = hostPortCandidates(homeId(paths));
const first = order[0] ?? 0;
const second = order[1] ?? 0;
const third = order[2] ?? 0;

function ctxWith(busy: number[]): Pick<CoreContext, 'local' | 'paths'> {
  return { paths, local: { routes: { routeSubnets: async () => [], loopbackPortFree: async (p: number) => !busy.includes(p) } } } as unknown as Pick<CoreContext, 'local' | 'paths'>;
}

test('ports already given are kept; new ones skip what the home holds and what listens on this machine', async () => {
  const taken = new Set([first]);
  const out = await chooseHostPorts(ctxWith([second]), { '5432': 40001 }, ['5432', '6379'], taken);
  assert.deepEqual(out, { '5432': 40001, '6379': third });
  assert.ok(taken.has(third), 'given out now: the next choice in the same transaction skips it');
});

test('a port a shared service had before comes back when nobody took it and it is free; else a new one', async () => {
  assert.deepEqual(await chooseHostPorts(ctxWith([]), undefined, ['5432'], new Set(), { '5432': 43210 }), { '5432': 43210 });
  assert.deepEqual(await chooseHostPorts(ctxWith([]), undefined, ['5432'], new Set([43210]), { '5432': 43210 }), { '5432': first });
  assert.deepEqual(await chooseHostPorts(ctxWith([43210]), undefined, ['5432'], new Set(), { '5432': 43210 }), { '5432': first });
});

test('ports no longer wanted are dropped', async () => {
  assert.deepEqual(await chooseHostPorts(ctxWith([]), { '5432': 40001, '9229': 40002 }, ['5432'], new Set()), { '5432': 40001 });
});
