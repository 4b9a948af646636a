import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { emptyState } from '../state/schema.js';
import { respond } from './respond.js';
import { parseQuery } from './wire.js';
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
  services: { web: { ip: '10.224.1.2', type: 'isolated' }, api: { ip: '10.224.1.3', type: 'isolated' } },
  ingress: 'web',
  hostnames: [],
  shared: [],
};
const zone = buildZone(state);
const ID = 'cilo pid=1 token=abcdef0123456789';

function query(name: string, type: dnsPacket.RecordType = 'A', extra: Partial<dnsPacket.Packet> = {}, cls: dnsPacket.RecordClass = 'IN'): Buffer {
  return dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: cls }], ...extra });
}

function ask(msg: Buffer): dnsPacket.DecodedPacket & { rcode?: string } {
  const r = respond(msg, zone, ID);
  assert.ok(r, 'expected a response');
  return dnsPacket.decode(r) as dnsPacket.DecodedPacket & { rcode?: string };
}

test('an A query is answered authoritatively, RD copied, RA never set', () => {
  const p = ask(query('api.e1.test'));
  assert.equal(p.id, 4242);
  assert.equal(p.type, 'response');
  assert.equal(p.rcode, 'NOERROR');
  assert.equal(p.flag_aa, true);
  assert.equal(p.flag_rd, true);
  assert.equal(p.flag_ra, false);
  assert.deepEqual(p.questions, [{ name: 'api.e1.test', type: 'A', class: 'IN' }]);
  assert.equal(p.answers?.length, 1);
  const ans = p.answers?.[0] as dnsPacket.StringAnswer;
  assert.equal(ans.name, 'api.e1.test');
  assert.equal(ans.data, '10.224.1.3');
  assert.equal(ans.ttl, 5);
});

test('the question is echoed byte for byte (mixed case survives)', () => {
  const p = ask(query('ApI.E1.tEsT'));
  assert.equal(p.questions?.[0]?.name, 'ApI.E1.tEsT');
  assert.equal(p.answers?.[0]?.name, 'ApI.E1.tEsT');
});

test('rcodes: NXDOMAIN, NODATA, REFUSED', () => {
  const nx = ask(query('nope.e1.test'));
  assert.equal(nx.rcode, 'NXDOMAIN');
  assert.equal(nx.flag_aa, true);
  const nodata = ask(query('api.e1.test', 'AAAA'));
  assert.equal(nodata.rcode, 'NOERROR');
  assert.equal(nodata.flag_aa, true);
  assert.equal(nodata.answers?.length, 0);
  const refused = ask(query('example.com'));
  assert.equal(refused.rcode, 'REFUSED');
  assert.equal(refused.flag_aa, false);
  assert.equal(refused.flag_ra, false);
  assert.equal(ask(query('e1.test', 'AXFR')).rcode, 'REFUSED');
  assert.equal(ask(query('version.bind', 'TXT', {}, 'CH')).rcode, 'REFUSED');
});

test('EDNS queries get an OPT record back; unknown EDNS versions get BADVERS', () => {
  const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  const p = ask(query('api.e1.test', 'A', { additionals: [opt] }));
  const o = p.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  assert.ok(o);
  assert.equal(o.udpPayloadSize, 1232);
  assert.equal(p.answers?.length, 1);
  const bad = ask(query('api.e1.test', 'A', { additionals: [{ ...opt, ednsVersion: 1 }] }));
  const bo = bad.additionals?.find((a) => a.type === 'OPT') as dnsPacket.OptAnswer | undefined;
  assert.equal(bo?.extendedRcode, 1); // BADVERS = 16 = (1 << 4) | 0
  assert.equal(bad.answers?.length, 0);
});

test('id.server CH TXT tells who answers', () => {
  const p = ask(query('id.server', 'TXT', {}, 'CH'));
  const txt = p.answers?.[0] as dnsPacket.TxtAnswer;
  const data = (Array.isArray(txt.data) ? txt.data : [txt.data]).map(String).join('');
  assert.equal(data, ID);
});

function header(flags: number, qd: number, an = 0, ns = 0, ar = 0, id = 7): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qd, 4);
  b.writeUInt16BE(an, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(ar, 10);
  return b;
}

test('responses, short packets and junk are dropped; other opcodes NOTIMP; bad question counts FORMERR', () => {
  assert.equal(respond(Buffer.alloc(0), zone, ID), null);
  assert.equal(respond(Buffer.alloc(11), zone, ID), null);
  assert.equal(respond(Buffer.concat([header(0x8000, 1), query('api.e1.test').subarray(12)]), zone, ID), null);
  assert.equal(ask(header(2 << 11, 1)).rcode, 'NOTIMP');
  assert.equal(ask(header(0, 0)).rcode, 'FORMERR');
  const two = Buffer.concat([header(0, 2), query('api.e1.test').subarray(12), query('web.e1.test').subarray(12)]);
  assert.equal(ask(two).rcode, 'FORMERR');
  assert.equal(ask(header(0, 1)).rcode, 'FORMERR'); // question missing
});

test('compression pointers, oversized and truncated names are FORMERR, never a crash', () => {
  const loop = Buffer.concat([header(0, 1), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.equal(ask(loop).rcode, 'FORMERR');
  const long = Buffer.concat([header(0, 1), ...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)])), Buffer.from([0, 0, 1, 0, 1])]);
  assert.equal(ask(long).rcode, 'FORMERR');
  const truncated = query('api.e1.test').subarray(0, 20);
  assert.equal(ask(truncated).rcode, 'FORMERR');
  const badRecord = Buffer.concat([header(0, 1, 0, 0, 1), query('api.e1.test').subarray(12), Buffer.from([0, 0, 41, 4, 0])]);
  assert.equal(ask(badRecord).rcode, 'FORMERR');
});

test('a label with a dot or odd bytes does not alias a real name', () => {
  // One label "api.e1" then "test": dns-packet would decode it as api.e1.test.
  const q = Buffer.concat([header(0, 1), Buffer.from([6]), Buffer.from('api.e1'), Buffer.from([4]), Buffer.from('test'), Buffer.from([0, 0, 1, 0, 1])]);
  const parsed = parseQuery(q);
  assert.equal(parsed.kind, 'query');
  if (parsed.kind === 'query') assert.equal(parsed.question.name, 'api\\046e1.test');
  assert.equal(ask(q).rcode, 'NXDOMAIN');
});

test('100,000 random packets: never throws, answers are well-formed', () => {
  const seed = query('api.e1.test');
  for (let i = 0; i < 100_000; i++) {
    let msg: Buffer;
    if (i % 3 === 0) msg = randomBytes(i % 600);
    else {
      // Mutations of a valid query hit the deeper parsing paths.
      msg = Buffer.from(seed.subarray(0, Math.max(0, seed.length - (i % 7))));
      for (let k = 0; k < 1 + (i % 4); k++) msg[(i * 31 + k * 17) % Math.max(1, msg.length)] = (i * 7 + k) & 0xff;
      msg[2] = (msg[2] ?? 0) & 0x7f; // keep it a query so it is parsed past the header
    }
    const r = respond(msg, zone, ID);
    if (r !== null) dnsPacket.decode(r);
  }
});
