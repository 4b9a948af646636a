import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filesToRemove, isEnvFileName, renderTarget, renderText } from './env-files.js';

const files = ['.env', '.env.local', '.env.production', 'prod.env', 'config/app.env', 'config/secret.env', 'web/.env', 'README.md', 'environment.ts', 'secrets/key.pem', '.envrc'];

test('env files are .env, .env.* and *.env at any depth', () => {
  assert.deepEqual(files.filter((f) => isEnvFileName(f.split('/').pop() ?? '')), ['.env', '.env.local', '.env.production', 'prod.env', 'config/app.env', 'config/secret.env', 'web/.env']);
});

test('copy_mode all (default) keeps everything; ignore removes what it names, env file or not', () => {
  assert.deepEqual(filesToRemove(files, undefined), []);
  assert.deepEqual(filesToRemove(files, { copy_mode: 'all' }), []);
  assert.deepEqual(filesToRemove(files, { ignore: ['*.pem', 'config/secret.env'] }), ['config/secret.env', 'secrets/key.pem']);
});

test('copy_mode none removes every env file and nothing else', () => {
  assert.deepEqual(filesToRemove(files, { copy_mode: 'none' }), ['.env', '.env.local', '.env.production', 'prod.env', 'config/app.env', 'config/secret.env', 'web/.env']);
});

test('copy_mode allowlist keeps the env files matching copy (by name at any depth, or by path)', () => {
  assert.deepEqual(filesToRemove(files, { copy_mode: 'allowlist', copy: ['.env', 'config/*.env'], ignore: ['config/secret.env'] }), ['.env.local', '.env.production', 'prod.env', 'config/secret.env']);
});

test('render rules: replace (tokens in from and to) then tokens', () => {
  const ctx = { project: 'shop', env: 'e1', suffix: '.test' };
  const text = 'URL=${CILO_BASE_URL}\nDB=localhost:5432\nNAME=${CILO_ENV}\n';
  assert.equal(renderText(text, { file: '.env', tokens: true, replace: [{ from: 'localhost', to: 'db.${CILO_ENV}${CILO_DNS_SUFFIX}' }] }, ctx), 'URL=http://shop.e1.test\nDB=db.e1.test:5432\nNAME=e1\n');
  assert.equal(renderText(text, { file: '.env' }, ctx), text, 'no tokens, no replace: unchanged');
  assert.equal(renderText('a', { file: '.env', replace: [{ from: '', to: 'x' }] }, ctx), 'a', 'an empty from replaces nothing');
});

test('render targets stay inside the workspace', () => {
  assert.equal(renderTarget('./config/../.env', 0), '.env');
  for (const bad of ['/etc/passwd', '../other/.env', '', '.']) assert.throws(() => renderTarget(bad, 2), /env\.render\.2\.file/);
});
