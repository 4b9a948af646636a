/**
 * The DNS wire format, just as much as an authoritative server for A records needs: parse a
 * query's header, its one question and its EDNS OPT record; build a response that copies the
 * question bytes verbatim and points its answers at them.
 *
 * Why not dns-packet here: copying the question keeps the asker's exact spelling (0x20 case
 * randomisation, RFC 4343), labels are kept as bytes (dns-packet decodes them as UTF-8, so a
 * label `a.b` or invalid UTF-8 would alias other names), and a malformed packet costs a few
 * bounds checks. The tests and the daemon's probe use dns-packet, an independent codec.
 * Every read is bounds-checked; nothing here throws on any input.
 */

const OPCODE_QUERY = 0;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended (EDNS) rcode 16: the upper 8 bits go in the OPT record. */
  BADVERS: 16,
} as const;

export const TYPE = { A: 1, NS: 2, SOA: 6, TXT: 16, AAAA: 28, OPT: 41, IXFR: 251, AXFR: 252, ANY: 255 } as const;
export const CLASS = { IN: 1, CH: 3, ANY: 255 } as const;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_RD = 0x0100;
const FLAG_CD = 0x0010;
const HEADER = 12;
/** What we advertise in EDNS: the DNS flag day 2020 recommendation. */
const EDNS_UDP_SIZE = 1232;

export interface Header {
  id: number;
  flags: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface Question {
  /** Presentation form: printable ASCII labels joined by dots; other bytes as `\DDD`. */
  name: string;
  type: number;
  class: number;
  /** Offsets of the question in the message, for copying it into the response. */
  start: number;
  end: number;
}

export interface Edns {
  version: number;
  udpSize: number;
}

export type ParsedQuery =
  /** Not answered at all: too short to carry an id, or itself a response (no reflection loops). */
  | { kind: 'drop' }
  /** Answered with only a header: the question could not be read or is not supported. */
  | { kind: 'error'; header: Header; rcode: number; question: Question | null; edns: Edns | null }
  | { kind: 'query'; header: Header; question: Question; edns: Edns | null };

function opcodeOf(flags: number): number {
  return (flags >> 11) & 0xf;
}

function u16(msg: Uint8Array, o: number): number {
  return ((msg[o] ?? 0) << 8) | (msg[o + 1] ?? 0);
}

function readHeader(msg: Uint8Array): Header {
  return { id: u16(msg, 0), flags: u16(msg, 2), qdcount: u16(msg, 4), ancount: u16(msg, 6), nscount: u16(msg, 8), arcount: u16(msg, 10) };
}

/** Printable ASCII except the separator and the escape itself (RFC 1035 master-file form). */
const NEEDS_ESCAPE = /[^\x21-\x2d\x2f-\x5b\x5d-\x7e]/;

function labelText(msg: Uint8Array, start: number, end: number): string {
  const raw = Buffer.from(msg.buffer, msg.byteOffset + start, end - start).toString('latin1');
  if (!NEEDS_ESCAPE.test(raw)) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    out += NEEDS_ESCAPE.test(raw[i] ?? '') ? `\\${String(c).padStart(3, '0')}` : raw[i];
  }
  return out;
}

/** Reads an uncompressed name (questions cannot use pointers: nothing precedes them but the header). */
function readQuestionName(msg: Uint8Array, offset: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let o = offset;
  let wire = 0;
  for (;;) {
    if (o >= msg.length) return null;
    const len = msg[o] ?? 0;
    o += 1;
    if (len === 0) break;
    if (len > 63) return null; // pointers (0xc0) and the reserved 0x40/0x80 label types
    if (o + len > msg.length) return null;
    wire += len + 1;
    if (wire > 254) return null; // RFC 1035: 255 octets including the root label
    labels.push(labelText(msg, o, o + len));
    o += len;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), end: o };
}

/** Skips a name in an RR: labels ending in the root label or in a compression pointer. */
function skipName(msg: Uint8Array, offset: number): number | null {
  let o = offset;
  for (let guard = 0; guard < 128; guard++) {
    if (o >= msg.length) return null;
    const len = msg[o] ?? 0;
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2 <= msg.length ? o + 2 : null;
    if (len > 63) return null;
    o += 1 + len;
  }
  return null;
}

/** Reads the records after the question; returns the OPT record if there is exactly one. */
function readEdns(msg: Uint8Array, offset: number, h: Header): Edns | null | 'malformed' {
  let o = offset;
  let edns: Edns | null = null;
  const total = h.ancount + h.nscount + h.arcount;
  for (let i = 0; i < total; i++) {
    const nameStart = o;
    const afterName = skipName(msg, o);
    if (afterName === null || afterName + 10 > msg.length) return 'malformed';
    const type = u16(msg, afterName);
    const rdlen = u16(msg, afterName + 8);
    const next = afterName + 10 + rdlen;
    if (next > msg.length) return 'malformed';
    if (type === TYPE.OPT) {
      // RFC 6891 6.1.1: one OPT, in the additional section, owned by the root name.
      const inAdditional = i >= h.ancount + h.nscount;
      if (edns !== null || !inAdditional || msg[nameStart] !== 0) return 'malformed';
      const udpSize = u16(msg, afterName + 2);
      edns = { version: msg[afterName + 5] ?? 0, udpSize: Math.max(512, udpSize) };
    }
    o = next;
  }
  return edns;
}

/** Parses a message received by the server. Never throws. */
export function parseQuery(msg: Uint8Array): ParsedQuery {
  if (msg.length < HEADER) return { kind: 'drop' };
  const header = readHeader(msg);
  if ((header.flags & FLAG_QR) !== 0) return { kind: 'drop' };
  if (opcodeOf(header.flags) !== OPCODE_QUERY) return { kind: 'error', header, rcode: RCODE.NOTIMP, question: null, edns: null };
  // RFC 9619: a query holds exactly one question.
  if (header.qdcount !== 1) return { kind: 'error', header, rcode: RCODE.FORMERR, question: null, edns: null };
  const name = readQuestionName(msg, HEADER);
  if (name === null || name.end + 4 > msg.length) return { kind: 'error', header, rcode: RCODE.FORMERR, question: null, edns: null };
  const question: Question = { name: name.name, type: u16(msg, name.end), class: u16(msg, name.end + 2), start: HEADER, end: name.end + 4 };
  const edns = readEdns(msg, question.end, header);
  if (edns === 'malformed') return { kind: 'error', header, rcode: RCODE.FORMERR, question, edns: null };
  if (edns !== null && edns.version > 0) return { kind: 'error', header, rcode: RCODE.BADVERS, question, edns };
  return { kind: 'query', header, question, edns };
}

export interface ResourceData {
  type: number;
  class: number;
  ttl: number;
  rdata: Uint8Array;
}

export interface ResponseInput {
  /** The query as received (its question bytes are copied). */
  query: Uint8Array;
  header: Header;
  question: Question | null;
  edns: Edns | null;
  rcode: number;
  authoritative: boolean;
  /** Records owned by the question's name (encoded as a pointer to it). */
  answers: ResourceData[];
}

/**
 * Builds a response. RA is never set (not a resolver); RD and CD are copied as RFC 1035/4035
 * ask; an EDNS query gets an OPT record back (RFC 6891), which also carries the upper rcode bits.
 * Sizes: one question (<= 259 bytes) plus one A record plus OPT stays far below the 512 bytes of
 * plain UDP, so truncation is never needed.
 */
export function buildResponse(r: ResponseInput): Buffer {
  const qlen = r.question === null ? 0 : r.question.end - r.question.start;
  let size = HEADER + qlen + (r.edns === null ? 0 : 11);
  for (const a of r.answers) size += 12 + a.rdata.length;
  const buf = Buffer.allocUnsafe(size); // every byte is written below
  const opcode = opcodeOf(r.header.flags);
  const flags = FLAG_QR | (opcode << 11) | (r.authoritative ? FLAG_AA : 0) | (r.header.flags & (FLAG_RD | FLAG_CD)) | (r.rcode & 0xf);
  buf.writeUInt16BE(r.header.id, 0);
  buf.writeUInt16BE(flags, 2);
  buf.writeUInt16BE(r.question === null ? 0 : 1, 4);
  buf.writeUInt16BE(r.question === null ? 0 : r.answers.length, 6);
  buf.writeUInt16BE(0, 8);
  buf.writeUInt16BE(r.edns === null ? 0 : 1, 10);
  let o = HEADER;
  if (r.question !== null) {
    buf.set(r.query.subarray(r.question.start, r.question.end), o);
    o += qlen;
    for (const a of r.answers) {
      buf.writeUInt16BE(0xc000 | r.question.start, o); // pointer to the question's name
      buf.writeUInt16BE(a.type, o + 2);
      buf.writeUInt16BE(a.class, o + 4);
      buf.writeUInt32BE(a.ttl >>> 0, o + 6);
      buf.writeUInt16BE(a.rdata.length, o + 10);
      buf.set(a.rdata, o + 12);
      o += 12 + a.rdata.length;
    }
  }
  if (r.edns !== null) {
    buf[o] = 0; // root name
    buf.writeUInt16BE(TYPE.OPT, o + 1);
    buf.writeUInt16BE(EDNS_UDP_SIZE, o + 3);
    buf[o + 5] = (r.rcode >> 4) & 0xff; // extended rcode
    buf[o + 6] = 0; // version 0
    buf.writeUInt16BE(0, o + 7); // flags: no DO (no DNSSEC here)
    buf.writeUInt16BE(0, o + 9);
  }
  return buf;
}

/** rdata of an A record. */
export function ipv4Rdata(ip: string): Uint8Array {
  const parts = ip.split('.').map((p) => Number(p));
  return Uint8Array.from(parts);
}

/** rdata of a TXT record holding one string (<= 255 bytes). */
export function txtRdata(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}
