import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedEnvironment } from './manifest.js';

test("a shared service's recorded environment is read back as plain strings", () => {
  const rec = { definition: { service: { image: 'postgres:16', environment: { POSTGRES_PASSWORD: 'pa$$word', EMPTY: null } }, volumes: {} } };
  assert.deepEqual(sharedEnvironment(rec), { environment: { POSTGRES_PASSWORD: 'pa$word' } });
  const list = { definition: { service: { image: 'redis:7', environment: ['A=1', 'B=2'] }, volumes: {} } };
  assert.deepEqual(sharedEnvironment(list), { environment: { A: '1', B: '2' } });
});

test('no recorded definition gives no variables and no problem', () => {
  assert.deepEqual(sharedEnvironment(undefined), { environment: {} });
  assert.deepEqual(sharedEnvironment({}), { environment: {} });
});

test('a recorded definition that is not one is named, not cast', () => {
  const notObject = sharedEnvironment({ definition: 'postgres' });
  assert.deepEqual(notObject.environment, {});
  assert.ok(notObject.problem, 'a string is not a definition');
  const badImage = sharedEnvironment({ definition: { service: { image: 42, environment: { A: '1' } }, volumes: {} } });
  assert.deepEqual(badImage.environment, {});
  assert.match(badImage.problem ?? '', /^service\.image: /);
  const noVolumes = sharedEnvironment({ definition: { service: { environment: { A: '1' } } } });
  assert.match(noVolumes.problem ?? '', /^volumes: /);
  const badEnvironment = sharedEnvironment({ definition: { service: { environment: 'A=1' }, volumes: {} } });
  assert.deepEqual(badEnvironment, { environment: {}, problem: 'service.environment: a string, not a map or a list' });
});
