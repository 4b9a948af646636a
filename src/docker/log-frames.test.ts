import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLinesReader, LogLineReader } from './log-frames.js';

function frame(stream: number, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

function read(chunks: Buffer[]): string[] {
  const lines: string[] = [];
  const r = new LogLineReader((l) => lines.push(l));
  for (const c of chunks) r.push(c);
  r.end();
  return lines;
}

test('framed logs split anywhere, also inside a header and a character, give whole lines', () => {
  const all = Buffer.concat([frame(1, 'hello\nwor'), frame(2, 'ld ünïcode\n'), frame(1, 'last')]);
  for (let cut = 1; cut < all.length; cut++) {
    assert.deepEqual(read([all.subarray(0, cut), all.subarray(cut)]), ['hello', 'world ünïcode', 'last'], `cut at ${cut}`);
  }
});

test('a TTY container log (no frames) is read as plain text, CRLF trimmed', () => {
  assert.deepEqual(read([Buffer.from('one\r\ntw'), Buffer.from('o\n')]), ['one', 'two']);
});

test('newline-separated JSON values, split across chunks; junk lines skipped', () => {
  const got: unknown[] = [];
  const r = new JsonLinesReader((v) => got.push(v));
  r.push(Buffer.from('{"a":1}\n{"b"'));
  r.push(Buffer.from(':2}\nnot json\n'));
  assert.deepEqual(got, [{ a: 1 }, { b: 2 }]);
});
