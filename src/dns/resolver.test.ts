import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MARKER, planResolver, validSuffix } from './resolver.js';

test('linux: one systemd-resolved drop-in routing every suffix to the port', () => {
  const p = planResolver('linux', 5399, ['.test', 'dev.local', '.TEST'], '/r');
  assert.deepEqual(p.suffixes, ['dev.local', 'test']);
  assert.equal(p.files.length, 1);
  assert.equal(p.files[0]?.path, '/r/etc/systemd/resolved.conf.d/cilo.conf');
  assert.equal(p.files[0]?.content, `${MARKER}\n[Resolve]\nDNS=127.0.0.1:5399\nDomains=~dev.local ~test\n`);
  assert.deepEqual(p.commands, [['systemctl', 'restart', 'systemd-resolved']]);
  assert.match(p.manual, /DNS=127\.0\.0\.1:5399/);
  assert.match(p.manual, /server=\/test\/127\.0\.0\.1#5399/);
});

test('macOS: one /etc/resolver file per suffix, nothing to restart', () => {
  const p = planResolver('darwin', 5354, ['.test', '.dev.local']);
  assert.deepEqual(
    p.files.map((f) => f.path),
    ['/etc/resolver/dev.local', '/etc/resolver/test'],
  );
  assert.equal(p.files[1]?.content, `${MARKER}\nnameserver 127.0.0.1\nport 5354\n`);
  assert.deepEqual(p.commands, []);
  assert.match(p.manual, /sudo tee \/etc\/resolver\/test/);
});

test('suffixes that are not domain names are refused (they become file names)', () => {
  assert.equal(validSuffix('.Dev.Local'), 'dev.local');
  for (const bad of ['../etc', 'a b', '.', '', 'x/y', '-x.test']) assert.throws(() => validSuffix(bad), /not a valid domain/, bad);
});
