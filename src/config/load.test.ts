import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectConfig } from './load.js';

function projectWith(config: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cilo-config-'));
  mkdirSync(join(dir, '.cilo'));
  writeFileSync(join(dir, '.cilo', 'config.yml'), config);
  return dir;
}

/** What the original's `cilo setup --name shop` writes (yaml.v3 marshalling of its ProjectConfig). */
const ORIGINAL_SETUP = `project: shop
build_tool: docker
compose_files:
    - docker-compose.yml
default_environment: dev
hostnames: []
copy_dot_dirs:
    - .cilo
`;

test('a config written by the original cilo setup loads, without a warning for build_tool: docker', (t) => {
  const dir = projectWith(ORIGINAL_SETUP);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const c = loadProjectConfig(dir, (w) => warnings.push(w));
  assert.equal(c.project, 'shop');
  assert.equal(c.build_tool, 'docker');
  assert.deepEqual(c.compose_files, ['docker-compose.yml']);
  assert.deepEqual(warnings, []);
});

test('environments and another build tool are accepted with one warning each, however often the config is read', (t) => {
  const dir = projectWith(`${ORIGINAL_SETUP.replace('build_tool: docker', 'build_tool: podman')}environments:\n    - dev\n    - staging\nenv_files:\n`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const c = loadProjectConfig(dir, (w) => warnings.push(w));
  loadProjectConfig(dir, (w) => warnings.push(w));
  assert.deepEqual(c.environments, ['dev', 'staging']);
  assert.equal(c.env_files, undefined, 'an empty key is unset, as the original read it');
  assert.equal(warnings.length, 2, warnings.join('\n'));
  assert.match(warnings[0]!, /"build_tool: podman" has no effect/);
  assert.match(warnings[1]!, /"environments" has no effect/);
});

test('a key neither cilo nor the original knows is still refused', (t) => {
  const dir = projectWith(`${ORIGINAL_SETUP}build_tools: docker\n`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => loadProjectConfig(dir), (e: Error & { hint?: string }) => /unknown key "build_tools"/.test(e.message) && /Did you mean "build_tool"/.test(e.hint ?? ''));
});
