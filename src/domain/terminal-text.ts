/**
 * Text meant for a terminal, made plain for a reader that is not one (an agent, a file, a pipe):
 * its control sequences (colours, "erase line", cursor moves, window titles) removed.
 *
 * Why: `docker compose logs` starts every line with ESC[2K (erase line) even when its output is
 * not a terminal and with --no-color or --ansi never (compose 2.26;
 * https://github.com/docker/compose/issues/11727), and programs in containers colour their own
 * output. Tab, line feed and carriage return are text, and kept.
 */

/**
 * One complete sequence: CSI (ESC [ parameters, intermediates, final byte), a string sequence
 * (OSC ESC ], DCS ESC P, SOS ESC X, PM ESC ^, APC ESC _) ended by BEL or ST (ESC \), or any other
 * escape (ESC, intermediates, final byte: ESC ( B, ESC 7, ESC c...), which is not the start of
 * one of the first two: an unfinished one is held whole until the rest arrives.
 */
const SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\)|\x1b(?![[\]PX^_])[ -/]*[0-~]/g;

/** The start of a sequence that the next chunk may complete. */
const UNFINISHED = /\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][\s\S]*|[ -/]*)$/;

/** A sequence left unfinished for this long is not one: it is dropped rather than held on to. */
const MAX_HELD = 4096;

/** `text` without terminal control sequences (and without a lone ESC that starts none). */
export function stripTerminalControls(text: string): string {
  return text.replace(SEQUENCE, '').replace(/\x1b/g, '');
}

/** Strips a stream of text that arrives in chunks: a sequence split between two chunks is still removed whole. */
export interface TextFilter {
  /** The plain text of this chunk, less an unfinished sequence at its end (held for the next). */
  push(chunk: string): string;
  /** What is held at the end of the stream, plain. */
  end(): string;
}

export function terminalControlStripper(): TextFilter {
  let held = '';
  return {
    push(chunk) {
      const text = (held + chunk).replace(SEQUENCE, '');
      const open = UNFINISHED.exec(text);
      if (open && text.length - open.index <= MAX_HELD) {
        held = text.slice(open.index);
        return text.slice(0, open.index).replace(/\x1b/g, '');
      }
      held = '';
      return text.replace(/\x1b/g, '');
    },
    end() {
      const rest = stripTerminalControls(held);
      held = '';
      return rest;
    },
  };
}
