/**
 * Facts about other processes, for telling our DNS server from whatever else has its pid now.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Alive and signalable by us. A zombie (dead, not yet reaped) does not count. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: alive but someone else's, so certainly not a server this user started.
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself contain ") ").
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // No /proc (macOS): kill(0) is all we know.
  }
  return true;
}

/** The process's arguments, or null if they cannot be read. */
export function commandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    if (process.platform === 'linux') return null;
  }
  const r = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(/\s+/) : null;
}

/** Resolves once `pid` is gone, or with false after `ms`. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !isAlive(pid);
}

/**
 * SIGTERM, then SIGKILL if it is still there after `ms`. Returns whether the process is gone
 * (one that was gone before counts as gone).
 */
export async function terminate(pid: number, ms: number): Promise<boolean> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitForExit(pid, ms)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return true;
  }
  return waitForExit(pid, 1000);
}
