/**
 * A one-line progress display on stderr ("Copying 4,210/10,000 files (42%)"), redrawn in place.
 *
 * Only on a terminal: piped stderr, CI logs and agents must never see carriage returns or
 * escape codes. Only for work worth watching:
 * a large job (>= 2000 items) or one that has run longer than 300 ms, so quick copies stay quiet.
 * Redrawn at most ~10 times a second, because the callers report every single item.
 */
export interface Progress {
  update(done: number, total: number): void;
  /** Clears the line if anything was drawn. Safe to call more than once. */
  done(): void;
}

const LARGE = 2000;
const SLOW_MS = 300;
const INTERVAL_MS = 100;

/** The part of a stream we use, so tests can pass a fake terminal. */
interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): unknown;
}

export function createProgress(label: string, stream: ProgressStream = process.stderr): Progress {
  if (stream.isTTY !== true) return { update() {}, done() {} };

  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  let finished = false;
  return {
    update(done, total) {
      if (finished) return;
      const now = Date.now();
      if (total < LARGE && now - started < SLOW_MS) return;
      // Always draw the final count, so the line never lingers on a stale number.
      if (now - lastDraw < INTERVAL_MS && done < total) return;
      lastDraw = now;
      drawn = true;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      // `\r` back to column 0, `\x1b[K` erases what a longer previous line left behind.
      stream.write(`\r${label} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} files (${pct}%)\x1b[K`);
    },
    done() {
      if (finished) return;
      finished = true;
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
