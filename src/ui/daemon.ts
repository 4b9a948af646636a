/**
 * `cilo ui --detach` / `cilo ui stop` / `cilo ui status`: the dashboard as a background process,
 * one per CILO_HOME, the way the DNS server runs (dns/daemon.ts). `$CILO_HOME/ui/ui.json`
 * (mode 600, in the 700 home) records its pid, port, URL with the token, and a start token
 * that is also on its command line. Nothing on disk is trusted: a pid is signalled only when it
 * is alive and carries that start token.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, isAlive, terminate } from '../dns/process.js';
import { CiloError } from '../errors.js';
import { cliEntry } from '../proc/cli-entry.js';
import type { CiloPaths } from '../state/paths.js';
import { writeFileAtomic } from '../files/atomic.js';
import { withNamedLock } from '../state/store.js';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3000;

export interface UiInstance {
  pid: number;
  port: number;
  url: string;
  /** `--project` of the server, or null for all projects. */
  project: string | null;
  start_token: string;
  started_at: string;
}

export interface UiPaths {
  dir: string;
  instance: string;
  log: string;
}

export function uiPaths(paths: CiloPaths): UiPaths {
  const dir = join(paths.home, 'ui');
  return { dir, instance: join(dir, 'ui.json'), log: join(dir, 'ui.log') };
}

export function readUiInstance(paths: CiloPaths): UiInstance | null {
  try {
    const v = JSON.parse(readFileSync(uiPaths(paths).instance, 'utf8')) as Partial<UiInstance>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.url !== 'string' || typeof v.start_token !== 'string') return null;
    return { pid: v.pid, port: v.port, url: v.url, project: v.project ?? null, start_token: v.start_token, started_at: v.started_at ?? '' };
  } catch {
    return null;
  }
}

export function writeUiInstance(paths: CiloPaths, inst: UiInstance): void {
  mkdirSync(uiPaths(paths).dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(uiPaths(paths).instance, `${JSON.stringify(inst)}\n`, 0o600);
}

/** Removes the record if it still names this process (a newer server may own it). */
export function removeUiInstance(paths: CiloPaths, pid: number): void {
  if (readUiInstance(paths)?.pid === pid) rmSync(uiPaths(paths).instance, { force: true });
}

/** The recorded server, if it is alive and really is that server. */
export function runningUi(paths: CiloPaths): UiInstance | null {
  const inst = readUiInstance(paths);
  if (inst === null || !isAlive(inst.pid)) return null;
  const args = commandLine(inst.pid);
  return args !== null && args.includes('ui') && args.includes(inst.start_token) ? inst : null;
}

export interface UiStartResult {
  started: boolean;
  instance: UiInstance;
  log: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `cilo ui` in the background (its own session, output to ui.log) and waits until it
 * records itself; a server already running for this home is kept. Under a lock of the home:
 * two `cilo ui --detach` at once started two servers (issue 27); now the second waits for the
 * first's server to record itself, and reports it.
 */
export function startUiDaemon(paths: CiloPaths, args: string[]): Promise<UiStartResult> {
  return withNamedLock(paths, 'ui-start', () => startUnlocked(paths, args));
}

async function startUnlocked(paths: CiloPaths, args: string[]): Promise<UiStartResult> {
  const { log, dir } = uiPaths(paths);
  const current = runningUi(paths);
  if (current) return { started: false, instance: current, log };
  const cli = cliEntry();
  if (cli === undefined) throw new CiloError('USAGE', 'Cannot find the cilo CLI to run the dashboard with.', { hint: 'Build cilo (`npm run build`) and run it as `cilo ui --detach`.' });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const startToken = randomBytes(8).toString('hex');
  const fd = openSync(log, 'a', 0o600);
  let exited: string | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [cli, 'ui', ...args, '--instance', startToken], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: paths.home,
      env: { ...process.env, CILO_HOME: paths.home },
    });
    pid = child.pid;
    child.on('error', (e) => (exited = e.message));
    child.on('exit', (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(25);
    if (exited !== null) throw new CiloError('USAGE', `The dashboard ${exited} during start.`, { hint: `See ${log}.`, exitCode: 1 });
    const inst = readUiInstance(paths);
    if (inst !== null && inst.pid === pid && inst.start_token === startToken) return { started: true, instance: inst, log };
  }
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGKILL'); // our own child, which never came up
    } catch {
      // gone
    }
  }
  throw new CiloError('TIMEOUT', `The dashboard did not start within ${START_TIMEOUT_MS / 1000} s.`, { hint: `See ${log}.` });
}

export interface UiStopResult {
  stopped: boolean;
  pid: number | null;
}

export async function stopUiDaemon(paths: CiloPaths): Promise<UiStopResult> {
  const inst = runningUi(paths);
  if (inst === null) {
    rmSync(uiPaths(paths).instance, { force: true });
    return { stopped: false, pid: null };
  }
  if (!(await terminate(inst.pid, STOP_TIMEOUT_MS))) {
    // Its record stays: the server is still there, and the next `cilo ui stop` tries again.
    throw new CiloError('TIMEOUT', `The dashboard (pid ${inst.pid}) did not stop.`, { hint: `Stop it by hand (kill -9 ${inst.pid}) and run the command again.` });
  }
  removeUiInstance(paths, inst.pid);
  return { stopped: true, pid: inst.pid };
}
