/**
 * The DNS server's control as core sees it (core/ports.ts `DnsControl`), bound to one home.
 */
import { createSocket } from 'node:dgram';
import type { CiloPaths } from '../state/paths.js';
import { addressesOf, queryDns } from './client.js';
import { daemonStatus, startDaemon, stopDaemon } from './daemon.js';

/** True when another program holds the UDP port on loopback. */
function udpPortTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', (e: NodeJS.ErrnoException) => {
      sock.close();
      resolve(e.code === 'EADDRINUSE');
    });
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(false)));
  });
}

export function dnsControl(paths: CiloPaths) {
  return {
    ensureRunning: async (): Promise<void> => {
      await startDaemon(paths);
    },
    start: async (): Promise<void> => {
      await startDaemon(paths);
    },
    stop: async (): Promise<void> => {
      await stopDaemon(paths);
    },
    status: async () => {
      const s = await daemonStatus(paths);
      return { running: s.running, answering: s.answering, port: s.port };
    },
    lookup: (port: number, name: string, timeoutMs: number): Promise<string[]> =>
      queryDns({ port, name, timeoutMs }).then(addressesOf, () => [] as string[]),
    portTaken: udpPortTaken,
  };
}
