import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';

export interface ContainerExecOptions {
  /** Text for the program's standard input. */
  stdin?: string | undefined;
  /** A file streamed to its standard input (seeds may be large). */
  stdinFile?: string | undefined;
  /** Told how many bytes of `stdinFile` have been read so far, as they are (a long seed load's progress). */
  onStdinBytes?: ((bytes: number) => void) | undefined;
  /** Variables for the program; their values never appear on a command line. */
  env?: Record<string, string> | undefined;
  user?: string | undefined;
  /** The engine to run it on (`DOCKER_HOST`); absent: the one the environment names. */
  dockerHost?: string | undefined;
}

export interface ContainerExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program inside a container with `docker exec -i`: the Engine API's exec needs a
 * hijacked connection for stdin, which the docker CLI already does well. Variables are passed by
 * name (`-e NAME`, the value taken from this process's environment), so a password never shows
 * on a command line.
 */
export function execInContainer(container: string, argv: string[], opts: ContainerExecOptions = {}): Promise<ContainerExecResult> {
  const args = ['exec', '-i'];
  if (opts.user) args.push('-u', opts.user);
  for (const name of Object.keys(opts.env ?? {})) args.push('-e', name);
  args.push(container, ...argv);
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env: { ...process.env, ...(opts.env ?? {}), ...(opts.dockerHost ? { DOCKER_HOST: opts.dockerHost } : {}) }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    // A program that exits without reading all of its stdin makes the write fail with EPIPE: harmless.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (opts.stdinFile) {
      const file = createReadStream(opts.stdinFile);
      const onBytes = opts.onStdinBytes;
      if (onBytes) file.on('data', () => onBytes(file.bytesRead));
      file.on('error', (e) => {
        child.kill();
        reject(e);
      });
      file.pipe(child.stdin);
    } else child.stdin.end(opts.stdin ?? '');
  });
}
