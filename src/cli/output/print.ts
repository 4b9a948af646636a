/**
 * Everything cilo itself prints goes through here: stdout carries results (tables, or exactly
 * one JSON document), stderr progress, warnings and errors. What else reaches the terminal is
 * not cilo's text: the programs it runs attached to it (`cilo run`, compose's logs and exec,
 * through proc/foreground.ts) and commander's help. Two writers are not a terminal's: the MCP
 * server (cli/mcp/server.ts), whose stdout is the protocol (its notes go to stderr), and the DNS
 * server and dashboard daemons, whose output is their log file.
 */
import { CiloError, describeSystemError } from '../../errors.js';

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Text that carries its own line ends (a log, a generated file). */
export function outText(text: string): void {
  process.stdout.write(text);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The warnings of the command that runs (core's ctx.warn lines among them, cliContext wires it
 * here): on stderr as they come, and in its JSON document too (`printResult`), so that a
 * program reading only stdout sees them. main() starts each command with an empty list.
 */
let warnings: string[] = [];

export function warn(line: string): void {
  recordWarning(line);
  process.stderr.write(`warning: ${line}\n`);
}

/** Keeps a warning for the JSON document only: one its caller shows itself (up's progress view). */
export function recordWarning(line: string): void {
  warnings.push(line);
}

/** Forgets the warnings of a previous command (main runs several in one process in tests). */
export function startCommand(): void {
  warnings = [];
}

/** The warnings so far, those the result carries itself first, each once. */
function warningsWith(own: readonly string[] | undefined): string[] {
  return [...new Set([...(own ?? []), ...warnings])];
}

/**
 * The JSON document of a command that changes something: its result and `warnings`, every
 * warning it wrote (an empty list when none). Read commands print their document with
 * printJson as it is (`list --json` is a bare array, as the original's).
 */
export function printResult<T extends object>(doc: T & { warnings?: readonly string[] }): void {
  printJson({ ...doc, warnings: warningsWith(doc.warnings) });
}

export function info(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** compose's own output while it works, passed on to stderr as it comes; only on a terminal (undefined elsewhere). */
export function composeEcho(): ((chunk: string) => void) | undefined {
  return process.stderr.isTTY ? (chunk) => void process.stderr.write(chunk) : undefined;
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

export const USAGE_HINT = 'Run `cilo --help` (or `cilo <command> --help`) to see the usage.';

/** commander's "error: missing required argument 'env'" as one sentence: "Missing required argument 'env'." */
export function usageSentence(text: string): string {
  const t = text.replace(/^error: /, '').trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.?!]$/.test(t) ? '' : '.'}`;
}

/**
 * A failure under `--json`, on stdout: `code` is a CiloError code, `USAGE` for a command line
 * commander refused, `FS` for a file system error, `INTERNAL` for a bug; `hint` is null when
 * there is none.
 */
export interface ErrorDocument {
  ok: false;
  code: string;
  message: string;
  hint: string | null;
  /** A failing service (`up`), with its last log lines. */
  service?: string;
  logs?: string[];
  /** The warnings written before the failure, when there were any. */
  warnings?: string[];
}

interface FailureFacts {
  code: string;
  message: string;
  hint?: string | undefined;
  service?: string | undefined;
  logs?: string[] | undefined;
}

export function errorDocument(e: FailureFacts): ErrorDocument {
  const doc: ErrorDocument = { ok: false, code: e.code, message: e.message, hint: e.hint ?? null };
  if (e.service !== undefined) doc.service = e.service;
  if (e.logs !== undefined) doc.logs = e.logs;
  return doc;
}

export function printErrorJson(e: FailureFacts): void {
  const doc = errorDocument(e);
  if (warnings.length > 0) doc.warnings = warningsWith([]);
  printJson(doc);
}

const BUG_HINT = 'This is a bug in cilo; run again with CILO_DEBUG=1 for a stack trace and report it.';

/** What a failure says: its code, sentence and hint (and extra lines after the sentence). */
export function describeFailure(e: unknown): FailureFacts & { details?: string | undefined; exitCode: number } {
  if (e instanceof CiloError) return { code: e.code, message: e.message, hint: e.hint, details: e.details, service: e.service, logs: e.logs, exitCode: e.exitCode };
  const sys = describeSystemError(e);
  if (sys) return { code: 'FS', message: sys, exitCode: 1 };
  return { code: 'INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}`, hint: BUG_HINT, exitCode: 1 };
}

/**
 * Turns any failure into one clear message on stderr (and, with `json`, one JSON document on
 * stdout) and returns the exit code.
 */
export function reportError(e: unknown, opts: { json?: boolean } = {}): number {
  const debug = process.env.CILO_DEBUG === '1';
  const f = describeFailure(e);
  process.stderr.write(`cilo: ${f.message}\n`);
  if (f.details) process.stderr.write(`${f.details.replace(/\n?$/, '\n')}`);
  // A bug's hint says to run with CILO_DEBUG=1, which is what prints the stack instead.
  if (f.hint && (e instanceof CiloError || !debug)) process.stderr.write(`hint: ${f.hint}\n`);
  if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  if (opts.json) printErrorJson(f);
  return f.exitCode;
}
