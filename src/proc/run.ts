import { spawn } from 'node:child_process';

export interface CaptureResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CaptureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Called with each chunk of stderr, e.g. to show compose progress on a TTY. */
  onStderr?: (chunk: string) => void;
}

/** Runs a program (never through a shell) and collects its output. Rejects only if it cannot start. */
export function capture(cmd: string, args: string[], opts: CaptureOptions = {}): Promise<CaptureResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err.push(c);
      opts.onStderr?.(c.toString('utf8'));
    });
    child.on('error', reject);
    // A program that exits without reading its stdin makes the write fail with EPIPE: harmless.
    child.stdin.on('error', () => undefined);
    child.on('close', (code, signal) => {
      resolve({ code: code ?? 128, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}
