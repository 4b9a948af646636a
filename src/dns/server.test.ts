import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { ask, resolveA } from '../../test/support/dns-query.js';
import { waitFor } from '../../test/support/wait.js';
import { isCiloError } from '../errors.js';
import { emptyState } from '../state/schema.js';
import { startDnsServer, type DnsServer, type DnsServerOptions } from './server.js';
import { buildZone } from './zone.js';

// Answers are checked with the tests' own client (test/support/dns-query.ts), not src/dns/client.ts.

const state = emptyState();
state.environments['e1'] = {
  name: 'e1',
  project: 'shop',
  source: '/s',
  workspace: '/w',
  subnet: '10.224.1.0/24',
  dns_suffix: '.test',
  status: 'running',
  created_at: '',
  updated_at: '',
  services: { web: { ip: '10.224.1.2', type: 'isolated' } },
  ingress: 'web',
  hostnames: [],
  shared: [],
};
const zone = buildZone(state);
const logs: string[] = [];
/** Closes idle TCP connections quickly, for the idle test. */
let server: DnsServer;
/** Never closes a connection for idleness within a test: what closes one there is something else. */
let patient: DnsServer;

async function startOnFreePort(opts: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
  for (let i = 0; ; i++) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    try {
      return await startDnsServer({ host: '127.0.0.1', port, loadZone: () => zone, log: (l) => logs.push(l), ...opts });
    } catch (e) {
      if (i > 20 || !(isCiloError(e) && /in use/.test(e.message))) throw e;
    }
  }
}

before(async () => {
  server = await startOnFreePort({ tcpIdleMs: 300 });
  patient = await startOnFreePort({ tcpIdleMs: 120_000, maxTcpConnections: 8 });
});
after(async () => {
  await server.close();
  await patient.close();
});

function frame(msg: Buffer): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  msg.copy(b, 2);
  return b;
}

function q(name: string, id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, questions: [{ name, type: 'A' }] });
}

interface Conn {
  socket: Socket;
  /** Decoded replies, in the order they arrived. */
  replies: (dnsPacket.DecodedPacket & { rcode?: string })[];
  /** Set when the connection is closed; the tests never close one themselves before checking. */
  closed: boolean;
}

/** A raw TCP connection to the server that decodes the RFC 7766 frames it receives. */
function open(to: DnsServer): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: to.port }, () => resolve(conn));
    const conn: Conn = { socket, replies: [], closed: false };
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('close', () => (conn.closed = true));
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        conn.replies.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
  });
}

const closedByServer = (c: Conn, why: string): Promise<unknown> => waitFor(() => c.closed, { what: `the server to close ${why}`, deadlineMs: 10_000 });

test('answers over UDP and TCP: authoritative A records of the name asked', async () => {
  assert.deepEqual(await resolveA(server.port, 'web.e1.test'), ['10.224.1.2']);
  assert.deepEqual(await resolveA(server.port, 'x.shop.e1.test', { tcp: true }), ['10.224.1.2']);
  const nx = await ask({ port: server.port, name: 'nope.e1.test', tcp: true });
  assert.deepEqual([nx.rcode, nx.aa, nx.answers.length], ['NXDOMAIN', true, 0]);
});

test('several queries on one TCP connection, split across writes, are answered in order', async () => {
  const c = await open(patient);
  // The second frame split across two writes: framing must not depend on packet boundaries.
  const all = Buffer.concat([frame(q('web.e1.test', 1)), frame(q('nope.e1.test', 2)), frame(q('example.com', 3))]);
  c.socket.write(all.subarray(0, 40));
  // A gap between the writes so that they leave as separate segments (not a wait for anything).
  setTimeout(() => c.socket.write(all.subarray(40)), 20);
  await waitFor(() => c.replies.length === 3, { what: 'three replies on one connection' });
  c.socket.destroy();
  assert.deepEqual(c.replies.map((p) => [p.id, p.rcode]), [
    [1, 'NOERROR'],
    [2, 'NXDOMAIN'],
    [3, 'REFUSED'],
  ]);
});

test('a TCP connection stays open while used and is closed by the server once idle', async () => {
  const c = await open(server);
  c.socket.write(frame(q('web.e1.test', 1)));
  await waitFor(() => c.replies.length === 1, { what: 'the first reply' });
  // Answering does not close it: a second query on the same connection is answered too.
  c.socket.write(frame(q('web.e1.test', 2)));
  await waitFor(() => c.replies.length === 2, { what: 'a second reply on the same connection' });
  assert.deepEqual(c.replies.map((p) => p.id), [1, 2]);
  await closedByServer(c, 'a connection idle for longer than tcpIdleMs (300 ms)');
});

test('at the connection cap the least recently active connection makes room', async () => {
  const idle: Conn[] = [];
  for (let i = 0; i < 8; i++) idle.push(await open(patient));
  try {
    assert.deepEqual(await resolveA(patient.port, 'web.e1.test', { tcp: true }), ['10.224.1.2']);
    await closedByServer(idle[0]!, 'the oldest idle connection');
    // Only the oldest: the others are as idle, and the server closes none for idleness here.
    assert.deepEqual(idle.map((c) => c.closed), [true, false, false, false, false, false, false, false]);
  } finally {
    for (const c of idle) c.socket.destroy();
  }
});

test('a frame too short to be DNS closes the connection', async () => {
  const c = await open(patient);
  c.socket.write(Buffer.from([0, 3, 1, 2, 3]));
  await closedByServer(c, 'a connection that sent a 3-byte frame');
  assert.deepEqual(c.replies, [], 'no reply to it');
});

test('a zone that throws is logged, not fatal', async () => {
  let calls = 0;
  const broken = await startOnFreePort({
    loadZone: () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return zone;
    },
  });
  try {
    await assert.rejects(ask({ port: broken.port, name: 'web.e1.test', timeoutMs: 200 }), /no reply/);
    assert.deepEqual(await resolveA(broken.port, 'web.e1.test'), ['10.224.1.2']);
    assert.ok(logs.some((l) => l.includes('boom')));
  } finally {
    await broken.close();
  }
});

test('a port in use is a DNS error naming the port and the fix', async () => {
  await assert.rejects(
    startDnsServer({ host: '127.0.0.1', port: server.port, loadZone: () => zone, log: () => undefined }),
    (e: unknown) => isCiloError(e) && e.code === 'DNS' && e.message.includes(String(server.port)) && /--dns-port/.test(e.hint ?? ''),
  );
  // Only TCP taken: UDP must be released again, not leaked.
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const port = udp.address().port;
  udp.close();
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  try {
    await assert.rejects(startDnsServer({ host: '127.0.0.1', port, loadZone: () => zone, log: () => undefined }), /TCP/);
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', () => resolve());
    });
    again.close();
  } finally {
    blocker.close();
  }
});

test('refuses to listen on anything but loopback', async () => {
  await assert.rejects(startDnsServer({ host: '0.0.0.0', port: 5399, loadZone: () => zone, log: () => undefined }), /loopback/);
});
