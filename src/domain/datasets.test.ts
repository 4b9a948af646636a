import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeModel } from './compose-model.js';
import { maskSecret } from './mask.js';
import { applyRewrites, applySeedMounts, datasetName, isolatedSeedMounts, datasetRewrites, engineFromImage, isolationSpecs, lowestFreeIndex, parseMarker, sanitizeIdentifier, seedHash, templateName, type IsolationSpec } from './datasets.js';

const model = (extra: Record<string, unknown> = {}): ComposeModel => ({
  services: {
    db: {
      image: 'postgres:16-alpine',
      environment: { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'app', POSTGRES_DB: 'shop' },
      labels: { 'cilo.share': 'true', 'cilo.share.isolate': 'database', 'cilo.share.seed': './db/seed.sql', ...extra },
    },
    cache: { image: 'redis:7-alpine', labels: { 'cilo.share': 'true', 'cilo.share.isolate': 'db-index' } },
    api: {
      image: 'app',
      environment: {
        DATABASE_URL: 'postgres://app:app@db:5432/shop',
        JDBC_URL: 'jdbc:postgresql://db.e1.test:5432/shop?sslmode=disable',
        OTHER_URL: 'postgres://app:app@db:5432/analytics',
        ELSEWHERE_URL: 'postgres://app:app@otherhost:5432/shop',
        PGDATABASE: 'shop',
        DB_NAME: 'other',
        REDIS_URL: 'redis://cache:6379/0',
        PLAIN: 'shop',
      },
    },
  },
});

describe('engineFromImage', () => {
  test('reads the engine from the repository name, not the tag or registry', () => {
    assert.equal(engineFromImage('postgres:16-alpine'), 'postgres');
    assert.equal(engineFromImage('registry.local:5000/team/postgis:3'), 'postgres');
    assert.equal(engineFromImage('bitnami/mariadb:10.11'), 'mariadb');
    assert.equal(engineFromImage('mysql:8'), 'mysql');
    assert.equal(engineFromImage('valkey/valkey:8'), 'valkey');
    assert.equal(engineFromImage('cilo-fixture/redis:7'), 'redis');
    assert.equal(engineFromImage('myorg/app:postgres'), undefined);
    assert.equal(engineFromImage(undefined), undefined);
  });
});

describe('isolationSpecs', () => {
  test('labels give the engine, kind, seed and base database of shared services only', () => {
    const specs = isolationSpecs(model(), ['db', 'cache']);
    assert.deepEqual(
      specs.map((s) => [s.service, s.engine, s.kind, s.seed, s.baseName, s.keep]),
      [
        ['db', 'postgres', 'database', ['./db/seed.sql'], 'shop', false],
        ['cache', 'redis', 'db-index', [], '0', false],
      ],
    );
    assert.deepEqual(isolationSpecs(model(), ['cache']).map((s) => s.service), ['cache']);
  });

  test('the project config gives the same keys when labels do not', () => {
    const m: ComposeModel = { services: { db: { image: 'ghcr.io/acme/db-server:1', environment: { POSTGRES_DB: 'x' } } } };
    const [spec] = isolationSpecs(m, ['db'], { db: { isolate: 'database', engine: 'postgres', seed: ['a.sql', 'b.sql'], keep: true, connection_limit: 5, env: ['APP_DB'] } });
    assert.deepEqual([spec?.engine, spec?.seed, spec?.keep, spec?.connectionLimit, spec?.env], ['postgres', ['a.sql', 'b.sql'], true, 5, ['APP_DB']]);
  });

  test('clear errors for a kind that does not fit, an unknown engine, a bad value', () => {
    assert.throws(() => isolationSpecs(model({ 'cilo.share.isolate': 'db-index' }), ['db']), /runs postgres, which isolates by "database"/);
    assert.throws(() => isolationSpecs({ services: { db: { image: 'acme/store', labels: { 'cilo.share.isolate': 'database' } } } }, ['db']), /does not say which engine.*/);
    assert.throws(() => isolationSpecs(model({ 'cilo.share.isolate': 'schema' }), ['db']), /must be one of database, db-index, got "schema"/);
    assert.throws(() => isolationSpecs(model({ 'cilo.share.keep': 'maybe' }), ['db']), /cilo\.share\.keep.*"true" or "false"/);
    assert.throws(() => isolationSpecs(model({ 'cilo.share.connection-limit': '0' }), ['db']), /whole number of at least 1/);
  });
});

describe('names', () => {
  test('dataset names are sanitised and kept within 63 bytes for postgres, distinct when cut', () => {
    assert.equal(datasetName('postgres', 'shop', 'agent-1'), 'shop_agent_1');
    const long = 'p'.repeat(40);
    const a = datasetName('postgres', long, `${'e'.repeat(40)}-1`);
    const b = datasetName('postgres', long, `${'e'.repeat(40)}-2`);
    assert.ok(Buffer.byteLength(a) <= 63 && Buffer.byteLength(b) <= 63);
    assert.notEqual(a, b);
    assert.equal(sanitizeIdentifier('9-Lives.DB', 63), 'd_9_lives_db');
  });

  test('a template is named by the hash of the image and the seed content', () => {
    const one = seedHash('postgres:16', [{ name: 'seed.sql', content: 'a' }]);
    assert.notEqual(one, seedHash('postgres:15', [{ name: 'seed.sql', content: 'a' }]));
    assert.notEqual(one, seedHash('postgres:16', [{ name: 'seed.sql', content: 'b' }]));
    assert.match(templateName(one), /^cilo_tpl_[0-9a-f]{16}$/);
  });

  test('markers name project and environment, and an unfinished copy', () => {
    assert.deepEqual(parseMarker('cilo:shop/agent-1'), { project: 'shop', env: 'agent-1', loading: false });
    assert.deepEqual(parseMarker('cilo:shop/agent-1:loading'), { project: 'shop', env: 'agent-1', loading: true });
    assert.equal(parseMarker('my own database'), undefined);
    assert.equal(parseMarker(null), undefined);
  });

  test('the lowest free redis index skips 0, held and non-empty ones', () => {
    assert.equal(lowestFreeIndex(16, [1, 2], [3]), 4);
    assert.equal(lowestFreeIndex(4, [1, 2], [3]), undefined);
  });
});

describe('datasetRewrites', () => {
  const specs = (): IsolationSpec[] => isolationSpecs(model(), ['db', 'cache']);
  const rewrites = (s = specs()) => datasetRewrites({ model: model(), specs: s, datasets: { db: 'shop_e1', cache: '3' }, envName: 'e1', suffix: '.test' });

  test('URLs to the shared service and base-name variables are pointed at the dataset; the rest is left alone', () => {
    assert.deepEqual(
      rewrites().map((r) => [r.variable, r.to]),
      [
        ['DATABASE_URL', 'postgres://app:app@db:5432/shop_e1'],
        ['JDBC_URL', 'jdbc:postgresql://db.e1.test:5432/shop_e1?sslmode=disable'],
        ['PGDATABASE', 'shop_e1'],
        ['REDIS_URL', 'redis://cache:6379/3'],
      ],
    );
  });

  test('cilo.share.env names more variables explicitly', () => {
    const s = specs();
    s[0]!.env = ['PLAIN'];
    assert.ok(rewrites(s).some((r) => r.variable === 'PLAIN' && r.to === 'shop_e1'));
  });

  test('applyRewrites changes only the generated model', () => {
    const m = model();
    const out = applyRewrites(m, rewrites());
    assert.equal((out.services.api?.environment as Record<string, string>).DATABASE_URL, 'postgres://app:app@db:5432/shop_e1');
    assert.equal((m.services.api?.environment as Record<string, string>).DATABASE_URL, 'postgres://app:app@db:5432/shop');
  });
});

test('maskSecret hides URL passwords and password parameters', () => {
  assert.equal(maskSecret('postgres://app:s3cret@db:5432/shop'), 'postgres://app:***@db:5432/shop');
  assert.equal(maskSecret('jdbc:mysql://db/shop?user=a&password=x&ssl=1'), 'jdbc:mysql://db/shop?user=a&password=***&ssl=1');
  assert.equal(maskSecret('redis://cache:6379/0'), 'redis://cache:6379/0');
  assert.equal(maskSecret('shop'), 'shop');
});

describe('the seed of a shared service run isolated (--isolate)', () => {
  test('a database engine gets its seed files mounted where its image runs them on first start, in load order', () => {
    const [pg, redis] = isolationSpecs(model(), ['db', 'cache']);
    const mounts = isolatedSeedMounts(pg!, ['/ws/db/schema.sql', '/ws/db/rows.SQL', '/ws/db/more data.txt']);
    assert.deepEqual(mounts, [
      { type: 'bind', source: '/ws/db/schema.sql', target: '/docker-entrypoint-initdb.d/cilo-seed-01-schema.sql', read_only: true },
      { type: 'bind', source: '/ws/db/rows.SQL', target: '/docker-entrypoint-initdb.d/cilo-seed-02-rows.SQL', read_only: true },
      { type: 'bind', source: '/ws/db/more data.txt', target: '/docker-entrypoint-initdb.d/cilo-seed-03-more_data.txt.sql', read_only: true },
    ]);
    assert.equal(isolatedSeedMounts(redis!, ['/ws/seed.redis']), undefined, 'redis has no init directory');
  });

  test('the mounts are added to the service, keeping its own volumes and replacing none twice', () => {
    const m: ComposeModel = { services: { db: { image: 'postgres', volumes: [{ type: 'volume', source: 'data', target: '/var/lib/postgresql/data' }] }, api: { image: 'x' } } };
    const mounts = isolatedSeedMounts(isolationSpecs(model(), ['db'])[0]!, ['/ws/db/seed.sql'])!;
    const out = applySeedMounts(applySeedMounts(m, { db: mounts }), { db: mounts });
    assert.deepEqual(out.services.db?.volumes, [{ type: 'volume', source: 'data', target: '/var/lib/postgresql/data' }, ...mounts]);
    assert.equal(out.services.api, m.services.api);
    assert.equal(applySeedMounts(m, {}), m);
  });
});
