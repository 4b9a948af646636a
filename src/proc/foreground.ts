import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { TextFilter } from '../domain/terminal-text.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
/** Signals a terminal sends to its whole foreground process group, the child included. */
const FROM_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT', 'SIGWINCH']);

/**
 * Runs a program in the foreground, attached to our stdin/stdout/stderr, and resolves with the
 * exit status a shell would report (128 + the signal number when a signal killed it).
 *
 * Signals sent to cilo are passed on. On a terminal, Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) and
 * window resizes already reach the child, which is in the same foreground process group: they
 * are not sent a second time, because many programs treat a second SIGINT as "force quit".
 */
export function runForeground(cmd: string, args: string[], opts: Omit<SpawnOptions, 'stdio'> & { stdoutFilter?: TextFilter | undefined } = {}): Promise<number> {
  const { stdoutFilter, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const onTerminal = process.stdin.isTTY === true;
    // The handlers go in before the child exists: a signal that arrives between the spawn and
    // them would otherwise kill cilo by its default action and orphan the child. (On a loaded
    // machine that gap is long enough: a test saw the child's first output and sent SIGTERM.)
    let child: ChildProcess | undefined;
    const early: NodeJS.Signals[] = [];
    const handlers = FORWARDED.map((sig) => {
      const h = (): void => {
        if (onTerminal && FROM_TERMINAL.has(sig)) return;
        if (child) child.kill(sig);
        else early.push(sig);
      };
      process.on(sig, h);
      return [sig, h] as const;
    });
    const cleanup = (): void => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    try {
      child = spawn(cmd, args, { ...spawnOpts, stdio: ['inherit', stdoutFilter ? 'pipe' : 'inherit', 'inherit'] });
    } catch (e) {
      cleanup();
      reject(e);
      return;
    }
    if (stdoutFilter && child.stdout) filterInto(child.stdout, stdoutFilter, child);
    for (const sig of early) child.kill(sig);
    child.on('error', (e) => {
      cleanup();
      reject(e);
    });
    // 'close' comes after the child's stdout ended, so the filter has written all it had.
    child.on('close', (code, signal) => {
      cleanup();
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (constants.signals[signal] ?? 1) : 1));
    });
  });
}

/**
 * The child's stdout, through `filter`, onto ours, as it comes (a followed log too). When our
 * stdout closes (`cilo logs | head`), the child's pipe is closed as well: its next write fails
 * and it ends, as it would have written to the closed pipe itself.
 */
function filterInto(from: NodeJS.ReadableStream & { destroy(): void }, filter: TextFilter, child: ChildProcess): void {
  const decoder = new StringDecoder('utf8');
  const write = (text: string): void => {
    if (text !== '' && process.stdout.writable) process.stdout.write(text);
  };
  const closed = (): void => {
    from.destroy();
    child.kill('SIGPIPE');
  };
  process.stdout.once('error', closed);
  from.on('data', (chunk: Buffer) => write(filter.push(decoder.write(chunk))));
  from.on('end', () => {
    write(filter.push(decoder.end()) + filter.end());
    process.stdout.off('error', closed);
  });
}
