/**
 * The only place that writes to the terminal. stdout carries results (tables, or exactly one
 * JSON document); stderr carries progress, warnings and errors.
 */
import { CiloError, describeSystemError } from '../../errors.js';

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}

export function info(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Progress goes to stderr and only on a terminal (or with CILO_PROGRESS=1). */
export function progress(line: string): void {
  if (process.stderr.isTTY || process.env.CILO_PROGRESS === '1') process.stderr.write(`${line}\n`);
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), ...rows.map(fmt)].join('\n');
}

export function printTable(headers: string[], rows: string[][]): void {
  out(table(headers, rows));
}

/** Turns any failure into one clear message on stderr and returns the exit code. */
export function reportError(e: unknown): number {
  const debug = process.env.CILO_DEBUG === '1';
  if (e instanceof CiloError) {
    process.stderr.write(`cilo: ${e.message}\n`);
    if (e.details) process.stderr.write(`${e.details.replace(/\n?$/, '\n')}`);
    if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const sys = describeSystemError(e);
  if (sys) {
    process.stderr.write(`cilo: ${sys}\n`);
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`cilo: internal error: ${msg}\n`);
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('hint: This is a bug in cilo; run again with CILO_DEBUG=1 for a stack trace and report it.\n');
  return 1;
}
