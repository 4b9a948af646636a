/**
 * A state file written by the original cilo (version 2) in CILO_HOME is read and migrated on
 * first use, the original kept as state.json.v2-backup.
 */
import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHome, ROOT, uid, type TestHome } from './helpers.js';

let h: TestHome;
let original: string;
// Unique project names: the helpers' cleanup removes Docker resources by project label.
const P = uid('shop');
const Q = uid('blog');

before(() => {
  h = makeHome();
  original = readFileSync(join(ROOT, 'test', 'fixtures', 'state-v2.json'), 'utf8')
    .replaceAll('shop', P)
    .replaceAll('blog', Q)
    .replace('"dns_port": 5354', `"dns_port": ${h.dnsPort}`);
  writeFileSync(join(h.home, 'state.json'), original);
});

after(async () => {
  await h.cleanup();
});

test('list --all --json reads a version-2 state; the file is migrated and the original kept', async () => {
  const r = await h.cli(['list', '--all', '--json'], { cwd: '/' });
  assert.equal(r.code, 0, r.stderr);
  const envs = JSON.parse(r.stdout) as { name: string; project: string; status: string; subnet: string; services: { name: string; ip: string; type: string }[] }[];
  assert.deepEqual(
    envs.map((e) => [e.project, e.name, e.status, e.subnet]),
    [
      [Q, 'dev', 'created', '10.224.3.0/24'],
      [Q, 'nosubnet', 'created', '10.224.0.0/24'],
      [P, 'agent-1', 'stopped', '10.224.1.0/24'],
      [P, `dev-${P}`, 'stopped', '10.224.2.0/24'],
    ],
  );
  const agent = envs.find((e) => e.name === 'agent-1')!;
  assert.deepEqual(
    agent.services.map((s) => [s.name, s.ip, s.type]),
    [
      ['api', '10.224.1.3', 'isolated'],
      ['elasticsearch', '10.224.1.50', 'shared'],
      ['nginx', '10.224.1.2', 'isolated'],
    ],
  );

  const migrated = JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8'));
  assert.equal(migrated.version, 3);
  assert.deepEqual(migrated.base_subnets, ['10.224.0.0/16']);
  assert.equal(migrated.dns_port, h.dnsPort);
  assert.equal(migrated.hosts, undefined);
  assert.equal(readFileSync(join(h.home, 'state.json.v2-backup'), 'utf8'), original);
});

test('later commands use the migrated state and never replace the backup', async () => {
  const st = await h.cli(['network', 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual(JSON.parse(st.stdout).base_subnets, ['10.224.0.0/16']);
  const add = await h.cli(['hostnames', 'add', 'agent-1', 'extra']);
  assert.equal(add.code, 0, add.stderr);
  const list = JSON.parse((await h.cli(['hostnames', 'list', 'agent-1', '--json'])).stdout);
  assert.deepEqual(
    list.hostnames.map((x: { name: string; source: string }) => [x.name, x.source]),
    [
      ['admin', 'project'],
      ['docs', 'project'],
      ['extra', 'custom'],
    ],
  );
  const shared = await h.cli(['shared', 'list', '--json']);
  assert.equal(shared.code, 0, shared.stderr);
  assert.match(shared.stdout, /elasticsearch/);
  assert.equal(readFileSync(join(h.home, 'state.json.v2-backup'), 'utf8'), original);
});
