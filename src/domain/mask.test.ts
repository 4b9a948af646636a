import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MASK, maskConnectionValue } from './mask.js';

test('a value named like a secret is masked whole', () => {
  assert.deepEqual(maskConnectionValue('POSTGRES_PASSWORD', 'hunter2'), { value: MASK, masked: true });
  assert.deepEqual(maskConnectionValue('API_KEY', 'k'), { value: MASK, masked: true });
});

test("a URL's password is masked, its user, host and path kept", () => {
  assert.deepEqual(maskConnectionValue('DATABASE_URL', 'postgres://app:s3cr%40t@db.a.test:5432/app'), { value: `postgres://app:${MASK}@db.a.test:5432/app`, masked: true });
  assert.deepEqual(maskConnectionValue('REDIS_URL', 'redis://:pw@cache:6379/2'), { value: `redis://:${MASK}@cache:6379/2`, masked: true });
});

test('plain values (URLs without a password, IPs) are shown as they are', () => {
  assert.deepEqual(maskConnectionValue('CILO_SERVICE_DB_URL', 'http://db.a.test:5432'), { value: 'http://db.a.test:5432', masked: false });
  assert.deepEqual(maskConnectionValue('CILO_SERVICE_DB_IP', '10.224.0.2'), { value: '10.224.0.2', masked: false });
});
