import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insideBases, moveIp, overlapping } from './network-move.js';

test('a moved service keeps its host number', () => {
  assert.equal(moveIp('10.224.3.10', '10.224.3.0/24', '10.230.0.0/24'), '10.230.0.10');
  assert.equal(moveIp('10.224.3.254', '10.224.3.0/24', '172.30.9.0/24'), '172.30.9.254');
});

test('inside the base ranges', () => {
  assert.equal(insideBases('10.224.3.0/24', ['10.224.0.0/16']), true);
  assert.equal(insideBases('10.225.3.0/24', ['10.224.0.0/16']), false);
  assert.equal(insideBases('10.225.3.0/24', ['10.224.0.0/16', '10.225.0.0/16']), true);
  assert.equal(insideBases('garbage', ['10.224.0.0/16']), false);
});

test('overlapping networks are named', () => {
  const nets = [
    { name: 'bridge', subnet: '172.17.0.0/16' },
    { name: 'other', subnet: '10.225.4.0/24' },
  ];
  assert.deepEqual(overlapping('10.225.0.0/16', nets), [{ name: 'other', subnet: '10.225.4.0/24' }]);
  assert.deepEqual(overlapping('10.226.0.0/16', nets), []);
});
