/**
 * How `up` shows its progress on stderr (core's ProgressEvents, its notes and warnings):
 *
 * - On a terminal, a live block redrawn in place below what is printed for good: each running
 *   step with its elapsed time (and how far a long one is: seed bytes loaded, files copied), and
 *   each service on its way up with its phase ("creating", "waiting for health") and elapsed
 *   time, as compose draws it. A step that ends and a service that is ready are printed for good,
 *   with their durations.
 * - Anywhere else (a pipe, a file, an agent reading stderr, `--json`): only the lines printed
 *   for good, one per step and per ready service, plain text with no escape codes and no
 *   carriage returns.
 *
 * The block is redrawn on each event and every half second for the elapsed times (a timer that
 * only draws: nothing is asked of the engine for it).
 */
import { formatAmount, formatDuration, phaseText, type ProgressEvent, type ServicePhase, type StepAmount } from '../../domain/progress.js';

/** The part of a stream the view uses, so tests can pass a fake terminal. */
export interface ViewStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressView {
  /** A note from core (ctx.log). */
  log(line: string): void;
  /** A warning (ctx.warn), shown as `warning: …`. */
  warn(line: string): void;
  /** A structured event (ctx.progress). */
  event(e: ProgressEvent): void;
  /** compose's own lines that are not about a container (pulls, builds): shown on a terminal only. */
  compose(chunk: string): void;
  /** Clears the live block and stops its timer; before anything else is printed. Safe to call more than once. */
  close(): void;
}

interface RunningStep {
  label: string;
  started: number;
  amount?: StepAmount;
}

interface ServiceLine {
  name: string;
  phase: ServicePhase;
  detail?: string | undefined;
  started: number;
  /** Printed for good as ready (or failed): later events repeating it are not shown again. */
  ended: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 500;
const TICK_DRAW_MS = 100;

/**
 * One line of the block within the terminal's width: a wider line wraps, and the block could no
 * longer be erased line by line. The text is cut, never what follows it (how far, how long).
 */
function fit(text: string, tail: string, width: number): string {
  const chars = [...text];
  const room = width - [...tail].length;
  if (chars.length <= room) return `${text}${tail}`;
  if (room < 2) return [...`${text}${tail}`].slice(0, width - 1).join('') + '…';
  return `${chars.slice(0, room - 1).join('')}…${tail}`;
}

export function createProgressView(stream: ViewStream = process.stderr, now: () => number = Date.now): ProgressView {
  const tty = stream.isTTY === true;
  const steps = new Map<number, RunningStep>();
  const services = new Map<string, ServiceLine>();
  let drawnLines = 0;
  let lastDraw = 0;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;

  const blockLines = (): string[] => {
    const t = now();
    const spin = FRAMES[frame % FRAMES.length] ?? '-';
    const width = Math.max(20, (stream.columns || 80) - 1);
    const lines: string[] = [];
    for (const s of steps.values()) lines.push(fit(`${spin} ${s.label}`, `${s.amount ? `: ${formatAmount(s.amount)}` : ''}  ${formatDuration(t - s.started)}`, width));
    for (const s of services.values()) {
      if (s.ended) continue;
      lines.push(fit(`   ${s.name}  ${phaseText(s.phase)}${s.detail ? ` (${s.detail})` : ''}`, `  ${formatDuration(t - s.started)}`, width));
    }
    return lines;
  };

  /** Erases the block (terminal), prints `lines` for good, draws the block again. */
  const draw = (lines: string[] = []): void => {
    if (closed) {
      if (lines.length > 0) stream.write(lines.map((l) => `${l}\n`).join(''));
      return;
    }
    if (!tty) {
      if (lines.length > 0) stream.write(lines.map((l) => `${l}\n`).join(''));
      return;
    }
    frame += 1;
    lastDraw = now();
    const block = blockLines();
    // Up to the block's first line (the cursor is at column 0 after its last newline) and erase
    // to the end of the screen: no carriage return, which a terminal set to map CR to NL misreads.
    let out = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[J` : '';
    for (const l of [...lines, ...block]) out += `${l}\n`;
    drawnLines = block.length;
    if (out !== '') stream.write(out);
    // The timer only runs while there is something to watch.
    if (block.length > 0 && !timer) {
      timer = setInterval(() => draw(), REDRAW_MS);
      timer.unref();
    } else if (block.length === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const done = (label: string, ms: number, ok: boolean): string => (tty ? `${ok ? '✔' : '✘'} ${label}  ${formatDuration(ms)}` : `${label} (${formatDuration(ms)})`);

  const onService = (e: Extract<ProgressEvent, { type: 'service' }>): void => {
    const key = `${e.shared ? 'shared ' : ''}${e.service}`;
    const name = e.shared ? `${e.service} (shared)` : e.service;
    const cur = services.get(key);
    const final = e.phase === 'ready' || e.phase === 'failed';
    if (cur?.ended && (e.phase === 'ready' || e.phase === 'healthy')) return;
    const line: ServiceLine = { name, phase: e.phase, detail: e.detail, started: cur && !cur.ended ? cur.started : now(), ended: final };
    services.set(key, line);
    if (!final) {
      draw();
      return;
    }
    // A shared service's end is said by the step that ensures it.
    if (e.shared) {
      draw();
      return;
    }
    const ms = now() - line.started;
    const said = e.phase === 'ready' ? `${name} ready` : `${name} failed${e.detail ? `: ${e.detail}` : ''}`;
    draw([tty ? `  ${done(said, ms, e.phase === 'ready')}` : `${said} (${formatDuration(ms)})`]);
  };

  return {
    log: (line) => draw([line]),
    warn: (line) => draw([`warning: ${line}`]),
    compose: (chunk) => {
      if (!tty) return;
      const lines = chunk.split(/\r?\n/).filter((l) => l.trim() !== '');
      if (lines.length > 0) draw(lines);
    },
    event: (e) => {
      switch (e.type) {
        case 'step-start':
          steps.set(e.id, { label: e.label, started: now() });
          draw();
          return;
        case 'step-tick': {
          const s = steps.get(e.id);
          if (!s) return;
          s.amount = e.amount;
          if (tty && now() - lastDraw >= TICK_DRAW_MS) draw();
          return;
        }
        case 'step-end':
          steps.delete(e.id);
          draw([done(e.label, e.ms, e.ok)]);
          return;
        case 'service':
          onService(e);
          return;
      }
    },
    close: () => {
      if (closed) return;
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty && drawnLines > 0) stream.write(`\x1b[${drawnLines}A\x1b[J`);
      drawnLines = 0;
      closed = true;
    },
  };
}
