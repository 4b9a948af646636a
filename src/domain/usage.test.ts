import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ContainerStats } from './engine.js';
import { containerUsage, cpuPercent, memoryInUse, sumUsage } from './usage.js';

function sample(over: Partial<{ cpu: number; system: number; cpus: number; usage: number; stats: Record<string, number> }> = {}): ContainerStats {
  return {
    read: '2026-12-07T00:00:00Z',
    cpu_stats: { cpu_usage: { total_usage: over.cpu ?? 0 }, system_cpu_usage: over.system ?? 0, online_cpus: over.cpus ?? 2 },
    memory_stats: { usage: over.usage ?? 0, stats: over.stats ?? {} },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'write', value: 100 }, { op: 'Total', value: 4196 }] },
    networks: { eth0: { rx_bytes: 10, tx_bytes: 20 }, eth1: { rx_bytes: 1, tx_bytes: 2 } },
  };
}

test('CPU is the container time over the system time, times the CPUs, as docker stats shows it', () => {
  const before = sample({ cpu: 1_000, system: 100_000 });
  const after = sample({ cpu: 51_000, system: 200_000, cpus: 2 });
  assert.equal(cpuPercent(before, after), 100);
  assert.equal(cpuPercent(undefined, after), 0, 'one sample says nothing of CPU');
  assert.equal(cpuPercent(after, after), 0, 'no time passed: zero, not NaN');
});

test('memory leaves out the inactive page cache (cgroup v1 and v2 names)', () => {
  assert.equal(memoryInUse(sample({ usage: 10_000, stats: { total_inactive_file: 4_000 } })), 6_000);
  assert.equal(memoryInUse(sample({ usage: 10_000, stats: { inactive_file: 1_000 } })), 9_000);
  assert.equal(memoryInUse(sample({ usage: 10_000, stats: { inactive_file: 20_000 } })), 10_000, 'a cache larger than the usage is not subtracted');
});

test('block and network bytes are summed over operations and interfaces; usages add up', () => {
  const u = containerUsage(undefined, sample({ usage: 100 }));
  assert.deepEqual({ r: u.block_read_bytes, w: u.block_write_bytes, rx: u.net_rx_bytes, tx: u.net_tx_bytes }, { r: 4096, w: 100, rx: 11, tx: 22 });
  const total = sumUsage([u, u]);
  assert.equal(total.memory_bytes, 200);
  assert.equal(total.net_tx_bytes, 44);
});
