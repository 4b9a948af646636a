import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CiloError } from '../errors.js';
import { pluginDirs, resolveComposeCommand } from './binary.js';

describe('compose binary', () => {
  const root = mkdtempSync(join(tmpdir(), 'cilo-compose-bin-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  function plugin(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'docker-compose');
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o755);
    return file;
  }

  test('searches DOCKER_CONFIG, its cliPluginsExtraDirs, then the system directories, like the docker CLI', () => {
    const config = join(root, 'cfg');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'config.json'), JSON.stringify({ cliPluginsExtraDirs: ['/opt/extra', 7] }));
    assert.deepEqual(pluginDirs({ DOCKER_CONFIG: config }, '/home/u'), [
      join(config, 'cli-plugins'),
      '/opt/extra',
      '/usr/local/lib/docker/cli-plugins',
      '/usr/local/libexec/docker/cli-plugins',
      '/usr/lib/docker/cli-plugins',
      '/usr/libexec/docker/cli-plugins',
    ]);
    assert.equal(pluginDirs({}, '/home/u')[0], '/home/u/.docker/cli-plugins');
  });

  test('a broken config.json is ignored here (the docker CLI reports it)', () => {
    const config = join(root, 'broken');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'config.json'), '{ not json');
    assert.equal(pluginDirs({ DOCKER_CONFIG: config }, '/h')[1], '/usr/local/lib/docker/cli-plugins');
  });

  test('the user plugin directory wins; the binary runs without the `compose` prefix', () => {
    const config = join(root, 'user');
    const file = plugin(join(config, 'cli-plugins'));
    assert.deepEqual(resolveComposeCommand({ DOCKER_CONFIG: config }, '/h'), { command: file, prefix: [] });
  });

  test('CILO_COMPOSE=docker always goes through `docker compose`', () => {
    const config = join(root, 'user');
    assert.deepEqual(resolveComposeCommand({ DOCKER_CONFIG: config, CILO_COMPOSE: 'docker' }, '/h'), { command: 'docker', prefix: ['compose'] });
  });

  test('CILO_COMPOSE names a binary, found on PATH or by path; a missing one is one clear error', () => {
    const bin = join(root, 'bin');
    const file = plugin(bin);
    assert.deepEqual(resolveComposeCommand({ CILO_COMPOSE: 'docker-compose', PATH: bin }, '/h'), { command: file, prefix: [] });
    assert.deepEqual(resolveComposeCommand({ CILO_COMPOSE: file }, '/h'), { command: file, prefix: [] });
    assert.throws(
      () => resolveComposeCommand({ CILO_COMPOSE: join(root, 'nope') }, '/h'),
      (e: unknown) => e instanceof CiloError && e.code === 'COMPOSE_MISSING' && /CILO_COMPOSE names .*nope, which does not exist\./.test(e.message),
    );
  });
});
