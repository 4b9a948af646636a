import { spawn } from 'node:child_process';

export interface LimitedResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  droppedBytes: number;
}

/** Keeps the last `max` bytes written to it, counting what it dropped. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  push(c: Buffer): void {
    this.chunks.push(c);
    this.size += c.length;
    if (this.size > this.max * 2) this.trim();
  }
  private trim(): void {
    const all = Buffer.concat(this.chunks);
    const cut = Math.max(0, all.length - this.max);
    this.dropped += cut;
    this.chunks = [all.subarray(cut)];
    this.size = all.length - cut;
  }
  text(): string {
    this.trim();
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs a program (never through a shell) with stdin closed, keeping only the end of its output
 * (at most `maxBytes` of each stream) and killing it after `timeoutMs`. Rejects only if it
 * cannot start.
 */
export function runLimited(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number; maxBytes: number }): Promise<LimitedResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new TailBuffer(opts.maxBytes);
    const err = new TailBuffer(opts.maxBytes);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = out.text();
      const stderr = err.text();
      resolve({ code: timedOut ? null : code, stdout, stderr, timedOut, droppedBytes: out.dropped + err.dropped });
    });
  });
}
