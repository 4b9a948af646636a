/**
 * A container's stats read from the kernel's accounting on this machine, in the Engine's
 * `stats` shape, for `top`, the dashboard and admission (issue #26). The Engine answers a stats
 * request only at its collector's next tick (about a second; two for CPU): 64 environments read
 * through it took seconds. The same numbers are in the container's cgroup, a few file reads away.
 *
 * Found by the container's full ID under the layouts Docker uses on Linux (cgroup v1 and v2, the
 * cgroupfs and systemd drivers). Where none matches — an engine in a VM (Docker Desktop), a
 * remote or rootless engine — the reader answers null and the caller asks the Engine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { ContainerStats } from '../domain/engine.js';

const ROOT = '/sys/fs/cgroup';
/** /proc/stat counts in USER_HZ, which Linux fixes at 100 for user space. */
const NS_PER_TICK = 1e9 / 100;

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** `key value` lines (memory.stat, cpu.stat) as numbers. */
function keyValues(text: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

type Layout = { version: 1; dir: (controller: string) => string } | { version: 2; dir: string };

/** The container's cgroup directories, or null when this machine has none for it. */
function layoutOf(id: string): Layout | null {
  if (!/^[0-9a-f]{64}$/.test(id)) return null;
  for (const rel of [`docker/${id}`, `system.slice/docker-${id}.scope`]) {
    if (read(join(ROOT, rel, 'memory.current')) !== null) return { version: 2, dir: join(ROOT, rel) };
    if (read(join(ROOT, 'memory', rel, 'memory.usage_in_bytes')) !== null) {
      return { version: 1, dir: (controller) => join(ROOT, controller, rel) };
    }
  }
  return null;
}

/** The machine's CPU time in ns, as the Engine counts it (the `cpu` line of /proc/stat). */
function systemCpuNs(): number | undefined {
  const line = read('/proc/stat')?.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  return line.trim().split(/\s+/).slice(1, 8).reduce((n, v) => n + Number(v), 0) * NS_PER_TICK;
}

/** Bytes read and written, from v1's `blkio.throttle.io_service_bytes_recursive` or v2's `io.stat`. */
function blockIo(layout: Layout): { op: string; value: number }[] {
  let readBytes = 0;
  let writeBytes = 0;
  if (layout.version === 2) {
    for (const line of (read(join(layout.dir, 'io.stat')) ?? '').split('\n')) {
      readBytes += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
      writeBytes += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
  } else {
    for (const line of (read(join(layout.dir('blkio'), 'blkio.throttle.io_service_bytes_recursive')) ?? '').split('\n')) {
      const [, op, value] = line.trim().split(/\s+/);
      if (op === 'Read') readBytes += Number(value ?? 0);
      if (op === 'Write') writeBytes += Number(value ?? 0);
    }
  }
  return [{ op: 'read', value: readBytes }, { op: 'write', value: writeBytes }];
}

/** The interfaces of the network namespace of one of the cgroup's processes, loopback left out. */
function networks(procsFile: string): Record<string, { rx_bytes: number; tx_bytes: number }> {
  const pid = (read(procsFile) ?? '').split('\n').find((p) => /^\d+$/.test(p));
  const out: Record<string, { rx_bytes: number; tx_bytes: number }> = {};
  if (pid === undefined) return out;
  for (const line of (read(`/proc/${pid}/net/dev`) ?? '').split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = (m[2] ?? '').trim().split(/\s+/).map(Number);
    out[m[1]!] = { rx_bytes: f[0] ?? 0, tx_bytes: f[8] ?? 0 };
  }
  return out;
}

/** The container's stats from its cgroup on this machine; null when it has none here. */
export function cgroupStats(id: string): ContainerStats | null {
  const layout = layoutOf(id);
  if (layout === null) return null;
  const v2 = layout.version === 2;
  const memDir = v2 ? layout.dir : layout.dir('memory');
  const usage = Number(read(join(memDir, v2 ? 'memory.current' : 'memory.usage_in_bytes')) ?? NaN);
  const cpuNs = v2 ? (keyValues(read(join(layout.dir, 'cpu.stat'))).usage_usec ?? NaN) * 1000 : Number(read(join(cpuacctDir(layout), 'cpuacct.usage')) ?? NaN);
  if (!Number.isFinite(usage) || !Number.isFinite(cpuNs)) return null;
  return {
    read: new Date().toISOString(),
    cpu_stats: { cpu_usage: { total_usage: cpuNs }, system_cpu_usage: systemCpuNs(), online_cpus: cpus().length },
    memory_stats: { usage, stats: keyValues(read(join(memDir, 'memory.stat'))) },
    blkio_stats: { io_service_bytes_recursive: blockIo(layout) },
    networks: networks(join(memDir, 'cgroup.procs')),
  };
}

/** v1 mounts cpuacct alone or joined with cpu (`cpu,cpuacct`), depending on the distribution. */
function cpuacctDir(layout: Layout & { version: 1 }): string {
  const joined = readdirSafe(ROOT).find((d) => d.split(',').includes('cpuacct') && d.includes(','));
  return layout.dir(joined ?? 'cpuacct');
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
