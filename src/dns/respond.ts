/**
 * One DNS message in, one response (or nothing) out: the protocol policy of cilo's server,
 * shared by its UDP and TCP transports. Pure and total: no input makes it throw.
 */
import { answer, type Zone } from './zone.js';
import { buildResponse, CLASS, ipv4Rdata, parseQuery, RCODE, txtRdata, TYPE, type ResourceData } from './wire.js';
import { IDENTITY_NAME } from './instance.js';

/** The name a client asks (class CH, type TXT) to learn which server answers: RFC 4892. */

function typeName(type: number): string {
  if (type === TYPE.A) return 'A';
  if (type === TYPE.ANY) return 'ANY';
  if (type === TYPE.AAAA) return 'AAAA';
  return `TYPE${type}`;
}

/** A response, and whose name it answered. */
export interface Reply {
  bytes: Buffer;
  /** The name asked, as asked. */
  name: string;
  /** The environment that name belongs to (see ZoneAnswer.env): a use of it. */
  env: string | undefined;
  /** The idle-paused environment to wake before sending `bytes` (ZoneAnswer.wake). */
  wake: string | undefined;
}

/** A response about no environment's name. */
function plain(bytes: Buffer, name = ''): Reply {
  return { bytes, name, env: undefined, wake: undefined };
}

/**
 * `identity` is the text answered to `id.server CH TXT`; the daemon puts its pid and start
 * token there so `cilo dns status/stop` can tell its own server from whatever else holds the port.
 */
export function respond(msg: Uint8Array, zone: Zone, identity: string): Buffer | null {
  return respondTo(msg, zone, identity)?.bytes ?? null;
}

/** As `respond`, with the environment the answer is about. */
export function respondTo(msg: Uint8Array, zone: Zone, identity: string): Reply | null {
  const q = parseQuery(msg);
  if (q.kind === 'drop') return null;
  if (q.kind === 'error') {
    return plain(buildResponse({ query: msg, header: q.header, question: q.question, edns: q.edns, rcode: q.rcode, authoritative: false, answers: [] }));
  }
  const { header, question, edns } = q;
  const reply = (rcode: number, authoritative: boolean, answers: ResourceData[] = []): Buffer =>
    buildResponse({ query: msg, header, question, edns, rcode, authoritative, answers });

  if (question.class === CLASS.CH) {
    if (question.name.toLowerCase() === IDENTITY_NAME && (question.type === TYPE.TXT || question.type === TYPE.ANY)) {
      return plain(reply(RCODE.NOERROR, true, [{ type: TYPE.TXT, class: CLASS.CH, ttl: 0, rdata: txtRdata(identity) }]), question.name);
    }
    return plain(reply(RCODE.REFUSED, false), question.name);
  }
  if (question.class !== CLASS.IN && question.class !== CLASS.ANY) return plain(reply(RCODE.REFUSED, false), question.name);
  // Zone transfers are not offered; REFUSED is what authoritative servers say to strangers.
  if (question.type === TYPE.AXFR || question.type === TYPE.IXFR) return plain(reply(RCODE.REFUSED, false), question.name);
  if (question.type === TYPE.OPT) return plain(reply(RCODE.FORMERR, false), question.name);

  const a = answer(zone, question.name, typeName(question.type));
  const answers: ResourceData[] = a.answers.map((r) => ({ type: TYPE.A, class: CLASS.IN, ttl: r.ttl, rdata: ipv4Rdata(r.data) }));
  return { bytes: reply(RCODE[a.rcode], a.authoritative, answers), name: question.name, env: a.env, wake: a.wake };
}
