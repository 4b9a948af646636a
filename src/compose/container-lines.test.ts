import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerLines } from './cli.js';

test('compose\'s lines about containers are picked out, across chunks; the others pass on whole', () => {
  const seen: string[] = [];
  const rest: string[] = [];
  const lines = containerLines((c, w) => seen.push(`${c} ${w}`), (l) => rest.push(l));
  lines.write(' Container cilo-p-e1-web-1  Crea');
  lines.write('ting\n Volume "x"  Created\n Container cilo-p-e1-db-1  Healthy\n');
  lines.write(' Container cilo-p-e1-web-1  Started');
  lines.end();
  assert.deepEqual(seen, ['cilo-p-e1-web-1 Creating', 'cilo-p-e1-db-1 Healthy', 'cilo-p-e1-web-1 Started']);
  assert.deepEqual(rest, [' Volume "x"  Created\n']);
});
