/**
 * Managing the DNS server as a background process: start (detached, logging to
 * `$CILO_HOME/dns/dns.log`), stop, status, and `ensureDnsRunning` for other commands.
 *
 * Trust nothing on disk: the original signalled unrelated processes in a loop because of a
 * stale pid file. A pid counts as our server only if it is alive and either answers
 * `id.server CH TXT` on its port with its pid and start token, or carries that token on its
 * command line. Start and stop hold a lock, so parallel commands never start two servers.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import { CiloError } from '../errors.js';
import { cliEntry } from '../proc/cli-entry.js';
import { tail } from '../domain/text.js';
import { ciloPaths, type CiloPaths } from '../state/paths.js';
import { properLockfile } from '../state/lockfile.js';
import { ensureHome, readState } from '../state/store.js';
import { queryDns } from './client.js';
import { DNS_ADDRESS, IDENTITY_NAME, parseIdentity, readInstance, readPidFile, removeInstance, startLockPath, type DnsInstance } from './instance.js';
import { commandLine, isAlive, terminate } from './process.js';

export { DNS_ADDRESS };

const START_TIMEOUT_MS = 3000;
const STOP_TIMEOUT_MS = 3000;
const PROBE_TIMEOUT_MS = 300;
const LOG_ROTATE_BYTES = 1024 * 1024;

export interface DnsStatus {
  running: boolean;
  pid: number | null;
  port: number;
  address: typeof DNS_ADDRESS;
  answering: boolean;
  log: string;
}

export interface DnsStartResult {
  /** false when a verified server was already answering on the configured port. */
  started: boolean;
  pid: number;
  port: number;
  address: typeof DNS_ADDRESS;
  log: string;
}

export interface DnsStopResult {
  stopped: boolean;
  pid: number | null;
  /** A pid file was there but did not name a live cilo DNS server; it was removed, nothing was signalled. */
  stale_pid_file: boolean;
}

interface Inspection {
  pid: number | null;
  instance: DnsInstance | null;
  /** The pid is alive and verified to be this home's server. */
  ours: boolean;
  /** It answered the identity query with its pid and token. */
  answering: boolean;
}

/** Asks a server on `port` who it is. */
async function probe(port: number, timeoutMs: number): Promise<{ pid: number; token: string } | null> {
  try {
    const p = await queryDns({ port, name: IDENTITY_NAME, type: 'TXT', class: 'CH', timeoutMs });
    for (const a of p.answers ?? []) {
      if (a.type !== 'TXT') continue;
      const parts = Array.isArray(a.data) ? a.data : [a.data];
      const id = parseIdentity(parts.map((d) => (typeof d === 'string' ? d : d.toString('utf8'))).join(''));
      if (id) return id;
    }
    return null;
  } catch {
    return null;
  }
}

function carriesToken(pid: number, token: string): boolean {
  const args = commandLine(pid);
  return args !== null && args.includes('serve') && args.includes(token);
}

async function inspect(paths: CiloPaths): Promise<Inspection> {
  const pid = readPidFile(paths);
  if (pid === null) return { pid: null, instance: null, ours: false, answering: false };
  const recorded = readInstance(paths);
  const instance = recorded !== null && recorded.pid === pid ? recorded : null;
  if (instance === null || !isAlive(pid)) return { pid, instance, ours: false, answering: false };
  const id = await probe(instance.port, PROBE_TIMEOUT_MS);
  const answering = id !== null && id.pid === pid && id.token === instance.token;
  return { pid, instance, ours: answering || carriesToken(pid, instance.token), answering };
}

async function withStartLock<T>(paths: CiloPaths, fn: () => Promise<T>): Promise<T> {
  ensureHome(paths);
  let release: () => Promise<void>;
  try {
    release = await (await properLockfile()).lock(startLockPath(paths), {
      realpath: false,
      lockfilePath: startLockPath(paths),
      stale: 10_000,
      update: 2_000,
      retries: { retries: 200, factor: 1, minTimeout: 50, maxTimeout: 50 },
    });
  } catch (e) {
    throw new CiloError('DNS', 'Another cilo command is starting or stopping the DNS server.', { hint: 'Wait for it to finish and try again.', cause: e });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}

function rotateLog(log: string): void {
  try {
    if (statSync(log).size > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`);
  } catch {
    // no log yet
  }
}

function readLogFrom(log: string, offset: number): string {
  try {
    return readFileSync(log).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** The server reports a failed start as `cilo: <message>` / `hint: <hint>` (print.ts); reuse them. */
function startFailure(paths: CiloPaths, logText: string, how: string): CiloError {
  const lines = logText.split('\n');
  const message = lines.filter((l) => l.startsWith('cilo: ')).pop()?.slice('cilo: '.length);
  const hint = lines.filter((l) => l.startsWith('hint: ')).pop()?.slice('hint: '.length);
  if (message !== undefined) return new CiloError('DNS', message, { hint: hint ?? `See ${paths.dnsLog}.` });
  return new CiloError('DNS', `The DNS server ${how} during start.`, { hint: `See ${paths.dnsLog}.`, details: tail(logText, 10) || undefined });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Spawns `cilo dns serve` detached and waits until it answers; never reports a failed start as success. */
async function spawnServer(paths: CiloPaths, port: number): Promise<DnsStartResult> {
  const cli = cliEntry();
  if (cli === undefined) {
    throw new CiloError('DNS', 'Cannot find the cilo CLI to run the DNS server with.', { hint: 'Build cilo (`npm run build`) and run it as `cilo dns start`.' });
  }
  rotateLog(paths.dnsLog);
  const fd = openSync(paths.dnsLog, 'a', 0o600);
  const offset = fstatSync(fd).size;
  const token = randomBytes(8).toString('hex');
  let exited: string | null = null;
  let spawnError: Error | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, [cli, 'dns', 'serve', '--token', token], {
      detached: true, // its own session: a Ctrl-C in the terminal that started it does not stop it
      stdio: ['ignore', fd, fd],
      cwd: paths.home, // never keep a project directory busy
      env: { ...process.env, CILO_HOME: paths.home },
    });
    pid = child.pid;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('exit', (code, signal) => {
      exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    child.unref();
  } finally {
    closeSync(fd); // the child has its own copy
  }

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await sleep(15);
    if (spawnError !== null) {
      throw new CiloError('DNS', `Could not run ${process.execPath} to start the DNS server: ${(spawnError as Error).message}.`, { hint: `See ${paths.dnsLog}.` });
    }
    if (exited !== null) {
      if (pid !== undefined) removeInstance(paths, pid);
      throw startFailure(paths, readLogFrom(paths.dnsLog, offset), exited);
    }
    const inst = readInstance(paths);
    if (pid !== undefined && inst !== null && inst.pid === pid && inst.token === token) {
      const id = await probe(port, 200);
      if (id !== null && id.pid === pid && id.token === token) return { started: true, pid, port, address: DNS_ADDRESS, log: paths.dnsLog };
    }
  }
  if (pid !== undefined) {
    try {
      process.kill(pid, 'SIGKILL'); // our own child, which never answered
    } catch {
      // already gone
    }
    removeInstance(paths, pid);
  }
  throw new CiloError('DNS', `The DNS server did not answer on ${DNS_ADDRESS}:${port} within ${START_TIMEOUT_MS / 1000} s.`, {
    hint: `See ${paths.dnsLog}.`,
    details: tail(readLogFrom(paths.dnsLog, offset), 10) || undefined,
  });
}

/** SIGTERM to a verified server, SIGKILL if it does not go. */
async function stopServer(pid: number): Promise<void> {
  if (!(await terminate(pid, STOP_TIMEOUT_MS))) {
    throw new CiloError('DNS', `The DNS server (pid ${pid}) did not stop.`, { hint: `Stop it by hand (kill ${pid}) and run the command again.` });
  }
}

function isCurrent(s: Inspection, port: number): s is Inspection & { pid: number; instance: DnsInstance } {
  return s.ours && s.answering && s.pid !== null && s.instance !== null && s.instance.port === port;
}

/**
 * Starts the DNS server unless this home's server already answers on the configured port
 * (state.dns_port). A server on another port (after `cilo init --dns-port`) or one that is
 * alive but not answering is replaced.
 */
export async function startDaemon(paths: CiloPaths = ciloPaths()): Promise<DnsStartResult> {
  const port = readState(paths).dns_port;
  const quick = await inspect(paths);
  if (isCurrent(quick, port)) return { started: false, pid: quick.pid, port, address: DNS_ADDRESS, log: paths.dnsLog };
  return withStartLock(paths, async () => {
    const s = await inspect(paths); // another command may have started it meanwhile
    if (isCurrent(s, port)) return { started: false, pid: s.pid, port, address: DNS_ADDRESS, log: paths.dnsLog };
    if (s.ours && s.pid !== null) await stopServer(s.pid);
    removeInstance(paths);
    return spawnServer(paths, port);
  });
}

/**
 * For commands that need names to resolve (init, up...): a no-op costing a file read and one
 * loopback query when the server runs; otherwise starts it. Throws CiloError('DNS') if it cannot.
 */
export function ensureDnsRunning(paths: CiloPaths = ciloPaths()): Promise<DnsStartResult> {
  return startDaemon(paths);
}

export async function stopDaemon(paths: CiloPaths = ciloPaths()): Promise<DnsStopResult> {
  return withStartLock(paths, async () => {
    const hadPidFile = existsSync(paths.dnsPid);
    const s = await inspect(paths);
    if (!s.ours || s.pid === null) {
      removeInstance(paths);
      return { stopped: false, pid: null, stale_pid_file: hadPidFile };
    }
    await stopServer(s.pid);
    removeInstance(paths, s.pid);
    return { stopped: true, pid: s.pid, stale_pid_file: false };
  });
}

export async function daemonStatus(paths: CiloPaths = ciloPaths()): Promise<DnsStatus> {
  const s = await inspect(paths);
  const port = s.ours && s.instance !== null ? s.instance.port : readState(paths).dns_port;
  return { running: s.ours, pid: s.ours ? s.pid : null, port, address: DNS_ADDRESS, answering: s.answering, log: paths.dnsLog };
}
