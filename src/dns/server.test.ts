import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { isCiloError } from '../errors.js';
import { emptyState } from '../state/schema.js';
import { addressesOf, queryDns } from './client.js';
import { startDnsServer, type DnsServer } from './server.js';
import { buildZone } from './zone.js';

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
let server: DnsServer;

async function startOnFreePort(opts: { tcpIdleMs?: number; maxTcpConnections?: number } = {}): Promise<DnsServer> {
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
  server = await startOnFreePort({ tcpIdleMs: 300, maxTcpConnections: 8 });
});
after(() => server.close());

function frame(msg: Buffer): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  msg.copy(b, 2);
  return b;
}

function q(name: string, id: number): Buffer {
  return dnsPacket.encode({ type: 'query', id, questions: [{ name, type: 'A' }] });
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.port }, () => resolve(s));
    s.on('error', reject);
  });
}

test('answers over UDP and TCP', async () => {
  assert.deepEqual(addressesOf(await queryDns({ port: server.port, name: 'web.e1.test' })), ['10.224.1.2']);
  assert.deepEqual(addressesOf(await queryDns({ port: server.port, name: 'x.shop.e1.test', transport: 'tcp' })), ['10.224.1.2']);
});

test('several queries on one TCP connection, split across writes, are answered in order', async () => {
  const s = await open();
  const got: number[] = [];
  await new Promise<void>((resolve) => {
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        got.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).id ?? -1);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (got.length === 3) resolve();
    });
    // The second frame split across writes: framing must not depend on packet boundaries.
    const all = Buffer.concat([frame(q('web.e1.test', 1)), frame(q('nope.e1.test', 2)), frame(q('example.com', 3))]);
    s.write(all.subarray(0, 40));
    setTimeout(() => s.write(all.subarray(40)), 20);
  });
  s.destroy();
  assert.deepEqual(got, [1, 2, 3]);
});

test('idle TCP connections are closed', async () => {
  const s = await open();
  const closedAt = await new Promise<number>((resolve) => s.on('close', () => resolve(Date.now())));
  assert.ok(closedAt > 0);
});

test('at the connection cap the least recently active connection makes room', async () => {
  const idle = await Promise.all(Array.from({ length: 8 }, () => open()));
  const closed = idle.map((s) => new Promise<void>((r) => s.on('close', () => r())));
  const p = await queryDns({ port: server.port, name: 'web.e1.test', transport: 'tcp' });
  assert.deepEqual(addressesOf(p), ['10.224.1.2']);
  await Promise.race([closed[0], new Promise((_, rej) => setTimeout(() => rej(new Error('oldest not evicted')), 1000))]);
  for (const s of idle) s.destroy();
});

test('a frame too short to be DNS closes the connection', async () => {
  const s = await open();
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  s.write(Buffer.from([0, 3, 1, 2, 3]));
  await closed;
});

test('a zone that throws is logged, not fatal', async () => {
  let calls = 0;
  const broken = await startDnsServer({
    host: '127.0.0.1',
    port: server.port + 1,
    loadZone: () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return zone;
    },
    log: (l) => logs.push(l),
  }).catch(() => null);
  if (broken === null) return; // port taken by someone else: nothing to learn here
  try {
    await assert.rejects(queryDns({ port: broken.port, name: 'web.e1.test', timeoutMs: 200 }));
    assert.deepEqual(addressesOf(await queryDns({ port: broken.port, name: 'web.e1.test' })), ['10.224.1.2']);
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
