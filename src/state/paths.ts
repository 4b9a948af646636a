import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** CILO_HOME: `$CILO_HOME`, else `$CILO_USER_HOME/.cilo`, else `~/.cilo`. */
export function ciloHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CILO_HOME) return resolve(env.CILO_HOME);
  if (env.CILO_USER_HOME) return resolve(env.CILO_USER_HOME, '.cilo');
  return join(homedir(), '.cilo');
}

export interface CiloPaths {
  home: string;
  state: string;
  stateBackup: string;
  stateLock: string;
  envsDir: string;
  dnsDir: string;
  dnsPid: string;
  dnsLog: string;
  generatedDir: string;
}

export function ciloPaths(home: string = ciloHome()): CiloPaths {
  return {
    home,
    state: join(home, 'state.json'),
    stateBackup: join(home, 'state.json.bak'),
    stateLock: join(home, 'state.lock'),
    envsDir: join(home, 'envs'),
    dnsDir: join(home, 'dns'),
    dnsPid: join(home, 'dns', 'dns.pid'),
    dnsLog: join(home, 'dns', 'dns.log'),
    generatedDir: join(home, 'generated'),
  };
}

// node:crypto takes milliseconds to load and only homeId needs it here, which read-only
// commands (list, status, the reap hook) never call: loaded on first use.
const requireBuiltin = createRequire(import.meta.url);

/** A short, stable id of a CILO_HOME, put on every Docker resource it creates. */
export function homeId(paths: CiloPaths): string {
  const { createHash } = requireBuiltin('node:crypto') as typeof Crypto;
  return createHash('sha256').update(paths.home).digest('hex').slice(0, 12);
}

export function workspacePath(paths: CiloPaths, project: string, env: string): string {
  return join(paths.envsDir, project, env);
}

/** The directories below which cilo makes (and alone may delete) trees of files: workspaces and snapshots. */
export function workspaceRoots(paths: CiloPaths): string[] {
  return [paths.envsDir, join(paths.home, 'snapshots')];
}

/** Where cilo writes the environment's generated compose file (never inside the project). */
export function generatedComposePath(paths: CiloPaths, project: string, env: string): string {
  return join(paths.generatedDir, project, env, 'compose.yml');
}

/** The files of one remote host under CILO_HOME: SSH's master socket and log, the forwarded engine socket, the tunnel's key. */
export interface HostPaths {
  dir: string;
  knownHosts: string;
  controlPath: string;
  sshLog: string;
  engineSocket: string;
  tunnelKey: string;
}

export function hostPaths(paths: CiloPaths, host: string): HostPaths {
  const dir = join(paths.home, 'hosts', host);
  return {
    dir,
    // One file for every host: a key is trusted for its name, whichever cilo host uses it.
    knownHosts: join(paths.home, 'hosts', 'known_hosts'),
    controlPath: join(dir, 'ssh.ctl'),
    sshLog: join(dir, 'ssh.log'),
    engineSocket: join(dir, 'docker.sock'),
    tunnelKey: join(dir, 'wg.key'),
  };
}
