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
 * A home of a live process (another suite running on this machine) is never touched.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerClient } from '../../src/docker/client.js';
import { LABELS } from '../../src/domain/names.js';
import { ciloPaths, homeId } from '../../src/state/paths.js';

/** Where the records of live test homes are kept (one JSON file per home). */
export const OWNERS_DIR = join(tmpdir(), 'cilo-test-homes');

export interface HomeRecord {
  home: string;
  pid: number;
  /** The owner's start time (/proc/<pid>/stat), so that a reused pid is not taken for it. */
  start: string | null;
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

/** Records `home` as owned by this process (makeHome calls it before anything can be made). */
export function recordHome(home: string, dir = OWNERS_DIR): void {
  mkdirSync(dir, { recursive: true });
  const r: HomeRecord = { home, pid: process.pid, start: processStart(process.pid) };
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
      if (typeof r.home === 'string' && typeof r.pid === 'number') out.push({ home: r.home, pid: r.pid, start: typeof r.start === 'string' ? r.start : null });
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The cilo projects a home's state knows (its environments' and shared services'). */
function projectsOf(home: string): string[] {
  try {
    const state = JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')) as { environments?: Record<string, { project: string }>; shared_services?: Record<string, { project: string }> };
    return [...new Set([...Object.values(state.environments ?? {}), ...Object.values(state.shared_services ?? {})].map((e) => e.project))];
  } catch {
    return [];
  }
}

/**
 * Removes everything labelled with this cilo project, and what compose made for it (tests use
 * unique project names). Returns the names of what it removed.
 */
export async function removeProjectResources(project: string, docker = new DockerClient(), into: Removed = emptyRemoved()): Promise<Removed> {
  const filters = { label: ['cilo=true', `cilo.project=${project}`] };
  const ofCompose = (labels: Record<string, string> | null | undefined): boolean => (labels?.['com.docker.compose.project'] ?? '').startsWith(`cilo-${project}-`);
  for (const c of [...(await docker.listContainers(filters)), ...(await docker.listContainers({ label: ['com.docker.compose.project'] })).filter((c) => ofCompose(c.Labels))]) {
    const name = c.Names[0]?.replace(/^\//, '') ?? c.Id;
    if (into.containers.includes(name)) continue;
    if (await removed(docker.removeContainer(c.Id, { force: true, volumes: true }))) into.containers.push(name);
  }
  for (const n of await docker.listNetworks(filters)) {
    if (!into.networks.includes(n.Name) && (await removed(docker.removeNetwork(n.Id)))) into.networks.push(n.Name);
  }
  for (const v of [...(await docker.listVolumes({ label: [`cilo.project=${project}`] })), ...(await docker.listVolumes({ label: ['com.docker.compose.project'] })).filter((v) => ofCompose(v.Labels))]) {
    if (!into.volumes.includes(v.Name) && (await removed(docker.removeVolume(v.Name)))) into.volumes.push(v.Name);
  }
  return into;
}

/** Whether a removal went through; a failed one is left for the next sweep (and its caller's check). */
function removed(p: Promise<unknown>): Promise<boolean> {
  return p.then(
    (r) => r !== false,
    () => false,
  );
}

function emptyRemoved(): Removed {
  return { processes: [], containers: [], networks: [], volumes: [] };
}

/**
 * Ends a test home: kills its processes (and waits until they are gone, so none makes anything
 * more), removes the containers, networks and volumes labelled with its id and those of the
 * projects its state knows, then its directory.
 */
export async function removeHome(home: string, docker = new DockerClient()): Promise<Removed> {
  const out = emptyRemoved();
  // Twice: a process being started by one just killed (compose by cilo) is found the second time.
  for (let round = 0; round < 2; round++) {
    for (const pid of processesOfHome(home)) {
      try {
        process.kill(pid, 'SIGKILL');
        if (!out.processes.includes(pid)) out.processes.push(pid);
      } catch {
        // already gone
      }
    }
    const end = Date.now() + 30_000;
    while (out.processes.some(alive) && Date.now() < end) await pause(20);
  }
  const filters = { label: [`${LABELS.home}=${homeId(ciloPaths(resolve(home)))}`] };
  for (const c of await docker.listContainers(filters)) {
    const name = c.Names[0]?.replace(/^\//, '') ?? c.Id;
    if (await removed(docker.removeContainer(c.Id, { force: true, volumes: true }))) out.containers.push(name);
  }
  for (const p of projectsOf(home)) await removeProjectResources(p, docker, out);
  for (const n of await docker.listNetworks(filters)) {
    if (!out.networks.includes(n.Name) && (await removed(docker.removeNetwork(n.Id)))) out.networks.push(n.Name);
  }
  for (const v of await docker.listVolumes(filters)) {
    if (!out.volumes.includes(v.Name) && (await removed(docker.removeVolume(v.Name)))) out.volumes.push(v.Name);
  }
  rmSync(home, { recursive: true, force: true });
  return out;
}

export interface SweepReport {
  homes: { home: string; owner: number; removed: Removed }[];
  /** Homes of owners still running, left alone. */
  live: number;
}

/** Removes every recorded home whose owner process has ended, and forgets it. */
export async function sweepDeadHomes(dir = OWNERS_DIR, docker = new DockerClient()): Promise<SweepReport> {
  const report: SweepReport = { homes: [], live: 0 };
  for (const r of readRecords(dir)) {
    if (ownerAlive(r)) {
      report.live += 1;
      continue;
    }
    const removed = await removeHome(r.home, docker);
    forgetHome(r.home, dir);
    report.homes.push({ home: r.home, owner: r.pid, removed });
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const report = await sweepDeadHomes();
  const count = (k: keyof Removed): number => report.homes.reduce((n, h) => n + h.removed[k].length, 0);
  if (report.homes.length > 0) {
    const what = `${count('processes')} processes, ${count('containers')} containers, ${count('networks')} networks, ${count('volumes')} volumes`;
    console.error(`test sweep: removed ${what} of ${report.homes.length} test homes whose test process had ended (${report.homes.map((h) => h.home).join(', ')}).`);
  }
}
