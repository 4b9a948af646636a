/**
 * What a test home leaves when its test process cannot clean up (killed, or its file cancelled
 * by the runner): the processes started with its CILO_HOME (the DNS server, the dashboard, a
 * `cilo up` in flight and the compose it runs) and the containers, networks and volumes
 * labelled with its id (`cilo.home`, src/domain/names.ts LABELS.home).
 *
 * makeHome (test/integration/helpers.ts) records each home it makes under OWNERS_DIR with its
 * process's pid and start time; its cleanup removes the home with removeHome and forgets it.
 * `sweepDeadHomes` removes every recorded home whose owner is no longer running: scripts/test.mjs
 * runs it before and after the integration suite (`node --import tsx test/support/sweep.ts`).
 * A home of a live process (another suite running on this machine) is never touched. Fake
 * remote machines (test/support/fake-remote.ts: namespaces, a second dockerd, an sshd) are
 * recorded the same way and ended with `fake-remote.sh down`; a simulated Docker Desktop
 * (test/support/desktop-sim.ts: a user and its iptables rules) by the undo.sh it wrote first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABELS } from '../../src/domain/names.js';
import { ciloPaths, homeId } from '../../src/state/paths.js';

/** Where the records of live test homes are kept (one JSON file per home). */
export const OWNERS_DIR = join(tmpdir(), 'cilo-test-homes');

export interface HomeRecord {
  /** The test home (CILO_HOME), or the directory of a fake remote machine (test/support/fake-remote.ts). */
  home: string;
  pid: number;
  /** The owner's start time (/proc/<pid>/stat), so that a reused pid is not taken for it. */
  start: string | null;
  kind?: 'fake-remote' | 'desktop-sim';
}

/** What removeHome removed. */
export interface Removed {
  processes: number[];
  containers: string[];
  networks: string[];
  volumes: string[];
}

/** A process's start time in clock ticks since boot (Linux), else null. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote a record still runs (the same process, not a reused pid). */
export function ownerAlive(r: Pick<HomeRecord, 'pid' | 'start'>): boolean {
  try {
    process.kill(r.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(r.pid);
  return r.start === null || now === null || now === r.start;
}

function recordPath(dir: string, home: string): string {
  return join(dir, `${basename(home)}.json`);
}

/** Records `home` as owned by this process (makeHome calls it before anything can be made; startFakeRemote for its machine). */
export function recordHome(home: string, dir = OWNERS_DIR, kind?: HomeRecord['kind']): void {
  mkdirSync(dir, { recursive: true });
  const r: HomeRecord = { home, pid: process.pid, start: processStart(process.pid), ...(kind ? { kind } : {}) };
  writeFileSync(recordPath(dir, home), `${JSON.stringify(r)}\n`);
}

/** Writes a record for another owner (the sweeper's own test fakes a dead one). */
export function recordHomeFor(home: string, owner: Pick<HomeRecord, 'pid' | 'start'>, dir = OWNERS_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(recordPath(dir, home), `${JSON.stringify({ home, ...owner })}\n`);
}

export function forgetHome(home: string, dir = OWNERS_DIR): void {
  rmSync(recordPath(dir, home), { force: true });
}

export function readRecords(dir = OWNERS_DIR): HomeRecord[] {
  if (!existsSync(dir)) return [];
  const out: HomeRecord[] = [];
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<HomeRecord>;
      if (typeof r.home === 'string' && typeof r.pid === 'number') out.push({ home: r.home, pid: r.pid, start: typeof r.start === 'string' ? r.start : null, ...(r.kind === 'fake-remote' || r.kind === 'desktop-sim' ? { kind: r.kind } : {}) });
    } catch {
      // being written right now: the next sweep reads it
    }
  }
  return out;
}

/**
 * The processes started with CILO_HOME=home (their environment as they were started: the DNS
 * server and the dashboard get it from cilo, compose and its plugins inherit it), found in /proc.
 * Without /proc, the DNS server's and the dashboard's recorded pids, when they run in the home.
 */
export function processesOfHome(home: string): number[] {
  const want = [`CILO_HOME=${home}`, `CILO_HOME=${resolve(home)}`];
  const pids: number[] = [];
  if (existsSync('/proc/self/environ')) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (pid === process.pid) continue;
      try {
        const vars = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        if (vars.some((v) => want.includes(v))) pids.push(pid);
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }
  for (const f of [join(home, 'dns', 'dns.pid'), join(home, 'ui', 'ui.json')]) {
    try {
      const text = readFileSync(f, 'utf8').trim();
      const pid = f.endsWith('.json') ? Number((JSON.parse(text) as { pid?: unknown }).pid) : Number(text);
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    } catch {
      // none recorded
    }
  }
  return pids;
}

/** Whether `pid` names a running process (one of another user's counts: EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const tick = new Int32Array(new SharedArrayBuffer(4));
/** Waits without letting anything else of this process run (a test in flight must not go on making things). */
function pauseSync(ms: number): void {
  Atomics.wait(tick, 0, 0, ms);
}

/** The cilo projects a home's state knows (its environments' and shared services'). */
function projectsOf(home: string): string[] {
  try {
    const state = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { environments?: Record<string, { project: string }>; shared_services?: Record<string, { project: string }> };
    return [...new Set([...Object.values(state.environments ?? {}), ...Object.values(state.shared_services ?? {})].map((e) => e.project))];
  } catch {
    return [];
  }
}

/** Runs the docker CLI; its output's lines (an empty list when it fails). */
function docker(...args: string[]): string[] {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Names of the containers, networks or volumes matching all `labels`, or compose's project label starting with `composePrefix`. */
function list(kind: 'container' | 'network' | 'volume', labels: string[], composePrefix?: string): string[] {
  const ls = kind === 'container' ? ['ps', '-a'] : [kind, 'ls'];
  const name = kind === 'container' ? '{{.Names}}' : '{{.Name}}';
  if (composePrefix === undefined) return docker(...ls, ...labels.flatMap((l) => ['--filter', `label=${l}`]), '--format', name);
  return docker(...ls, '--filter', 'label=com.docker.compose.project', '--format', `${name} {{.Label "com.docker.compose.project"}}`)
    .map((l) => l.split(' '))
    .filter(([, p]) => (p ?? '').startsWith(composePrefix))
    .map(([n]) => n ?? '');
}

function removeAll(kind: 'container' | 'network' | 'volume', names: string[], into: string[]): void {
  const todo = names.filter((n) => n !== '' && !into.includes(n));
  if (todo.length === 0) return;
  const rm = kind === 'container' ? ['rm', '-f', '-v'] : [kind, 'rm'];
  // One at a time: one in use (a volume of a container another home still runs) does not stop the rest.
  for (const n of todo) if (spawnSync('docker', [...rm, n], { stdio: 'ignore', timeout: 120_000 }).status === 0) into.push(n);
}

function emptyRemoved(): Removed {
  return { processes: [], containers: [], networks: [], volumes: [] };
}

/**
 * Removes everything labelled with this cilo project, and what compose made for it (tests use
 * unique project names). Synchronous, with the docker CLI, like removeHome.
 */
export function removeProjectResources(project: string, into: Removed = emptyRemoved()): Removed {
  const compose = `cilo-${project}-`;
  removeAll('container', [...list('container', ['cilo=true', `cilo.project=${project}`]), ...list('container', [], compose)], into.containers);
  removeAll('network', list('network', ['cilo=true', `cilo.project=${project}`]), into.networks);
  removeAll('volume', [...list('volume', [`cilo.project=${project}`]), ...list('volume', [], compose)], into.volumes);
  return into;
}

/**
 * Ends a test home: kills its processes and waits until they are gone (so none makes anything
 * more), removes the containers, networks and volumes labelled with its id and those of the
 * projects its state knows, then its directory. Synchronous: called on SIGTERM, no test code of
 * this process runs in between (a test going on would make more).
 */
export function removeHome(home: string): Removed {
  const out = emptyRemoved();
  // Until none is left: a process being started by one just killed (compose by cilo) shows up later.
  for (let round = 0; round < 10; round++) {
    const found = processesOfHome(home);
    if (found.length === 0) break;
    for (const pid of found) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!out.processes.includes(pid)) out.processes.push(pid);
      } catch {
        // already gone
      }
    }
    const end = Date.now() + 30_000;
    while (found.some(pidAlive) && Date.now() < end) pauseSync(20);
  }
  const label = `${LABELS.home}=${homeId(ciloPaths(resolve(home)))}`;
  removeAll('container', list('container', [label]), out.containers);
  for (const p of projectsOf(home)) removeProjectResources(p, out);
  removeAll('network', list('network', [label]), out.networks);
  removeAll('volume', list('volume', [label]), out.volumes);
  rmSync(home, { recursive: true, force: true });
  return out;
}

const FAKE_REMOTE = join(dirname(fileURLToPath(import.meta.url)), 'fake-remote.sh');

/** Ends a fake remote machine (its namespaces, dockerd, sshd, veth pair): fake-remote.sh down. */
export function stopFakeRemote(dir: string): Removed {
  spawnSync('bash', [FAKE_REMOTE, 'down', resolve(dir)], { stdio: 'ignore', timeout: 300_000 });
  return emptyRemoved();
}

/**
 * Undoes a simulated Docker Desktop (test/support/desktop-sim.ts: a user of the test's own and
 * its iptables rules) by the script it wrote before making anything.
 */
export function stopDesktopSim(dir: string): Removed {
  if (existsSync(join(dir, 'undo.sh'))) spawnSync('sh', [join(dir, 'undo.sh')], { stdio: 'ignore', timeout: 120_000 });
  return emptyRemoved();
}

/**
 * Cleanups to run when this process is told to stop (SIGTERM: the runner cancelled the file at
 * its time limit; SIGINT: Ctrl-C), when the `after` hooks that would run them never will. They
 * run synchronously, so no test goes on making things meanwhile; then the process exits. The
 * records stay for the sweep after the run, which checks again.
 */
const onStop = new Set<() => void>();
function stopNow(signal: NodeJS.Signals): void {
  process.stderr.write(`cilo tests: ${signal}: cleaning up ${onStop.size} test home(s) and machine(s) before exiting\n`);
  for (const fn of onStop) {
    try {
      fn();
    } catch (e) {
      process.stderr.write(`cilo tests: a cleanup failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}
let handling = false;
/** Runs `fn` if this process is told to stop before the returned function is called. */
export function whenStopped(fn: () => void): () => void {
  if (!handling) {
    handling = true;
    process.once('SIGTERM', stopNow);
    process.once('SIGINT', stopNow);
  }
  onStop.add(fn);
  return () => onStop.delete(fn);
}

export interface SweepReport {
  /** Homes (and fake remote machines) of ended owners, removed. */
  homes: { home: string; owner: number; removed: Removed }[];
  /** Homes of owners still running, left alone. */
  live: number;
}

/** Removes every recorded home whose owner process has ended, and forgets it. */
export function sweepDeadHomes(dir = OWNERS_DIR): SweepReport {
  const report: SweepReport = { homes: [], live: 0 };
  for (const r of readRecords(dir)) {
    if (ownerAlive(r)) {
      report.live += 1;
      continue;
    }
    const removed = r.kind === 'fake-remote' ? stopFakeRemote(r.home) : r.kind === 'desktop-sim' ? stopDesktopSim(r.home) : removeHome(r.home);
    forgetHome(r.home, dir);
    report.homes.push({ home: r.home, owner: r.pid, removed });
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const report = sweepDeadHomes();
  const count = (k: keyof Removed): number => report.homes.reduce((n, h) => n + h.removed[k].length, 0);
  if (report.homes.length > 0) {
    const what = `${count('processes')} processes, ${count('containers')} containers, ${count('networks')} networks, ${count('volumes')} volumes`;
    console.error(`test sweep: removed what the test process had left of ${report.homes.map((h) => h.home).join(', ')} (${what}, then the directories; a fake remote machine by fake-remote.sh down).`);
  }
}
