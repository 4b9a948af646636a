/**
 * Reading the DNS server's log (`$CILO_HOME/dns/dns.log`, where `cilo dns start` sends the
 * background process's output; rotated to `dns.log.1` past 1 MB at a start).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { CiloError } from '../errors.js';
import type { CiloPaths } from '../state/paths.js';

function readLog(paths: CiloPaths): string {
  try {
    return readFileSync(paths.dnsLog, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new CiloError('DNS', `The DNS server has written no log in ${paths.home} yet (no ${paths.dnsLog}).`, {
      hint: 'Start it with `cilo dns start` (`cilo init` and `cilo up` start it too).',
    });
  }
}

/** The log, or its last `lines` lines; with the byte offset where it ends, to follow it from there. */
export function dnsLog(paths: CiloPaths, lines?: number): { text: string; end: number } {
  const text = readLog(paths);
  const end = Buffer.byteLength(text);
  if (lines === undefined) return { text, end };
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  const kept = lines === 0 ? [] : all.slice(-lines);
  return { text: kept.map((l) => `${l}\n`).join(''), end };
}

/** Calls `write` with what is appended to the log after `from`, forever (a restart's rotation starts it over). */
export async function followDnsLog(paths: CiloPaths, from: number, write: (chunk: string) => void, intervalMs = 200): Promise<never> {
  let offset = from;
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    let size: number;
    try {
      size = statSync(paths.dnsLog).size;
    } catch {
      continue; // between a rotation and the new server's first line
    }
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const fd = openSync(paths.dnsLog, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const n = readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      write(buf.subarray(0, n).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  }
}
