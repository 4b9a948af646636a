import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripTerminalControls, terminalControlStripper } from './terminal-text.js';

test("compose's erase-line prefix, colours, cursor moves and titles are removed; tabs and line ends stay", () => {
  assert.equal(stripTerminalControls('\x1b[2Kweb-1  | hello\n\x1b[2Kweb-1  | world\r\n'), 'web-1  | hello\nweb-1  | world\r\n');
  assert.equal(stripTerminalControls('\x1b[36mweb-1  |\x1b[0m \x1b[1;31mERROR\x1b[m\tdone'), 'web-1  | ERROR\tdone');
  assert.equal(stripTerminalControls('\x1b]0;a title\x07text\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\'), 'textlink');
  assert.equal(stripTerminalControls('\x1b(Bplain\x1b7\x1b[?25l\x1b[10;20H'), 'plain');
  assert.equal(stripTerminalControls('a lone \x1b\nhere'), 'a lone \nhere');
  assert.equal(stripTerminalControls('nothing to do: [2K is text'), 'nothing to do: [2K is text');
});

test('a sequence split across chunks is removed whole; the text around it comes out at once', () => {
  const s = terminalControlStripper();
  assert.equal(s.push('line one\n\x1b'), 'line one\n');
  assert.equal(s.push('[2'), '');
  assert.equal(s.push('Kline two\n\x1b]0;ti'), 'line two\n');
  assert.equal(s.push('tle\x07three\n'), 'three\n');
  assert.equal(s.end(), '');
});

test('what is held at the end of the stream comes out plain', () => {
  const s = terminalControlStripper();
  assert.equal(s.push('tail\x1b['), 'tail');
  assert.equal(s.end(), '[', 'the ESC of a sequence that never ended is dropped');
});

test('an unfinished sequence is not held for ever', () => {
  const s = terminalControlStripper();
  assert.equal(s.push('\x1b]'), '');
  const long = 'x'.repeat(5000);
  assert.equal(s.push(long), `]${long}`);
});
