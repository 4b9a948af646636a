import { tempDir } from '../../test/support/temp-dirs.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { ciloPaths } from '../state/paths.js';
import { withStateLock } from '../state/store.js';
import { answer } from './zone.js';
import { watchStateZone } from './zone-source.js';

function envOf(name: string, ip: string) {
  return {
    name,
    project: 'p',
    source: '/s',
    workspace: '/w',
    subnet: '10.0.0.0/24',
    dns_suffix: '.test',
    status: 'running' as const,
    created_at: '',
    updated_at: '',
    services: { web: { ip, type: 'isolated' as const } },
    ingress: 'web',
    hostnames: [],
    shared: [],
  };
}

test('follows state changes and keeps the last good zone when the file is corrupt', async () => {
  const paths = ciloPaths(tempDir('cilo-zs-'));
  const logs: string[] = [];
  const src = watchStateZone(paths, { checkEveryMs: 0, log: (l) => logs.push(l) });
  try {
    assert.equal(answer(src.current(), 'web.e1.test', 'A').rcode, 'NXDOMAIN'); // no state yet
    await withStateLock((s) => {
      s.environments.e1 = envOf('e1', '10.0.0.2');
    }, paths);
    assert.equal(answer(src.current(), 'web.e1.test', 'A').answers[0]?.data, '10.0.0.2');
    // Same size, same second: only inode/mtime or the text tell the change.
    await withStateLock((s) => {
      s.environments.e1 = envOf('e1', '10.0.0.3');
    }, paths);
    assert.equal(answer(src.current(), 'web.e1.test', 'A').answers[0]?.data, '10.0.0.3');
    writeFileSync(paths.state, '{ not json');
    assert.equal(answer(src.current(), 'web.e1.test', 'A').answers[0]?.data, '10.0.0.3');
    assert.equal(answer(src.current(), 'web.e1.test', 'A').answers[0]?.data, '10.0.0.3');
    assert.equal(logs.filter((l) => l.includes('not loaded')).length, 1);
  } finally {
    src.close();
  }
});

test('hands the supervisor the state its zone was built from, following changes', async () => {
  const paths = ciloPaths(tempDir('cilo-zs-'));
  const src = watchStateZone(paths, { checkEveryMs: 0 });
  try {
    assert.deepEqual(src.state().shared_services, {}); // no state file yet
    const rec = { project: 'p', service: 'db', container: 'c', config_hash: 'h', users: [], ips: {}, grace_seconds: 1, grace_until: '2000-01-01T00:00:00.000Z', created_at: '' };
    await withStateLock((s) => {
      s.environments.e1 = envOf('e1', '10.0.0.2');
      s.shared_services['p/db'] = rec;
    }, paths);
    assert.deepEqual(src.state().shared_services['p/db'], rec);
    assert.equal(answer(src.current(), 'web.e1.test', 'A').answers[0]?.data, '10.0.0.2');
    await withStateLock((s) => {
      delete s.shared_services['p/db'];
    }, paths);
    assert.deepEqual(src.state().shared_services, {});
    writeFileSync(paths.state, '{ not json');
    assert.ok(src.state().environments.e1, 'a corrupt file leaves the last good state');
  } finally {
    src.close();
  }
});
