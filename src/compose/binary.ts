/**
 * Which program runs compose. `docker compose X` makes the docker CLI start, run the plugin
 * once for its metadata and then again for X: about twice the time and CPU of running the
 * plugin binary itself, which compose supports ("standalone" mode, same flags, same
 * DOCKER_HOST/context handling). So cilo finds the plugin where the docker CLI would and runs
 * it directly, and falls back to `docker compose` when it finds none.
 *
 * CILO_COMPOSE overrides the choice: `docker` always goes through `docker compose`; a path
 * names a compose v2 binary to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CiloError } from '../errors.js';
import { findProgram } from '../proc/which.js';

export interface ComposeCommand {
  /** The program to spawn. */
  command: string;
  /** Arguments that come before compose's own (`['compose']` through the docker CLI). */
  prefix: string[];
}

/** The directories the docker CLI searches for plugins, in its order. */
export function pluginDirs(env: NodeJS.ProcessEnv, home = homedir()): string[] {
  const configDir = env.DOCKER_CONFIG || join(home, '.docker');
  const dirs = [join(configDir, 'cli-plugins'), ...extraDirs(configDir)];
  dirs.push('/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins');
  return dirs;
}

/** `cliPluginsExtraDirs` of the docker CLI's config.json, if any. */
function extraDirs(configDir: string): string[] {
  const file = join(configDir, 'config.json');
  if (!existsSync(file)) return [];
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const extra = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>).cliPluginsExtraDirs : undefined;
    return Array.isArray(extra) ? extra.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return []; // the docker CLI reports a broken config.json itself when it runs
  }
}

const VIA_DOCKER: ComposeCommand = { command: 'docker', prefix: ['compose'] };

export function resolveComposeCommand(env: NodeJS.ProcessEnv = process.env, home = homedir()): ComposeCommand {
  const override = env.CILO_COMPOSE;
  if (override !== undefined && override !== '') {
    if (override === 'docker') return VIA_DOCKER;
    const found = findProgram(override, process.cwd(), env.PATH);
    if (!found.found) {
      throw new CiloError('COMPOSE_MISSING', `CILO_COMPOSE names ${override}, which ${found.reason === 'missing' ? 'does not exist' : 'is not an executable file'}.`, {
        hint: 'Set CILO_COMPOSE to the path of a Compose v2 binary, to `docker` to use `docker compose`, or unset it.',
      });
    }
    return { command: found.path, prefix: [] };
  }
  for (const dir of pluginDirs(env, home)) {
    const found = findProgram(join(dir, 'docker-compose'), '/', undefined);
    if (found.found) return { command: found.path, prefix: [] };
  }
  return VIA_DOCKER;
}

let cached: ComposeCommand | undefined;

/** The compose command for this process (resolved once). */
export function composeCommand(): ComposeCommand {
  cached ??= resolveComposeCommand();
  return cached;
}
