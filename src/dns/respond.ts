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

/**
 * `identity` is the text answered to `id.server CH TXT`; the daemon puts its pid and start
 * token there so `cilo dns status/stop` can tell its own server from whatever else holds the port.
 */
export function respond(msg: Uint8Array, zone: Zone, identity: string): Buffer | null {
  const q = parseQuery(msg);
  if (q.kind === 'drop') return null;
  if (q.kind === 'error') {
    return buildResponse({ query: msg, header: q.header, question: q.question, edns: q.edns, rcode: q.rcode, authoritative: false, answers: [] });
  }
  const { header, question, edns } = q;
  const reply = (rcode: number, authoritative: boolean, answers: ResourceData[] = []): Buffer =>
    buildResponse({ query: msg, header, question, edns, rcode, authoritative, answers });

  if (question.class === CLASS.CH) {
    if (question.name.toLowerCase() === IDENTITY_NAME && (question.type === TYPE.TXT || question.type === TYPE.ANY)) {
      return reply(RCODE.NOERROR, true, [{ type: TYPE.TXT, class: CLASS.CH, ttl: 0, rdata: txtRdata(identity) }]);
    }
    return reply(RCODE.REFUSED, false);
  }
  if (question.class !== CLASS.IN && question.class !== CLASS.ANY) return reply(RCODE.REFUSED, false);
  // Zone transfers are not offered; REFUSED is what authoritative servers say to strangers.
  if (question.type === TYPE.AXFR || question.type === TYPE.IXFR) return reply(RCODE.REFUSED, false);
  if (question.type === TYPE.OPT) return reply(RCODE.FORMERR, false);

  const a = answer(zone, question.name, typeName(question.type));
  const answers: ResourceData[] = a.answers.map((r) => ({ type: TYPE.A, class: CLASS.IN, ttl: r.ttl, rdata: ipv4Rdata(r.data) }));
  return reply(RCODE[a.rcode], a.authoritative, answers);
}
