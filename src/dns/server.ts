/**
 * cilo's DNS server: UDP and TCP on a loopback address, answering from a zone it asks for on
 * every query (the caller makes that cheap and current, see zone-source.ts).
 *
 * Robustness: every message goes through `respond`, which never throws; a TCP peer that sends
 * garbage, stalls or does not read is dropped; connections are capped, the least recently
 * active one making room for a new one, so idle connections cannot lock clients out.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { CiloError } from '../errors.js';
import { respond } from './respond.js';
import type { Zone } from './zone.js';

export interface DnsServerOptions {
  /** A loopback address; anything else is refused (cilo is not a resolver for the network). */
  host: string;
  port: number;
  loadZone: () => Zone;
  log: (line: string) => void;
  /** Text answered to `id.server CH TXT`. */
  identity?: string;
  /** RFC 7766 recommends closing idle connections after seconds, not minutes. */
  tcpIdleMs?: number;
  maxTcpConnections?: number;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_TCP_IDLE_MS = 10_000;
const DEFAULT_MAX_TCP = 128;
/** A peer that does not read its answers is not allowed to make us buffer without bound. */
const MAX_TCP_PENDING_WRITE = 256 * 1024;

function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1';
}

function bindError(e: unknown, host: string, port: number, proto: 'UDP' | 'TCP'): CiloError {
  const code = (e as NodeJS.ErrnoException).code;
  const hint = 'Stop the program that uses it, or choose another port with `cilo init --dns-port N`.';
  if (code === 'EADDRINUSE') {
    return new CiloError('DNS', `Port ${port} on ${host} is already in use (${proto}), so the DNS server cannot start.`, { hint, cause: e });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new CiloError('DNS', `Binding port ${port} on ${host} (${proto}) needs privileges this user does not have.`, {
      hint: 'Choose a port above 1023 with `cilo init --dns-port N`.',
      cause: e,
    });
  }
  return new CiloError('DNS', `The DNS server cannot listen on ${host}:${port} (${proto}): ${(e as Error).message}.`, { hint, cause: e });
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    const onError = (e: Error): void => {
      sock.close();
      reject(bindError(e, host, port, 'UDP'));
    };
    sock.once('error', onError);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(bindError(e, host, port, 'TCP'));
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const { host, port, loadZone, log } = opts;
  if (!isLoopback(host)) throw new CiloError('DNS', `The DNS server only listens on loopback addresses, not ${host}.`, { hint: 'Use 127.0.0.1.' });
  const identity = opts.identity ?? 'cilo';
  const idleMs = opts.tcpIdleMs ?? DEFAULT_TCP_IDLE_MS;
  const maxTcp = opts.maxTcpConnections ?? DEFAULT_MAX_TCP;

  // A failure here must never take the server down; log it, at most once a second.
  let lastComplaint = 0;
  const complain = (what: string, e: unknown): void => {
    const now = Date.now();
    if (now - lastComplaint < 1000) return;
    lastComplaint = now;
    log(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  };
  const handle = (msg: Uint8Array): Buffer | null => {
    try {
      return respond(msg, loadZone(), identity);
    } catch (e) {
      complain('query failed', e);
      return null;
    }
  };

  const udp = await bindUdp(host, port);
  udp.on('error', (e) => complain('UDP socket error', e));
  udp.on('message', (msg, rinfo) => {
    if (rinfo.port === 0) return;
    const resp = handle(msg);
    // No callback: a failed send surfaces as the socket's 'error' event, handled above.
    if (resp !== null) udp.send(resp, rinfo.port, rinfo.address);
  });

  // Connections in order of last activity (a Set keeps insertion order; touching re-inserts).
  const conns = new Set<Socket>();
  const touch = (s: Socket): void => {
    conns.delete(s);
    conns.add(s);
  };
  const tcp = createServer((sock) => {
    if (conns.size >= maxTcp) {
      const oldest = conns.values().next().value;
      if (oldest !== undefined) {
        conns.delete(oldest);
        oldest.destroy();
      }
    }
    conns.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => sock.destroy());
    sock.on('error', () => undefined); // resets and the like: the peer's problem
    sock.on('close', () => conns.delete(sock));
    let pending: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      touch(sock);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // RFC 7766: two-byte length prefix, several messages per connection, answered in order.
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (len < 12) {
          sock.destroy(); // not even a header: not a DNS stream
          return;
        }
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const resp = handle(msg);
        if (resp === null) continue;
        const framed = Buffer.allocUnsafe(2 + resp.length);
        framed.writeUInt16BE(resp.length, 0);
        resp.copy(framed, 2);
        sock.write(framed);
        if (sock.writableLength > MAX_TCP_PENDING_WRITE) {
          sock.destroy();
          return;
        }
      }
      // The unparsed rest is a copy-free view; keep it from pinning a large chunk forever.
      if (pending.length > 0 && pending.buffer.byteLength > 4 * 65_537) pending = Buffer.from(pending);
    });
  });
  tcp.on('error', (e) => complain('TCP server error', e));
  try {
    await listenTcp(tcp, host, port);
  } catch (e) {
    udp.close();
    throw e;
  }

  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of conns) s.destroy();
        conns.clear();
        let left = 2;
        const done = (): void => {
          left -= 1;
          if (left === 0) resolve();
        };
        tcp.close(() => done());
        udp.close(() => done());
      }),
  };
}
