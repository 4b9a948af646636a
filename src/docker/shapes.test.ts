import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v from 'valibot';
import { ContainerInspectSchema, ContainerSummarySchema, VolumeListSchema } from './shapes.js';

test('Engine answers with nulls where cilo expects maps and lists are read as empty ones', () => {
  const c = v.parse(ContainerSummarySchema, { Id: 'a', Names: ['/a'], Image: 'x', State: 'running', Status: 'Up 1 second', Labels: null, Ports: [] });
  assert.deepEqual(c.Labels, {});
  const vols = v.parse(VolumeListSchema, { Volumes: null, Warnings: null });
  assert.deepEqual(vols.Volumes, []);
  const i = v.parse(ContainerInspectSchema, {
    Id: 'a',
    Name: '/a',
    State: { Status: 'running', Running: true, ExitCode: 0 },
    Config: { Labels: null, Image: 'x' },
    NetworkSettings: { Networks: null },
  });
  assert.deepEqual(i.NetworkSettings.Networks, {});
});

test('an answer missing what cilo reads is refused', () => {
  assert.equal(v.safeParse(ContainerSummarySchema, { Id: 'a', Names: ['/a'], Image: 'x', Status: 'Up' }).success, false, 'no State');
  assert.equal(v.safeParse(ContainerInspectSchema, { Id: 'a', Name: '/a', State: { Status: 'running' }, Config: {}, NetworkSettings: {} }).success, false);
});
