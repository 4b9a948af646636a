/**
 * The tests' DNS client: dns-packet over node:dgram and node:net, sharing no code with cilo's
 * own src/dns (its client, codec or server), so a test checks the server rather than a codec
 * both sides use. It is strict about the reply: the query's id, the QR bit and the question
 * echoed back; `resolveA` also checks rcode, AA and that every answer is an IN A record of the
 * name asked, so "resolves to X" in a test means what a resolver would accept.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { waitFor } from './wait.js';

export interface Question {
  port: number;
  name: string;
  type?: dnsPacket.RecordType | 'ANY';
  host?: string;
  /** Over TCP with RFC 7766 framing instead of UDP. */
  tcp?: boolean;
  timeoutMs?: number;
}

export interface Reply {
  rcode: string;
  /** Authoritative answer. */
  aa: boolean;
  /** Recursion available. */
  ra: boolean;
  answers: dnsPacket.Answer[];
}

type Decoded = dnsPacket.DecodedPacket & { rcode?: string };

/** Checks that `msg` answers `q` (id, QR, the question echoed) and returns its reply fields. */
function toReply(q: Question, id: number, msg: Buffer): Reply {
  const p = dnsPacket.decode(msg) as Decoded;
  const type = q.type ?? 'A';
  if (p.id !== id) throw new Error(`reply id ${p.id}, query id ${id}`);
  if (p.type !== 'response') throw new Error('reply without the QR bit');
  const echoed = p.questions ?? [];
  if (echoed.length !== 1 || echoed[0]?.name !== q.name || echoed[0]?.type !== type) {
    throw new Error(`reply to ${q.name} ${type} echoes ${JSON.stringify(echoed.map((x) => `${x.name} ${x.type}`))}`);
  }
  return { rcode: p.rcode ?? '?', aa: p.flag_aa === true, ra: p.flag_ra === true, answers: p.answers ?? [] };
}

/** Sends one query for `q` and resolves with the checked reply; rejects on timeout or a malformed reply. */
export function ask(q: Question): Promise<Reply> {
  const id = 1 + Math.floor(Math.random() * 65534);
  const query = dnsPacket.encode({ type: 'query', id, questions: [{ name: q.name, type: (q.type ?? 'A') as dnsPacket.RecordType, class: 'IN' }] });
  const host = q.host ?? '127.0.0.1';
  const timeoutMs = q.timeoutMs ?? 5000;
  const how = `${q.name} ${q.type ?? 'A'} to ${host}:${q.port} over ${q.tcp ? 'TCP' : 'UDP'}`;

  return new Promise<Reply>((resolve, reject) => {
    let close = (): void => undefined;
    let settled = false;
    const timer = setTimeout(() => done(new Error(`no reply within ${timeoutMs} ms: ${how}`)), timeoutMs);
    function done(err: Error | null, reply?: Reply): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close();
      if (reply) resolve(reply);
      else reject(err);
    }
    const take = (msg: Buffer): void => {
      try {
        done(null, toReply(q, id, msg));
      } catch (e) {
        done(new Error(`${how}: ${(e as Error).message}`));
      }
    };

    if (!q.tcp) {
      const udp = createSocket('udp4');
      close = () => udp.close();
      udp.on('error', (e) => done(e));
      udp.on('message', take);
      udp.send(query, q.port, host);
      return;
    }
    const tcp = connect({ host, port: q.port });
    close = () => tcp.destroy();
    let got = Buffer.alloc(0);
    tcp.on('error', (e) => done(e));
    tcp.on('close', () => done(new Error(`connection closed before a reply: ${how}`)));
    tcp.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) take(got.subarray(2, 2 + got.readUInt16BE(0)));
    });
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    tcp.write(Buffer.concat([length, query]));
  });
}

/**
 * The addresses `name` resolves to, as a stub resolver would take them: an authoritative
 * NOERROR whose answers are all IN A records of the name as asked, or [] for an authoritative
 * NXDOMAIN with no answers. Anything else (REFUSED, SERVFAIL, another record type, a
 * non-authoritative reply, no reply) throws.
 */
export async function resolveA(port: number, name: string, opts: Omit<Question, 'port' | 'name' | 'type'> = {}): Promise<string[]> {
  const r = await ask({ ...opts, port, name });
  assert.ok(r.rcode === 'NOERROR' || r.rcode === 'NXDOMAIN', `${name}: rcode ${r.rcode}`);
  assert.equal(r.aa, true, `${name}: ${r.rcode} without the AA flag`);
  if (r.rcode === 'NXDOMAIN') assert.deepEqual(r.answers, [], `${name}: NXDOMAIN with answers`);
  return r.answers.map((a) => {
    assert.equal(a.type, 'A', `${name}: a ${a.type} record in an A answer`);
    assert.equal(a.class, 'IN', `${name}: answer of class ${a.class}`);
    assert.equal(a.name, name, `${name}: answer owner ${a.name}`);
    return (a as dnsPacket.StringAnswer).data;
  });
}

/**
 * Waits until `name` resolves (as `resolveA` checks it) to exactly `want`, [] meaning NXDOMAIN:
 * DNS follows state as it changes, and a test says what it expects, not how soon.
 */
export async function waitForAddresses(port: number, name: string, want: string[], after: string): Promise<void> {
  await waitFor(
    async () => {
      assert.deepEqual(await resolveA(port, name), want);
      return true;
    },
    { what: `${name} to answer ${want.join(', ') || 'NXDOMAIN'} after ${after}` },
  );
}
