/**
 * A small DNS client over UDP or TCP (dns-packet), for the daemon's probe and for tests: an
 * independent codec from the server's own wire.ts.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';

export type DecodedPacket = dnsPacket.DecodedPacket;

export interface QueryOptions {
  host?: string;
  port: number;
  name: string;
  type?: dnsPacket.RecordType;
  class?: dnsPacket.RecordClass;
  transport?: 'udp' | 'tcp';
  timeoutMs?: number;
  /** Add an EDNS OPT record, as dig and most resolvers do. */
  edns?: boolean;
}

function encodeQuery(o: QueryOptions, id: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: o.name, type: o.type ?? 'A', class: o.class ?? 'IN' }],
    additionals: o.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

class DnsTimeoutError extends Error {
  constructor(host: string, port: number, transport: string, ms: number) {
    super(`no DNS answer from ${host}:${port} over ${transport} within ${ms} ms`);
    this.name = 'DnsTimeoutError';
  }
}

/** Sends one query and resolves with the decoded response; rejects on timeout. */
export function queryDns(o: QueryOptions): Promise<DecodedPacket> {
  const host = o.host ?? '127.0.0.1';
  const timeoutMs = o.timeoutMs ?? 1000;
  const id = Math.floor(Math.random() * 65536);
  const query = encodeQuery(o, id);
  return o.transport === 'tcp' ? queryTcp(host, o.port, query, id, timeoutMs) : queryUdp(host, o.port, query, id, timeoutMs);
}

function queryUdp(host: string, port: number, query: Buffer, id: number, timeoutMs: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const finish = (err: Error | null, p?: DecodedPacket): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else if (p) resolve(p);
    };
    const timer = setTimeout(() => finish(new DnsTimeoutError(host, port, 'UDP', timeoutMs)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg) => {
      try {
        const p = dnsPacket.decode(msg);
        if (p.id === id) finish(null, p); // anything else is not ours: keep waiting
      } catch {
        // undecodable: keep waiting for the real answer
      }
    });
    sock.send(query, port, host);
  });
}

function queryTcp(host: string, port: number, query: Buffer, id: number, timeoutMs: number): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, p?: DecodedPacket): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else if (p) resolve(p);
    };
    const timer = setTimeout(() => finish(new DnsTimeoutError(host, port, 'TCP', timeoutMs)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('connect', () => {
      const framed = Buffer.alloc(2 + query.length);
      framed.writeUInt16BE(query.length, 0);
      query.copy(framed, 2);
      sock.write(framed);
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      try {
        const p = dnsPacket.decode(buf.subarray(2, 2 + len));
        if (p.id === id) finish(null, p);
        else finish(new Error('DNS answer with a wrong id'));
      } catch (e) {
        finish(e as Error);
      }
    });
    sock.on('close', () => finish(new Error(`connection to ${host}:${port} closed before an answer`)));
  });
}

/** The A addresses of a response. */
export function addressesOf(p: DecodedPacket): string[] {
  return (p.answers ?? []).filter((a): a is dnsPacket.StringAnswer => a.type === 'A').map((a) => a.data);
}
