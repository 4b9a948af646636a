/**
 * A simulated Docker Desktop (issue #25's tests): a host that cannot reach container addresses,
 * made on a Linux engine by one unprivileged user of the test's own, whose traffic to the
 * container ranges is rejected by iptables (`-m owner --uid-owner`), as Docker Desktop's host has
 * no route into its VM (docker/for-mac#155). cilo, curl, psql and node run as that user (spawned
 * with its uid and gid; its primary group is the Docker socket's, so it may use the engine); its
 * loopback, where the router and published ports listen, is left alone, and so is the traffic
 * between containers. Root (this process) still reaches the containers, which `reach()` shows.
 *
 * What it changes on the machine (the user, its iptables rules, its directory) is written first,
 * as the commands that undo it, to <dir>/undo.sh; the directory is recorded with the test homes
 * (sweep.ts, kind 'desktop-sim'), so a test process killed before its `after` hook still leaves
 * it to the sweep, which runs the script. `remove()` runs it too, also on SIGTERM/SIGINT
 * (whenStopped) and at exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetHome, recordHome, whenStopped } from './sweep.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export interface DesktopSim {
  /** The user's name (cilosim + 6 random characters). */
  user: string;
  uid: number;
  gid: number;
  /** Its own directory (its HOME), owned by it; removed with it. */
  dir: string;
  /** The CIDRs its traffic to is rejected. */
  blocked: string[];
  /** Runs a program as the user (HOME, USER set; `env` on top of this process's environment). */
  run: (cmd: string, args: string[], opts?: RunOptions) => Promise<RunResult>;
  /** Starts a long-running program as the user (a dashboard, a browser), output piped; the caller stops it by its pid. */
  start: (cmd: string, args: string[], opts?: RunOptions) => ChildProcess;
  /** Gives `path` (recursively) to the user: a CILO_HOME, a project directory. */
  own: (path: string) => void;
  /** Whether the user gets a TCP connection to ip:port within `timeoutMs` ('connected', or the error code). */
  reach: (ip: string, port: number, timeoutMs?: number) => Promise<string>;
  /** Ends its processes, deletes its rules, the user and its directory. Idempotent. */
  remove: () => void;
}

const COMMENT = 'cilo-desktop-sim';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The engine's socket (DOCKER_HOST unix://..., else /var/run/docker.sock). */
function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/** Why the simulation cannot be made here, or false when it can. */
export function desktopSimSkip(): string | false {
  if (process.platform !== 'linux') return 'the simulated Docker Desktop needs Linux (iptables -m owner)';
  if (process.getuid?.() !== 0) return 'the simulated Docker Desktop needs root (it adds a user and iptables rules; .ci/run runs as root)';
  if (!has('iptables')) return 'the simulated Docker Desktop needs iptables (Debian/Ubuntu: apt-get install iptables)';
  if (spawnSync('iptables', ['-w', '-L', 'OUTPUT', '-n'], { stdio: 'ignore' }).status !== 0) return 'iptables -L OUTPUT failed here (no netfilter in this kernel or container?)';
  if (!has('useradd') || !has('userdel')) return 'the simulated Docker Desktop needs useradd and userdel (package passwd)';
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return `DOCKER_HOST is ${process.env.DOCKER_HOST}: the simulation needs the engine's unix socket`;
  if (!existsSync(dockerSocket())) return `there is no Docker socket at ${dockerSocket()}`;
  return false;
}

function sh(script: string): { status: number | null; out: string } {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The pids of the processes running as `uid` (from /proc). */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (statSync(`/proc/${e}`).uid === uid) pids.push(Number(e));
    } catch {
      // gone
    }
  }
  return pids;
}

/**
 * Makes the user and rejects its traffic to `blocked` (the test home's base range, and Docker's
 * default pools where shared services and the router's own network get their addresses).
 */
export function startDesktopSim(blocked: string[]): DesktopSim {
  const user = `cilosim${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), `cilo-desktop-sim-`));
  chmodSync(dir, 0o755);
  const gid = statSync(dockerSocket()).gid;
  const ruleArgs = (uid: number, cidr: string): string =>
    `OUTPUT -m owner --uid-owner ${uid} -d ${cidr} -m comment --comment ${COMMENT}:${user} -j REJECT --reject-with icmp-host-unreachable`;
  const undo = join(dir, 'undo.sh');
  const writeUndo = (uid: number | undefined): void => {
    const lines = ['#!/bin/sh', '# Written by test/support/desktop-sim.ts: undoes what it made (run by remove(), or by the sweep).'];
    if (uid !== undefined) {
      for (const cidr of blocked) lines.push(`while iptables -w -D ${ruleArgs(uid, cidr)} 2>/dev/null; do :; done`);
      lines.push(`ps -o pid= -U ${uid} | xargs -r kill -KILL 2>/dev/null`, 'sleep 0.2');
    }
    lines.push(`if id -u ${user} >/dev/null 2>&1; then userdel ${user} 2>/dev/null || { sleep 1; userdel -f ${user}; }; fi`, `rm -rf ${quote(dir)}`, '');
    writeFileSync(undo, lines.join('\n'), { mode: 0o700 });
  };
  // Intent first: the directory with its undo script is recorded before the user exists.
  writeUndo(undefined);
  recordHome(dir, undefined, 'desktop-sim');
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    unlessStopped();
    process.removeListener('exit', remove);
    // Its processes by pid first (a DNS server or dashboard cilo left running as the user), then the script.
    if (uidKnown !== undefined) for (const pid of processesOf(uidKnown)) spawnSync('kill', ['-KILL', String(pid)]);
    spawnSync('sh', [undo], { stdio: 'ignore', timeout: 120_000 });
    forgetHome(dir);
  };
  const unlessStopped = whenStopped(remove);
  process.once('exit', remove);
  let uidKnown: number | undefined;
  try {
    const add = sh(`useradd --system --no-create-home --home-dir ${quote(dir)} --gid ${gid} --shell /usr/sbin/nologin ${user}`);
    if (add.status !== 0) throw new Error(`useradd ${user} failed: ${add.out}`);
    const uid = Number(sh(`id -u ${user}`).out.trim());
    if (!Number.isInteger(uid) || uid <= 0) throw new Error(`id -u ${user} gave no uid`);
    uidKnown = uid;
    writeUndo(uid);
    chownSync(dir, uid, gid);
    for (const cidr of blocked) {
      const r = sh(`iptables -w -I ${ruleArgs(uid, cidr)}`);
      if (r.status !== 0) throw new Error(`iptables -I OUTPUT (reject ${cidr} for ${user}) failed: ${r.out}`);
    }
    const userEnv = (opts: RunOptions): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}), HOME: dir, USER: user, LOGNAME: user };
      delete env.DOCKER_CONFIG;
      return env;
    };
    const start = (cmd: string, args: string[], opts: RunOptions = {}): ChildProcess => spawn(cmd, args, { cwd: opts.cwd ?? dir, env: userEnv(opts), uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    const run = (cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> =>
      new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd ?? dir, env: userEnv(opts), uid, gid, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code: code ?? 128, stdout, stderr: signal ? `${stderr}\n(killed by ${signal})` : stderr });
        });
        child.stdin.on('error', () => undefined); // a program that reads no input may exit first
        child.stdin.end(opts.input ?? '');
      });
    const own = (path: string): void => {
      const walk = (p: string): void => {
        const st = lstatSync(p);
        chownSync(p, uid, gid);
        if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
      };
      walk(path);
    };
    const reach = async (ip: string, port: number, timeoutMs = 5000): Promise<string> => {
      const script = `const s=require('net').connect(${port},${JSON.stringify(ip)});s.setTimeout(${timeoutMs});s.on('connect',()=>{console.log('connected');s.destroy()});s.on('timeout',()=>{console.log('ETIMEDOUT');s.destroy()});s.on('error',(e)=>console.log(e.code||e.message))`;
      const r = await run(process.execPath, ['-e', script], { timeoutMs: timeoutMs + 10_000 });
      return r.stdout.trim() || `exit ${r.code}: ${r.stderr.trim()}`;
    };
    return { user, uid, gid, dir, blocked, run, start, own, reach, remove };
  } catch (e) {
    remove();
    throw e;
  }
}

/** Whether this process (root) gets a TCP connection to ip:port ('connected', or the error code). */
export function reachAsRoot(ip: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, ip);
    s.setTimeout(timeoutMs);
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('timeout', () => {
      s.destroy();
      resolve('ETIMEDOUT');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}
