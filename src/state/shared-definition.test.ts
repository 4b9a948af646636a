import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffDefinitions, type SharedDefinition } from '../domain/shared.js';
import { parseStoredSharedDefinition } from './shared-definition.js';

const made: SharedDefinition = {
  service: { image: 'postgres:16', configs: [{ source: 'init' }], secrets: [{ source: 'pw' }] } as SharedDefinition['service'],
  volumes: { data: {} },
  configs: { init: { name: 'p_init', file: '/src/init.sql' } },
  secrets: { pw: { name: 'p_pw', file: '/src/pw.txt' } },
};

test('a stored definition is read back with its configs and secrets, so the same one made again does not differ', () => {
  const r = parseStoredSharedDefinition({ definition: JSON.parse(JSON.stringify(made)) as unknown });
  assert.ok(r?.ok, r && !r.ok ? r.problem : 'no definition');
  assert.deepEqual(r.definition.configs, made.configs);
  assert.deepEqual(r.definition.secrets, made.secrets);
  assert.deepEqual(diffDefinitions(r.definition, made), []);
});

test('a stored value that is not a definition names its problem', () => {
  const r = parseStoredSharedDefinition({ definition: { service: { image: 'x' }, volumes: {}, configs: 'nope' } });
  assert.equal(r?.ok, false);
});
