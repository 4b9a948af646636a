/**
 * What an environment costs (issue #26, `cilo top`): a container's CPU, memory, block and
 * network use from the Engine's stats, and the sums per environment and shared service. Pure.
 */
import type { ContainerStats } from './engine.js';

export interface Usage {
  /** Percent of one CPU (200 = two CPUs busy), as `docker stats` shows it. */
  cpu_percent: number;
  /** Memory in use without the page cache the kernel can drop (as `docker stats`). */
  memory_bytes: number;
  block_read_bytes: number;
  block_write_bytes: number;
  net_rx_bytes: number;
  net_tx_bytes: number;
}

export const NO_USAGE: Usage = { cpu_percent: 0, memory_bytes: 0, block_read_bytes: 0, block_write_bytes: 0, net_rx_bytes: 0, net_tx_bytes: 0 };

/** Memory less the inactive page cache: cgroup v1 (`total_inactive_file`) and v2 (`inactive_file`), as the Docker CLI counts it. */
export function memoryInUse(s: ContainerStats): number {
  const usage = s.memory_stats.usage ?? 0;
  const stats = s.memory_stats.stats ?? {};
  const cache = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  return Math.max(0, cache < usage ? usage - cache : usage);
}

/**
 * CPU between two samples of one container, in percent of one CPU: the container's CPU time
 * over the system's, times the CPUs online. Zero without an earlier sample or when the clock of
 * the system did not move.
 */
export function cpuPercent(before: ContainerStats | undefined, after: ContainerStats): number {
  if (!before) return 0;
  const cpu = after.cpu_stats.cpu_usage.total_usage - before.cpu_stats.cpu_usage.total_usage;
  const system = (after.cpu_stats.system_cpu_usage ?? 0) - (before.cpu_stats.system_cpu_usage ?? 0);
  const cpus = after.cpu_stats.online_cpus ?? 1;
  if (cpu <= 0 || system <= 0) return 0;
  return (cpu / system) * cpus * 100;
}

function blockBytes(s: ContainerStats, op: 'read' | 'write'): number {
  return (s.blkio_stats?.io_service_bytes_recursive ?? []).filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
}

/** One container's use from its latest sample (and the one before, for CPU). */
export function containerUsage(before: ContainerStats | undefined, after: ContainerStats): Usage {
  const nets = Object.values(after.networks ?? {});
  return {
    cpu_percent: cpuPercent(before, after),
    memory_bytes: memoryInUse(after),
    block_read_bytes: blockBytes(after, 'read'),
    block_write_bytes: blockBytes(after, 'write'),
    net_rx_bytes: nets.reduce((n, x) => n + x.rx_bytes, 0),
    net_tx_bytes: nets.reduce((n, x) => n + x.tx_bytes, 0),
  };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    cpu_percent: a.cpu_percent + b.cpu_percent,
    memory_bytes: a.memory_bytes + b.memory_bytes,
    block_read_bytes: a.block_read_bytes + b.block_read_bytes,
    block_write_bytes: a.block_write_bytes + b.block_write_bytes,
    net_rx_bytes: a.net_rx_bytes + b.net_rx_bytes,
    net_tx_bytes: a.net_tx_bytes + b.net_tx_bytes,
  };
}

export function sumUsage(list: Iterable<Usage>): Usage {
  let total = NO_USAGE;
  for (const u of list) total = addUsage(total, u);
  return total;
}
