import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectConfig } from './load.js';

function withConfig(yaml: string, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-cfg-'));
  try {
    mkdirSync(join(dir, '.cilo'));
    writeFileSync(join(dir, '.cilo', 'config.yml'), yaml);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('services: the cilo.share keys per service are read', () => {
  withConfig('services:\n  db: { share: true, isolate: database, seed: [./a.sql, ./b.sql], env: [APP_DB], keep: true, connection_limit: 10 }\n  cache: { share: true, isolate: db-index, engine: valkey }\n', (dir) => {
    assert.deepEqual(loadProjectConfig(dir).services, {
      db: { share: true, isolate: 'database', seed: ['./a.sql', './b.sql'], env: ['APP_DB'], keep: true, connection_limit: 10 },
      cache: { share: true, isolate: 'db-index', engine: 'valkey' },
    });
  });
});

test('services: a wrong kind or an unknown key is refused naming the key', () => {
  withConfig('services:\n  db: { isolate: schema }\n', (dir) => assert.throws(() => loadProjectConfig(dir), /services\.db\.isolate/));
  withConfig('services:\n  db: { isolation: database }\n', (dir) => assert.throws(() => loadProjectConfig(dir), /services\.db\.isolation/));
  withConfig('services:\n  db: { connection_limit: 0 }\n', (dir) => assert.throws(() => loadProjectConfig(dir), /services\.db\.connection_limit/));
});
