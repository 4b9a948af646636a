import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { legacyBackupPath } from './legacy.js';
import { firstIp, isLegacyState, legacyBaseToCidr, migrateLegacyState } from './migrate-v2.js';
import { ciloPaths } from './paths.js';
import { parseState } from './schema.js';
import { readState, readStateUpgraded, upgradeLegacyStateFile, withStateLock } from './store.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'state-v2.json');
const v2text = readFileSync(FIXTURE, 'utf8');
const v2 = JSON.parse(v2text) as unknown;
const opts = { envsDir: '/home/dev/.cilo/envs', dnsPort: 20001, now: new Date('2025-02-01T00:00:00Z') };

test('legacy states are recognised; ours are not', () => {
  assert.equal(isLegacyState(v2), true);
  assert.equal(isLegacyState({ hosts: {} }), true, 'no version but the original\'s fields');
  assert.equal(isLegacyState({ version: 3, environments: {} }), false);
  assert.equal(isLegacyState([]), false);
});

test('the original\'s base subnet prefix becomes a CIDR; junk IP fields give their first address', () => {
  assert.equal(legacyBaseToCidr('10.224.'), '10.224.0.0/16');
  assert.equal(legacyBaseToCidr('172.28.'), '172.28.0.0/16');
  assert.equal(legacyBaseToCidr('10.'), '10.0.0.0/8');
  assert.equal(legacyBaseToCidr('10.230.0.0/16'), '10.230.0.0/16');
  assert.equal(legacyBaseToCidr('nonsense'), undefined);
  assert.equal(firstIp('10.224.1.50172.18.0.2'), '10.224.1.50');
  assert.equal(firstIp(''), undefined);
});

test('a realistic version-2 file migrates to a valid version-3 state', () => {
  const { state, notes } = migrateLegacyState(v2, opts);
  assert.ok(parseState(state).ok, 'the result passes the version-3 schema');
  assert.equal(state.version, 3);
  assert.deepEqual(state.base_subnets, ['10.224.0.0/16']);
  assert.equal(state.dns_port, 5354);
  assert.deepEqual(Object.keys(state.environments).sort(), ['agent-1', 'dev', 'dev-shop', 'nosubnet']);

  const a = state.environments['agent-1']!;
  assert.equal(a.project, 'shop');
  assert.equal(a.source, '/home/dev/src/shop');
  assert.equal(a.workspace, '/home/dev/.cilo/envs/shop/agent-1');
  assert.equal(a.subnet, '10.224.1.0/24');
  assert.equal(a.status, 'stopped', 'the original\'s containers are not cilo\'s: nothing of ours runs yet');
  assert.equal(a.created_at, '2025-01-14T08:12:33.418Z');
  assert.equal(a.ingress, 'nginx');
  assert.deepEqual(a.hostnames, ['admin', 'docs']);
  assert.deepEqual(a.services, {
    api: { ip: '10.224.1.3', type: 'isolated' },
    elasticsearch: { ip: '10.224.1.50', type: 'shared' },
    nginx: { ip: '10.224.1.2', type: 'isolated' },
  });
  assert.deepEqual(a.shared, []);

  // blog/dev keeps its name (sorted first); shop/dev is renamed, not lost
  assert.equal(state.environments.dev?.project, 'blog');
  assert.equal(state.environments.dev?.dns_suffix, '.blog.local');
  assert.equal(state.environments.dev?.status, 'created');
  assert.equal(state.environments['dev-shop']?.project, 'shop');
  assert.equal(state.environments['dev-shop']?.workspace, '/home/dev/.cilo/envs/shop/dev');
  assert.ok(notes.some((n) => n.includes('"shop/dev" was renamed to "dev-shop"')));

  // no subnet: the lowest free one; invalid names: dropped with a note
  assert.equal(state.environments.nosubnet?.subnet, '10.224.0.0/24');
  assert.equal(state.environments.nosubnet?.created_at, '2025-02-01T00:00:00.000Z');
  assert.ok(notes.some((n) => n.includes('Broken Name!')));

  const es = state.shared_services['shop/elasticsearch']!;
  assert.equal(es.container, 'cilo_shared_elasticsearch');
  assert.equal(es.config_hash, '9f2c4e1b');
  assert.deepEqual(es.users, []);
  assert.equal(es.grace_until, null, 'no deadline: nothing removes the original\'s container behind the user\'s back');
});

test('a missing dns_port takes the default of a new state', () => {
  const { state } = migrateLegacyState({ version: 2, base_subnet: '10.224.', hosts: {} }, opts);
  assert.equal(state.dns_port, 20001);
});

test('on first use the file is rewritten as version 3 and the original kept, never overwritten', async () => {
  const p = ciloPaths(tempDir('cilo-v2-'));
  writeFileSync(p.state, v2text);
  const read = readState(p);
  assert.equal(read.version, 3, 'a reader sees the migrated state');
  assert.equal(readFileSync(p.state, 'utf8'), v2text, 'a reader never writes: the file is migrated by a transaction');
  assert.equal(existsSync(legacyBackupPath(p)), false);
  assert.equal(await upgradeLegacyStateFile(p), true);
  assert.equal(readFileSync(legacyBackupPath(p), 'utf8'), v2text, 'backup of the original');
  assert.equal(JSON.parse(readFileSync(p.state, 'utf8')).version, 3, 'the file is rewritten as version 3');
  assert.equal(await upgradeLegacyStateFile(p), false, 'a version 3 file is left alone');

  // A second legacy file (restored by hand) never replaces the first backup.
  writeFileSync(p.state, v2text.replace('"dns_port": 5354', '"dns_port": 5355'));
  await withStateLock(() => undefined, p);
  assert.equal(JSON.parse(readFileSync(p.state, 'utf8')).dns_port, 5355, 'migrated in the transaction');
  assert.equal(readFileSync(legacyBackupPath(p), 'utf8'), v2text);
  assert.ok(existsSync(p.stateBackup));
});

test('a name the original allowed and ours does not is renamed, said so, and keeps its workspace directory', () => {
  const data = { version: 2, base_subnet: '10.224.', hosts: { local: { environments: { 'Shop/Agent_1': { name: 'Agent_1', project: 'Shop', subnet: '10.224.1.0/24' } } } } };
  const { state, notes } = migrateLegacyState(data, opts);
  assert.equal(state.environments['agent-1']?.project, 'shop');
  assert.equal(state.environments['agent-1']?.workspace, '/home/dev/.cilo/envs/Shop/Agent_1');
  assert.ok(notes.some((n) => n.includes('"Shop/Agent_1" was renamed to "shop/agent-1"')), notes.join('\n'));
});

test('readStateUpgraded tells what the migration changed, once', async () => {
  const p = ciloPaths(tempDir('cilo-v2-'));
  writeFileSync(p.state, v2text);
  const told: string[][] = [];
  await readStateUpgraded(p, (n) => told.push(n));
  await readStateUpgraded(p, (n) => told.push(n));
  assert.equal(told.length, 1);
  assert.ok(told[0]?.some((n) => n.includes('"shop/dev" was renamed to "dev-shop"')), told.join('\n'));
});
