/**
 * Reading a container's log stream as it arrives. The Engine multiplexes stdout and stderr of a
 * container without a TTY in frames (an 8-byte header: stream, 0, 0, 0, size); a TTY
 * container's log is plain bytes. Chunks may end anywhere, inside a header or a character.
 */
import { StringDecoder } from 'node:string_decoder';

function looksFramed(b: Buffer): boolean {
  return b.length >= 4 && (b[0] === 0 || b[0] === 1 || b[0] === 2) && b[1] === 0 && b[2] === 0 && b[3] === 0;
}

/** Turns chunks of a log stream into whole lines (without their line end). */
export class LogLineReader {
  private framed: boolean | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.framed === undefined) {
      if (this.pending.length < 4) return;
      this.framed = looksFramed(this.pending);
    }
    if (!this.framed) {
      this.text(this.decoder.write(this.pending));
      this.pending = Buffer.alloc(0);
      return;
    }
    let i = 0;
    while (i + 8 <= this.pending.length) {
      const size = this.pending.readUInt32BE(i + 4);
      if (i + 8 + size > this.pending.length) break;
      this.text(this.decoder.write(this.pending.subarray(i + 8, i + 8 + size)));
      i += 8 + size;
    }
    this.pending = this.pending.subarray(i);
  }

  /** Passes on a last line without a line end. */
  end(): void {
    if (this.framed === false || this.framed === undefined) this.text(this.decoder.write(this.pending));
    this.pending = Buffer.alloc(0);
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest !== '') this.onLine(rest);
  }

  private text(s: string): void {
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
}

/** Splits a stream of newline-separated JSON documents (the Engine's `/events`) into values. */
export class JsonLinesReader {
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onValue: (v: unknown) => void) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + this.decoder.write(chunk)).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) {
      if (p.trim() === '') continue;
      try {
        this.onValue(JSON.parse(p));
      } catch {
        // not an event: skipped
      }
    }
  }
}
