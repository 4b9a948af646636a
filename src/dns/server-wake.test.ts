/**
 * The server's side of waking an idle-paused environment (issue #26) with a stand-in `onWake`:
 * which answers wait for a wake and which never do is the server's own logic. The real wake
 * (Docker, state) is tested in test/integration/dns-wake.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { ask, resolveA } from '../../test/support/dns-query.js';
import { waitFor } from '../../test/support/wait.js';
import type { EnvironmentState } from '../domain/state.js';
import { isCiloError } from '../errors.js';
import { emptyState } from '../state/schema.js';
import { startDnsServer, type DnsServer, type DnsServerOptions } from './server.js';
import { buildZone } from './zone.js';

function env(name: string, net: number, over: Partial<EnvironmentState> = {}): EnvironmentState {
  return {
    name,
    project: 'shop',
    source: '/s',
    workspace: '/w',
    subnet: `10.224.${net}.0/24`,
    dns_suffix: '.test',
    status: 'running',
    created_at: '',
    updated_at: '',
    services: { web: { ip: `10.224.${net}.2`, type: 'isolated' } },
    ingress: 'web',
    hostnames: [],
    shared: [],
    ...over,
  };
}

const state = emptyState();
state.environments['awake'] = env('awake', 1);
state.environments['asleep'] = env('asleep', 2, { status: 'paused', paused_by: 'idle', paused_at: '2024-01-01T00:00:00Z' });
const zone = buildZone(state);

/** A wake the test settles by hand, and the calls made. */
function fakeWaker(): { onWake: NonNullable<DnsServerOptions['onWake']>; calls: [string, string][]; finish: (err?: Error) => void } {
  const calls: [string, string][] = [];
  let settle: (err?: Error) => void = () => undefined;
  const pending = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  return {
    calls,
    onWake: (e, why) => {
      calls.push([e, why]);
      return pending;
    },
    finish: (err) => settle(err),
  };
}

async function serve(opts: Partial<DnsServerOptions>): Promise<{ server: DnsServer; logs: string[] }> {
  const logs: string[] = [];
  for (let i = 0; ; i++) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    try {
      return { server: await startDnsServer({ host: '127.0.0.1', port, loadZone: () => zone, log: (l) => logs.push(l), ...opts }), logs };
    } catch (e) {
      if (i > 20 || !(isCiloError(e) && /in use/.test(e.message))) throw e;
    }
  }
}

/** Resolves with the order in which promises settled, by label. */
function order(labelled: Record<string, Promise<unknown>>): { seen: string[]; all: Promise<unknown> } {
  const seen: string[] = [];
  const all = Promise.all(Object.entries(labelled).map(([label, p]) => p.then(() => seen.push(label))));
  return { seen, all };
}

test('an answer for an idle-paused environment waits for its wake; other answers do not', async () => {
  const waker = fakeWaker();
  const { server } = await serve({ onWake: waker.onWake });
  try {
    let wakeFinished = false;
    const sleepy = resolveA(server.port, 'web.asleep.test', { timeoutMs: 10_000 });
    const sleepyTcp = resolveA(server.port, 'x.shop.asleep.test', { tcp: true, timeoutMs: 10_000 });
    await waitFor(() => waker.calls.length > 0, { what: 'the wake to start' });
    // While the wake is pending: the running environment, unknown names and foreign names answer.
    assert.deepEqual(await resolveA(server.port, 'web.awake.test'), ['10.224.1.2']);
    assert.deepEqual(await resolveA(server.port, 'shop.awake.test', { tcp: true }), ['10.224.1.2']);
    assert.equal((await ask({ port: server.port, name: 'nope.asleep.test' })).rcode, 'NXDOMAIN');
    assert.equal((await ask({ port: server.port, name: 'example.com' })).rcode, 'REFUSED');
    const { seen, all } = order({ sleepy: sleepy.then(() => assert.ok(wakeFinished)), sleepyTcp: sleepyTcp.then(() => assert.ok(wakeFinished)) });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, [], 'no answer for the sleeping environment before its wake settles');
    wakeFinished = true;
    waker.finish();
    await all;
    assert.deepEqual(await sleepy, ['10.224.2.2']);
    assert.deepEqual(await sleepyTcp, ['10.224.2.2']);
    // Both queries (UDP and TCP, two names) shared one wake, named after the first query.
    assert.deepEqual(waker.calls, [['asleep', 'DNS query for web.asleep.test']]);
  } finally {
    await server.close();
  }
});

test('on one TCP connection, a later answer for a running environment overtakes one waiting for a wake', async () => {
  const waker = fakeWaker();
  const { server } = await serve({ onWake: waker.onWake });
  const sock = connect({ host: '127.0.0.1', port: server.port });
  try {
    const ids: number[] = [];
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        ids.push(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))).id ?? -1);
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
    });
    const frame = (name: string, id: number): Buffer => {
      const m = dnsPacket.encode({ type: 'query', id, questions: [{ name, type: 'A' }] });
      const b = Buffer.alloc(2 + m.length);
      b.writeUInt16BE(m.length, 0);
      m.copy(b, 2);
      return b;
    };
    sock.write(Buffer.concat([frame('web.asleep.test', 1), frame('web.awake.test', 2)]));
    await waitFor(() => ids.length === 1, { what: 'the answer for the running environment' });
    assert.deepEqual(ids, [2]);
    waker.finish();
    await waitFor(() => ids.length === 2, { what: 'the answer for the woken environment' });
    assert.deepEqual(ids, [2, 1]);
  } finally {
    sock.destroy();
    await server.close();
  }
});

test('a wake that fails is logged and the query still answered; the next query tries again', async () => {
  const first = fakeWaker();
  const second = fakeWaker();
  let n = 0;
  const { server, logs } = await serve({ onWake: (e, why) => (++n === 1 ? first : second).onWake(e, why) });
  try {
    const r = resolveA(server.port, 'web.asleep.test', { timeoutMs: 10_000 });
    await waitFor(() => first.calls.length === 1, { what: 'the wake to start' });
    first.finish(new Error('engine said no'));
    assert.deepEqual(await r, ['10.224.2.2']);
    assert.ok(logs.some((l) => l.includes('could not wake asleep') && l.includes('engine said no')), logs.join('\n'));
    const again = resolveA(server.port, 'web.asleep.test', { timeoutMs: 10_000 });
    await waitFor(() => second.calls.length === 1, { what: 'a second wake' });
    second.finish();
    assert.deepEqual(await again, ['10.224.2.2']);
  } finally {
    await server.close();
  }
});

test('a wake that does not settle within the cap: the query is answered anyway, and that is logged once', async () => {
  const waker = fakeWaker(); // never finished
  const { server, logs } = await serve({ onWake: waker.onWake, wakeCapMs: 300 });
  try {
    const [a, b] = await Promise.all([resolveA(server.port, 'web.asleep.test'), resolveA(server.port, 'web.asleep.test', { tcp: true })]);
    assert.deepEqual([a, b], [['10.224.2.2'], ['10.224.2.2']]);
    assert.equal(waker.calls.length, 1);
    assert.equal(logs.filter((l) => l.includes('asleep not awake after 300 ms')).length, 1, logs.join('\n'));
  } finally {
    await server.close();
  }
});

test('without onWake, an idle-paused environment answers at once; seen() records answered names of environments', async () => {
  const { server } = await serve({});
  try {
    assert.equal(server.seen('awake'), null);
    const before = Date.now() - 1000; // seen() is kept to a quarter of a second
    assert.deepEqual(await resolveA(server.port, 'web.asleep.test'), ['10.224.2.2']);
    assert.equal((await ask({ port: server.port, name: 'web.awake.test', type: 'AAAA' })).rcode, 'NOERROR');
    assert.ok((server.seen('asleep') ?? 0) >= before);
    assert.ok((server.seen('awake') ?? 0) >= before, 'a query of another type for its name is a use too');
    await ask({ port: server.port, name: 'nope.other.test' });
    assert.equal(server.seen('other'), null);
  } finally {
    await server.close();
  }
});
