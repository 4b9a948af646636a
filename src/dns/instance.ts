/**
 * What identifies a running DNS server: `dns/dns.pid` (the pid alone, the conventional format
 * other tools and the test helpers read) and `dns/dns.json` (pid, port, start token). The server
 * writes both after it has bound its sockets; nothing ever trusts them without checking that
 * the process is alive and really is that server (see daemon.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CiloPaths } from '../state/paths.js';
import { writeFileAtomic } from '../files/atomic.js';

/** Where the server listens: loopback only, never an open resolver. */
export const DNS_ADDRESS = '127.0.0.1';
/** The CH TXT name the server answers with its pid and start token, so a client can tell it is ours. */
export const IDENTITY_NAME = 'id.server';

export interface DnsInstance {
  pid: number;
  port: number;
  /** Random per start; also on the server's command line and in its id.server answer. */
  token: string;
  started_at: string;
}

function instancePath(paths: CiloPaths): string {
  return join(paths.dnsDir, 'dns.json');
}

export function startLockPath(paths: CiloPaths): string {
  return join(paths.dnsDir, 'start.lock');
}

/** The identity text a server answers to `id.server CH TXT`. */
export function identityText(pid: number, token: string): string {
  return `cilo pid=${pid} token=${token}`;
}

export function parseIdentity(text: string): { pid: number; token: string } | null {
  const m = /^cilo pid=(\d+) token=([0-9a-f]+)$/.exec(text);
  return m ? { pid: Number(m[1]), token: m[2] ?? '' } : null;
}

function validPid(n: number): boolean {
  return Number.isSafeInteger(n) && n > 1;
}

export function readPidFile(paths: CiloPaths): number | null {
  try {
    const n = Number(readFileSync(paths.dnsPid, 'utf8').trim());
    return validPid(n) ? n : null;
  } catch {
    return null;
  }
}

export function readInstance(paths: CiloPaths): DnsInstance | null {
  try {
    const v = JSON.parse(readFileSync(instancePath(paths), 'utf8')) as Partial<DnsInstance>;
    if (typeof v.pid !== 'number' || !validPid(v.pid)) return null;
    if (typeof v.port !== 'number' || typeof v.token !== 'string' || !/^[0-9a-f]{8,64}$/.test(v.token)) return null;
    return { pid: v.pid, port: v.port, token: v.token, started_at: typeof v.started_at === 'string' ? v.started_at : '' };
  } catch {
    return null;
  }
}

/** Instance first, then the pid file: a pid file present means its instance record is too. */
export function writeInstance(paths: CiloPaths, inst: DnsInstance): void {
  writeFileAtomic(instancePath(paths), `${JSON.stringify(inst)}\n`, 0o600);
  writeFileAtomic(paths.dnsPid, `${inst.pid}\n`, 0o600);
}

/** Removes the files; with `onlyPid`, only if they still name that process (a newer server may own them). */
export function removeInstance(paths: CiloPaths, onlyPid?: number): void {
  if (onlyPid !== undefined) {
    const pid = readPidFile(paths);
    if (pid !== null && pid !== onlyPid) return;
  }
  rmSync(paths.dnsPid, { force: true });
  rmSync(instancePath(paths), { force: true });
}
