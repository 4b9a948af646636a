/**
 * cilo's DNS server, end to end: the built CLI starts it (`cilo dns start`), the test writes
 * state directly (fake running environments, no Docker needed for the naming rules) and asks
 * over UDP and TCP with the tests' own client (test/support/dns-query.ts: dns-packet on its own
 * sockets, sharing no code with cilo's DNS), and with dig when installed.
 */
import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { ciloPaths } from '../../src/state/paths.js';
import type { EnvironmentState, State } from '../../src/domain/state.js';
import { withStateLock } from '../../src/state/store.js';
import { ask as askAt, resolveA, waitForAddresses, type Question, type Reply } from '../support/dns-query.js';
import { makeHome, uid, waitFor, type TestHome } from './helpers.js';

let h: TestHome;
let port: number;
// Unique project names: the helpers' cleanup removes Docker resources by project label.
const P = uid('shop');
const Q = uid('blog');

function env(name: string, over: Partial<EnvironmentState> = {}): EnvironmentState {
  return {
    name,
    project: P,
    source: '/nowhere',
    workspace: '/nowhere',
    subnet: '10.231.1.0/24',
    dns_suffix: '.test',
    status: 'running',
    created_at: '2024-01-01T00:00:00Z',
    updated_at: '2024-01-01T00:00:00Z',
    services: {
      web: { ip: '10.231.1.2', type: 'isolated' },
      api: { ip: '10.231.1.3', type: 'isolated' },
      db: { ip: '10.231.1.50', type: 'shared' },
    },
    ingress: 'web',
    hostnames: ['admin', 'docs.v2'],
    shared: ['db'],
    ...over,
  };
}

const change = (fn: (s: State) => void): Promise<void> => withStateLock(fn, ciloPaths(h.home));
/** Rate control for the load tests below (not a wait for anything). */
const pace = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ask = (name: string, opts: Omit<Question, 'port' | 'name'> = {}): Promise<Reply> => askAt({ port, name, ...opts });
/** Authoritative A answers for the name as asked ([] for NXDOMAIN); anything else throws. */
const ips = (name: string, transport: 'udp' | 'tcp' = 'udp'): Promise<string[]> => resolveA(port, name, { tcp: transport === 'tcp' });
const serverPid = (): number => Number(readFileSync(join(h.home, 'dns', 'dns.pid'), 'utf8').trim());

before(async () => {
  h = makeHome();
  port = h.dnsPort;
  await change((s) => {
    s.dns_port = port; // state made here takes the test process's default, not the home's
    s.environments['agent-1'] = env('agent-1');
    s.environments['agent-2'] = env('agent-2', {
      project: Q,
      dns_suffix: '.dev.local',
      subnet: '10.231.2.0/24',
      services: { app: { ip: '10.231.2.2', type: 'isolated' } },
      ingress: 'app',
      hostnames: [],
    });
    s.environments['sleepy'] = env('sleepy', { status: 'stopped', subnet: '10.231.3.0/24', services: { web: { ip: '10.231.3.2', type: 'isolated' } } });
  });
  const r = await h.cli(['dns', 'start']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  if (!h) return;
  // The environments are fake: nothing in Docker to look for.
  await change((s) => {
    s.environments = {};
  }).catch(() => undefined);
  await h.cleanup();
});

test('services (isolated and shared), custom hostnames, the apex and the wildcard at any depth', async () => {
  assert.deepEqual(await ips('api.agent-1.test'), ['10.231.1.3']);
  assert.deepEqual(await ips('web.agent-1.test'), ['10.231.1.2']);
  assert.deepEqual(await ips('db.agent-1.test'), ['10.231.1.50']);
  assert.deepEqual(await ips('admin.agent-1.test'), ['10.231.1.2']);
  assert.deepEqual(await ips('docs.v2.agent-1.test'), ['10.231.1.2']);
  assert.deepEqual(await ips(`${P}.agent-1.test`), ['10.231.1.2']);
  assert.deepEqual(await ips(`x.${P}.agent-1.test`), ['10.231.1.2']);
  assert.deepEqual(await ips(`a.b.c.${P}.agent-1.test`), ['10.231.1.2']);
  const p = await ask('api.agent-1.test');
  assert.equal(p.rcode, 'NOERROR');
  assert.equal(p.aa, true);
  assert.equal(p.ra, false, 'never offers recursion');
  assert.equal((p.answers[0] as dnsPacket.StringAnswer | undefined)?.ttl, 5);
});

test('exactly one answer per name, also for ANY', async () => {
  for (const name of [`${P}.agent-1.test`, `x.${P}.agent-1.test`, 'web.agent-1.test', 'admin.agent-1.test', 'db.agent-1.test']) {
    assert.equal((await ips(name)).length, 1, name);
    const any = await ask(name, { type: 'ANY' });
    assert.deepEqual(any.answers.map((a) => a.type), ['A'], `${name} ANY`);
  }
});

test('names are case-insensitive and answered in the spelling asked', async () => {
  // resolveA also checks that the answer's owner is the name exactly as asked.
  assert.deepEqual(await ips('API.Agent-1.TeSt'), ['10.231.1.3']);
  assert.equal((await ask('API.Agent-1.TeSt')).answers[0]?.name, 'API.Agent-1.TeSt');
  assert.deepEqual(await ips(`X.${P.toUpperCase()}.AGENT-1.TEST`), ['10.231.1.2']);
});

test('an unknown name under a suffix is NXDOMAIN and authoritative', async () => {
  for (const name of ['nope.agent-1.test', 'api.agent-9.test', 'anything.test', 'x.api.agent-1.test', 'nope.dev.local']) {
    const p = await ask(name);
    assert.equal(p.rcode, 'NXDOMAIN', name);
    assert.equal(p.aa, true, name);
    assert.equal(p.answers.length, 0, name);
  }
  // Names with names below them exist (RFC 8020): NOERROR without data, so resolvers that
  // minimise query names still ask for the full name.
  for (const name of ['agent-1.test', 'test']) {
    const p = await ask(name);
    assert.equal(p.rcode, 'NOERROR', name);
    assert.equal(p.aa, true, name);
    assert.equal(p.answers.length, 0, name);
  }
});

test('AAAA and other types of a known name: NOERROR with no answer', async () => {
  for (const type of ['AAAA', 'MX', 'TXT'] as const) {
    const p = await ask('api.agent-1.test', { type });
    assert.equal(p.rcode, 'NOERROR', type);
    assert.equal(p.aa, true, type);
    assert.equal(p.answers.length, 0, type);
  }
});

test('names outside every suffix are REFUSED: not an open resolver', async () => {
  for (const name of ['example.com', 'localhost', 'api.agent-1.test.example.com']) {
    const p = await ask(name);
    assert.equal(p.rcode, 'REFUSED', name);
    assert.equal(p.aa, false, name);
    assert.equal(p.ra, false, name);
    assert.equal(p.answers.length, 0, name);
  }
});

test("a project's own dns_suffix (.dev.local) is served", async () => {
  assert.deepEqual(await ips('app.agent-2.dev.local'), ['10.231.2.2']);
  assert.deepEqual(await ips(`${Q}.agent-2.dev.local`), ['10.231.2.2']);
  assert.deepEqual(await ips(`www.${Q}.agent-2.dev.local`), ['10.231.2.2']);
  assert.equal((await ask('app.agent-2.test')).rcode, 'NXDOMAIN');
});

test('an environment that is not running is not answered', async () => {
  assert.equal((await ask('web.sleepy.test')).rcode, 'NXDOMAIN');
  assert.equal((await ask(`${P}.sleepy.test`)).rcode, 'NXDOMAIN');
});

test('TCP queries (RFC 7766 framing) get the same answers', async () => {
  assert.deepEqual(await ips('api.agent-1.test', 'tcp'), ['10.231.1.3']);
  assert.deepEqual(await ips(`x.y.${P}.agent-1.test`, 'tcp'), ['10.231.1.2']);
  assert.deepEqual(await ips('nope.agent-1.test', 'tcp'), [], 'NXDOMAIN, authoritative');
  assert.equal((await ask('nope.agent-1.test', { tcp: true })).rcode, 'NXDOMAIN');
  assert.equal((await ask('example.com', { tcp: true })).rcode, 'REFUSED');
});

test('dig agrees (when installed)', { skip: spawnSync('which', ['dig']).status !== 0 && 'dig is not installed' }, () => {
  const dig = (...args: string[]): string => spawnSync('dig', [`@127.0.0.1`, '-p', String(port), '+norecurse', '+time=2', '+tries=1', ...args], { encoding: 'utf8' }).stdout;
  assert.equal(dig('+short', 'api.agent-1.test').trim(), '10.231.1.3');
  assert.equal(dig('+short', '+tcp', `w.${P}.agent-1.test`).trim(), '10.231.1.2');
  const nx = dig('nope.agent-1.test');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /flags: qr aa;/);
  assert.match(dig('example.com'), /status: REFUSED/);
  assert.match(dig('AAAA', 'api.agent-1.test'), /status: NOERROR.*\n.*ANSWER: 0/);
});

const follows = (name: string, want: string[], change: string): Promise<void> => waitForAddresses(port, name, want, change);

// How soon a change is answered is measured by the benchmark (bench/dns.mjs, "dns-follow").
test('state changes are answered by the running server, without a restart (add, hostname, stop, remove)', async () => {
  const pid = serverPid();
  for (let i = 0; i < 5; i++) {
    const name = `fresh-${i}`;
    const ip = `10.231.${10 + i}.2`;
    await change((s) => {
      s.environments[name] = env(name, { subnet: `10.231.${10 + i}.0/24`, services: { web: { ip, type: 'isolated' } } });
    });
    await follows(`web.${name}.test`, [ip], 'adding the environment');

    await change((s) => {
      s.environments[name]?.hostnames.push(`extra${i}`);
    });
    await follows(`extra${i}.${name}.test`, [ip], 'adding a hostname');

    await change((s) => {
      const e = s.environments[name];
      if (e) e.status = 'stopped';
    });
    await follows(`web.${name}.test`, [], 'stopping the environment');

    await change((s) => {
      delete s.environments[name];
    });
    await follows(`${P}.${name}.test`, [], 'removing the environment');
  }
  assert.equal(serverPid(), pid, 'the same server process answered throughout');
});

test('2,000 queries while state is rewritten repeatedly: no failure, no timeout', async (t) => {
  let stop = false;
  let writes = 0;
  const writer = (async () => {
    while (!stop) {
      await change((s) => {
        const e = s.environments['agent-1'];
        if (e) e.updated_at = new Date().toISOString();
        if (s.environments['churn']) delete s.environments['churn'];
        else s.environments['churn'] = env('churn', { subnet: '10.231.9.0/24', services: { web: { ip: '10.231.9.2', type: 'isolated' } } });
      });
      writes += 1;
      await pace(5);
    }
  })();
  let failures = 0;
  const problems: string[] = [];
  const t0 = performance.now(); // for pacing only
  try {
    for (let i = 0; i < 2000; i++) {
      if (failures > 20) break; // something is badly wrong; do not wait out 2,000 timeouts
      try {
        const got = await resolveA(port, 'api.agent-1.test', { timeoutMs: 5000 }); // slow under load is not lost
        if (got.join() !== '10.231.1.3') {
          failures += 1;
          problems.push(`#${i}: ${got.join() || 'no answer'}`);
        }
      } catch (e) {
        failures += 1;
        problems.push(`#${i}: ${(e as Error).message}`);
      }
      const ahead = t0 + i - performance.now(); // pace: about one query per millisecond
      if (ahead > 0) await pace(ahead);
    }
  } finally {
    stop = true;
    await writer;
  }
  t.diagnostic(`2,000 queries during ${writes} state writes`);
  assert.equal(failures, 0, problems.slice(0, 5).join('; '));
  assert.ok(writes >= 20, `only ${writes} state writes happened during the loop`);
});

function header(flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(Math.floor(Math.random() * 65536), 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
}

function garbagePackets(n: number): Buffer[] {
  const valid = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'api.agent-1.test', type: 'A' }] });
  const crafted = [
    Buffer.alloc(0),
    Buffer.alloc(1),
    Buffer.alloc(11),
    header(0, 1),
    header(0, 0),
    header(0, 65535, 65535, 65535, 65535),
    Buffer.concat([header(0, 2), valid.subarray(12), valid.subarray(12)]),
    Buffer.concat([header(0x8000, 1), valid.subarray(12)]), // a response: must be ignored
    Buffer.concat([header(5 << 11, 1), valid.subarray(12)]), // opcode UPDATE
    Buffer.concat([header(0, 1), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]), // pointer loop
    Buffer.concat([header(0, 1), Buffer.alloc(300, 63)]), // label lengths beyond the packet
    Buffer.concat([header(0, 1, 0, 0, 3), valid.subarray(12), Buffer.from([0, 0, 41, 16, 0, 1, 0, 0, 0, 0, 0])]), // OPT v1 + bogus
    Buffer.concat([header(0, 1, 0, 0, 1), valid.subarray(12), Buffer.from([0, 0, 41, 16, 0, 0, 0, 0, 0, 0xff, 0xff])]), // rdlength past end
    valid.subarray(0, valid.length - 3),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    if (i < crafted.length) out.push(crafted[i] as Buffer);
    else if (i % 2 === 0) out.push(randomBytes(i % 700));
    else {
      const m = Buffer.from(valid);
      for (let k = 0; k < 3; k++) m[Math.floor(Math.random() * m.length)] = Math.floor(Math.random() * 256);
      out.push(m);
    }
  }
  return out;
}

function openTcp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

test('2,000 garbage, random and truncated packets and malformed TCP streams: still answering, still alive', async () => {
  const pid = serverPid();
  const udp = createSocket('udp4');
  udp.on('message', () => undefined);
  try {
    for (const p of garbagePackets(2000)) await new Promise<void>((r) => udp.send(p, port, '127.0.0.1', () => r()));
  } finally {
    udp.close();
  }

  const streams: Socket[] = [];
  try {
    const huge = await openTcp(); // announces 65535 bytes, sends 10, hangs up
    huge.end(Buffer.concat([Buffer.from([0xff, 0xff]), randomBytes(10)]));
    const junk = await openTcp();
    junk.end(randomBytes(1000));
    const zero = await openTcp();
    zero.write(Buffer.from([0, 0]));
    streams.push(zero);
    const half = await openTcp();
    half.write(Buffer.from([0]));
    half.destroy();
    const rude = await openTcp(); // asks, then leaves before the answer
    const q = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'api.agent-1.test', type: 'A' }] });
    rude.end(Buffer.concat([Buffer.from([0, q.length]), q]));
    // More idle connections than the server keeps: the oldest make room for new clients.
    for (let i = 0; i < 150; i++) streams.push(await openTcp());
    assert.deepEqual(await ips('api.agent-1.test', 'tcp'), ['10.231.1.3']);
  } finally {
    for (const s of streams) s.destroy();
  }

  assert.deepEqual(await ips('api.agent-1.test'), ['10.231.1.3']);
  assert.doesNotThrow(() => process.kill(pid, 0), 'the DNS server process died');
  assert.equal(serverPid(), pid, 'the DNS server was restarted');
  // And it goes on answering every query (each within the client's timeout; speed is bench/'s).
  for (let i = 0; i < 50; i++) assert.deepEqual(await ips(i % 2 ? 'api.agent-1.test' : 'nope.agent-1.test', i % 3 ? 'udp' : 'tcp'), i % 2 ? ['10.231.1.3'] : []);
});

test('a response packet (QR=1) is ignored, not answered', async () => {
  // From one socket: a response, then a query. The server handles a socket's packets in order,
  // so had it answered the response, that answer would come before the query's.
  const udp = createSocket('udp4');
  try {
    const got: dnsPacket.DecodedPacket[] = [];
    udp.on('message', (m) => got.push(dnsPacket.decode(m)));
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const resp = dnsPacket.encode({ type: 'response', id: 3, questions: [{ name: 'api.agent-1.test', type: 'A' }] });
    udp.send(resp, port, '127.0.0.1');
    udp.send(dnsPacket.encode({ type: 'query', id: 4, questions: [{ name: 'api.agent-1.test', type: 'A' }] }), port, '127.0.0.1');
    await waitFor(() => got.some((p) => p.id === 4), { what: 'the answer to the query sent after the response' });
    assert.deepEqual(got.map((p) => p.id), [4], 'only the query was answered');
  } finally {
    udp.close();
  }
});

/** Local addresses of sockets bound to our port (TCP: listening ones, not the tests' old connections). */
function boundAddresses(file: string): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const tcp = file.includes('tcp');
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => (f[1] ?? '').endsWith(`:${hexPort}`) && (!tcp || f[3] === '0A'))
      .map((f) => (f[1] ?? '').split(':')[0] ?? '');
  } catch {
    return [];
  }
}

test('it listens on 127.0.0.1 only', { skip: process.platform !== 'linux' && '/proc/net is Linux only' }, async () => {
  assert.deepEqual(boundAddresses('/proc/net/udp'), ['0100007F']);
  assert.deepEqual(boundAddresses('/proc/net/tcp'), ['0100007F']);
  assert.deepEqual(boundAddresses('/proc/net/udp6'), []);
  assert.deepEqual(boundAddresses('/proc/net/tcp6'), []);
  const other = Object.values(networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
  if (other) {
    await assert.rejects(askAt({ host: other.address, port, name: 'api.agent-1.test', timeoutMs: 300 }), Error, `answered on ${other.address}`);
    await assert.rejects(askAt({ host: other.address, port, name: 'api.agent-1.test', tcp: true, timeoutMs: 300 }), Error, `answered on ${other.address} over TCP`);
  }
});
