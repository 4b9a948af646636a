/**
 * cilo's DNS server: UDP and TCP on a loopback address, answering from a zone it asks for on
 * every query (the caller makes that cheap and current, see zone-source.ts).
 *
 * Robustness: every message goes through `respond`, which never throws; a TCP peer that sends
 * garbage, stalls or does not read is dropped; connections are capped, the least recently
 * active one making room for a new one, so idle connections cannot lock clients out.
 *
 * Waking (issue #26): an answer about a name of an idle-paused environment is sent once
 * `onWake` for it settles (or after `wakeCapMs`, answered anyway): the caller sees a slower first
 * answer and finds the environment running. Concurrent queries for one environment share one
 * wake. Every other answer is sent from the socket's handler without awaiting anything, so a
 * wake (seconds of Docker calls) never delays another environment's names. Each answer about an
 * environment's name is remembered as its last use (`seen`), for the idle supervisor, in memory.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { CiloError } from '../errors.js';
import { respondTo, type Reply } from './respond.js';
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
  /** Wakes an idle-paused environment; `why` names the query (`DNS query for web.e1.test`). */
  onWake?: (env: string, why: string) => Promise<unknown>;
  /** The longest an answer waits for a wake before it is sent anyway. */
  wakeCapMs?: number;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  /** When a name of `env` was last answered (ms since the epoch, to 250 ms), in this process; null if never. */
  seen(env: string): number | null;
  close(): Promise<void>;
}

const DEFAULT_TCP_IDLE_MS = 10_000;
const DEFAULT_MAX_TCP = 128;
/** Thawing takes well under a second; an engine that hangs must not keep a client waiting long. */
const DEFAULT_WAKE_CAP_MS = 5000;
const SEEN_RESOLUTION_MS = 250;
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
  // When names were answered, to a quarter of a second: the idle pause counts in seconds, and
  // reading the clock per query was a measurable part of a query's cost (~3 µs in all).
  const lastSeen = new Map<string, number>();
  let now = Date.now();
  const clock = setInterval(() => (now = Date.now()), SEEN_RESOLUTION_MS);
  clock.unref();
  const handle = (msg: Uint8Array): Reply | null => {
    try {
      const r = respondTo(msg, loadZone(), identity);
      if (r?.env !== undefined) lastSeen.set(r.env, now);
      return r;
    } catch (e) {
      complain('query failed', e);
      return null;
    }
  };
  let closed = false;
  const later = wakeQueue(opts, log);

  const udp = await bindUdp(host, port);
  udp.on('error', (e) => complain('UDP socket error', e));
  udp.on('message', (msg, rinfo) => {
    if (rinfo.port === 0) return;
    const resp = handle(msg);
    if (resp === null) return;
    // No callback: a failed send surfaces as the socket's 'error' event, handled above.
    if (resp.wake === undefined || later === undefined) udp.send(resp.bytes, rinfo.port, rinfo.address);
    else later(resp.wake, resp.name, () => closed || udp.send(resp.bytes, rinfo.port, rinfo.address));
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
        if (resp.wake !== undefined && later !== undefined) {
          // Sent when its environment is awake, after answers to later queries on this
          // connection if need be: RFC 7766 6.2.1.1 lets a server answer pipelined queries out of order.
          later(resp.wake, resp.name, () => sock.destroyed || writeFramed(sock, resp.bytes));
          continue;
        }
        if (!writeFramed(sock, resp.bytes)) return;
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
    seen: (env) => lastSeen.get(env) ?? null,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        clearInterval(clock);
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

/** Writes one RFC 7766 frame; a peer that does not read is dropped (returns false then). */
function writeFramed(sock: Socket, resp: Buffer): boolean {
  const framed = Buffer.allocUnsafe(2 + resp.length);
  framed.writeUInt16BE(resp.length, 0);
  resp.copy(framed, 2);
  sock.write(framed);
  if (sock.writableLength > MAX_TCP_PENDING_WRITE) {
    sock.destroy();
    return false;
  }
  return true;
}

interface Wake {
  /** Settles (never rejects) when the wake does. */
  done: Promise<void>;
  /** The cap was logged for this wake (once, not once per waiting query). */
  capLogged: boolean;
}

/**
 * `later(env, name, send)`: calls `send` once `env` is awake, or after the cap; undefined without
 * `onWake` (nothing to wait for). One wake per environment at a time, shared by its queries.
 */
function wakeQueue(opts: DnsServerOptions, log: (line: string) => void): ((env: string, name: string, send: () => unknown) => void) | undefined {
  const { onWake } = opts;
  if (onWake === undefined) return undefined;
  const capMs = opts.wakeCapMs ?? DEFAULT_WAKE_CAP_MS;
  const wakes = new Map<string, Wake>();
  const start = (env: string, name: string): Wake => {
    const began = Date.now();
    const w: Wake = { done: Promise.resolve(), capLogged: false };
    w.done = Promise.resolve()
      .then(() => onWake(env, `DNS query for ${name}`))
      .then(
        (outcome) => {
          // The outcome as the waker names it (core: `woke`, or `not-idle-paused` when someone else was first).
          const what = typeof outcome === 'string' ? outcome : 'done';
          log(`wake of ${env} for ${name}: ${what} in ${Date.now() - began} ms${w.capLogged ? ' (answered before, at the cap)' : ''}`);
        },
        (e: unknown) => log(`could not wake ${env} for ${name}, answered anyway: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => wakes.delete(env));
    return w;
  };
  return (env, name, send) => {
    let w = wakes.get(env);
    if (w === undefined) {
      w = start(env, name);
      wakes.set(env, w);
    }
    const wake = w;
    let sent = false;
    const go = (): void => {
      if (sent) return;
      sent = true;
      clearTimeout(cap);
      send();
    };
    const cap = setTimeout(() => {
      if (!wake.capLogged) log(`${env} not awake after ${capMs} ms: answered ${name} anyway`);
      wake.capLogged = true;
      go();
    }, capMs);
    cap.unref();
    void wake.done.then(go);
  };
}
