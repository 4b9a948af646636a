/**
 * The `docker compose` adapter. Compose resolves the project's files itself (extends,
 * profiles, include, interpolation, .env, long/short syntax); cilo never reads compose YAML.
 */
import * as v from 'valibot';
import type { ComposeModel, ComposeTarget } from '../domain/compose-model.js';
import { ComposeModelSchema, firstProblem } from './model-schema.js';
import { CiloError } from '../errors.js';
import { composeCommand } from './binary.js';
import { runForeground } from '../proc/foreground.js';
import { terminalControlStripper } from '../domain/terminal-text.js';
import { tail } from '../domain/text.js';
import { capture, type CaptureResult } from '../proc/run.js';

/** Compose's own arguments for a target (without the program or `compose` before them). */
export function composeBaseArgs(t: ComposeTarget): string[] {
  const args = ['-p', t.projectName];
  for (const f of t.files) args.push('-f', f);
  for (const e of t.envFiles ?? []) args.push('--env-file', e);
  for (const p of t.profiles ?? []) args.push('--profile', p);
  return args;
}

/** The environment compose runs with: DOCKER_HOST set for a target on a remote host. */
export function composeEnv(t: ComposeTarget, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv | undefined {
  if (!t.dockerHost && Object.keys(extra).length === 0) return undefined;
  return { ...process.env, ...(t.dockerHost ? { DOCKER_HOST: t.dockerHost, DOCKER_CONTEXT: '' } : {}), ...extra };
}

/** Turns a failed compose run into one clear error; distinguishes a missing Compose v2. */
function composeFailure(what: string, args: string[], r: CaptureResult): CiloError {
  const err = r.stderr.trim();
  if (/is not a docker command|unknown command "compose"|unknown shorthand flag: 'p' in -p/.test(err)) {
    return composeMissing();
  }
  if (/Cannot connect to the Docker daemon|error during connect/i.test(err)) {
    return new CiloError('DOCKER_UNREACHABLE', `docker compose cannot reach the Docker engine (${tail(err, 1)}).`, {
      hint: 'Start Docker or fix DOCKER_HOST, then retry.',
    });
  }
  // Compose prints progress lines first; the line that names the cause is the last error line.
  const lines = err.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = [...lines].reverse().find((l) => /error|invalid|not found|denied|failed|no such/i.test(l)) ?? lines[lines.length - 1] ?? `exit status ${r.code}`;
  return new CiloError('COMPOSE_FAILED', `${what} failed: ${cause.replace(/^Error response from daemon:\s*/i, '')}`, {
    details: `command: docker compose ${args.join(' ')} (exit ${r.code})\n${tail(err, 12)}`,
    hint: 'Fix the compose file or the service named above, then retry.',
  });
}

function composeMissing(): CiloError {
  return new CiloError('COMPOSE_MISSING', 'Docker Compose v2 (`docker compose`) is not installed.', {
    hint: 'Install the Compose v2 plugin (Debian/Ubuntu: docker-compose-plugin or docker-compose v2; macOS: Docker Desktop), then check with `docker compose version`.',
  });
}

async function compose(args: string[], cwd: string, onStderr?: (s: string) => void, env?: NodeJS.ProcessEnv): Promise<CaptureResult> {
  const c = composeCommand();
  try {
    return await capture(c.command, [...c.prefix, ...args], { cwd, ...(onStderr ? { onStderr } : {}), ...(env ? { env } : {}) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (c.command !== 'docker') throw composeMissing();
      throw new CiloError('COMPOSE_MISSING', 'The `docker` command was not found on PATH.', {
        hint: 'Install Docker with Compose v2, or add the docker CLI to PATH.',
      });
    }
    throw e;
  }
}

/** Resolves the project's compose model with the compose tool itself. */
export async function resolveModel(t: ComposeTarget): Promise<ComposeModel> {
  const args = [...composeBaseArgs(t), 'config', '--format', 'json'];
  const r = await compose(args, t.cwd, undefined, composeEnv(t));
  if (r.code !== 0) {
    const err = r.stderr.trim();
    if (r.code === 14 || /no configuration file provided/i.test(err)) {
      throw new CiloError('NO_COMPOSE_FILE', `No compose file found in ${t.cwd}.`, {
        hint: 'Add a compose.yaml (or docker-compose.yml), or list your files under compose_files in .cilo/config.yml.',
      });
    }
    const f = composeFailure('Resolving the compose model', args, r);
    if (f.code !== 'COMPOSE_FAILED') throw f;
    // Compose exits 15 (or 1) for an invalid model; its last line names the file and the key.
    throw new CiloError('COMPOSE_INVALID', `The compose model of ${t.cwd} is invalid: ${tail(err, 1)}`, {
      hint: 'Fix the compose file; `docker compose config` in the project shows the same error.',
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(r.stdout);
  } catch (e) {
    throw unexpectedOutput(args, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const parsed = v.safeParse(ComposeModelSchema, data);
  if (!parsed.success) throw unexpectedOutput(args, firstProblem(parsed.issues));
  return parsed.output;
}

/** Compose printed something cilo cannot read: say which command and what, rather than fail later. */
function unexpectedOutput(args: string[], problem: string): CiloError {
  return new CiloError('COMPOSE_FAILED', `docker compose printed a model cilo cannot read: ${problem}.`, {
    details: `command: docker compose ${args.join(' ')}`,
    hint: 'Check `docker compose version` (cilo needs Compose v2) and report this with the command above.',
  });
}

/** Options of `compose up`; the same shape as core's ComposeUpOptions. */
export interface UpOptions {
  build?: boolean | undefined;
  forceRecreate?: boolean | undefined;
  onStderr?: ((chunk: string) => void) | undefined;
  /**
   * Told each line compose prints about a container (` Container p-web-1  Started`): the
   * container's name and compose's status word. Those lines then no longer go to `onStderr`,
   * which gets the other lines (pulls, builds, volumes), one whole line at a time.
   */
  onContainer?: ((container: string, word: string) => void) | undefined;
  /**
   * Start only these services, without their dependencies, leaving the project's other
   * services alone (shared services live in one compose project per cilo project).
   */
  only?: string[] | undefined;
}

export async function composeUp(t: ComposeTarget, opts: UpOptions = {}): Promise<void> {
  const args = [...composeBaseArgs(t), 'up', '-d', '--quiet-pull'];
  if (!opts.only) args.push('--remove-orphans');
  if (opts.build) args.push('--build');
  if (opts.forceRecreate) args.push('--force-recreate');
  if (opts.only) args.push('--no-deps', ...opts.only);
  const env = composeEnv(t, opts.only ? { COMPOSE_IGNORE_ORPHANS: 'true' } : {});
  const lines = opts.onContainer ? containerLines(opts.onContainer, opts.onStderr) : undefined;
  const r = await compose(args, t.cwd, lines ? lines.write : opts.onStderr, env);
  lines?.end();
  if (r.code !== 0) throw composeFailure(`Starting ${t.projectName}`, args, r);
}

/** Splits compose's stderr into lines and picks those about a container (` Container <name>  <Word>`). */
export function containerLines(onContainer: (container: string, word: string) => void, rest: ((line: string) => void) | undefined): { write: (chunk: string) => void; end: () => void } {
  let pending = '';
  const line = (l: string): void => {
    const m = /^\s*Container (\S+)\s+(\S+)\s*$/.exec(l);
    if (m) onContainer(m[1] ?? '', m[2] ?? '');
    else rest?.(`${l}\n`);
  };
  return {
    write: (chunk) => {
      const parts = (pending + chunk).split(/\r?\n/);
      pending = parts.pop() ?? '';
      for (const l of parts) if (l.trim() !== '') line(l);
    },
    end: () => {
      if (pending.trim() !== '') line(pending);
      pending = '';
    },
  };
}

export async function composeStop(t: ComposeTarget, timeoutSeconds?: number): Promise<void> {
  const args = [...composeBaseArgs(t), 'stop'];
  if (timeoutSeconds !== undefined) args.push('--timeout', String(timeoutSeconds));
  const r = await compose(args, t.cwd, undefined, composeEnv(t));
  if (r.code !== 0) throw composeFailure(`Stopping ${t.projectName}`, args, r);
}

/** Options of a passthrough run; the same shape as core's PassthroughOptions. */
export interface PassthroughOptions {
  plainStdout?: boolean | undefined;
}

/**
 * Runs compose attached to the terminal (logs, exec, passthrough) and returns its exit status;
 * with `plainStdout`, its stdout passes through a filter that removes terminal control sequences.
 */
export async function composePassthrough(t: ComposeTarget, rest: string[], opts: PassthroughOptions = {}): Promise<number> {
  const c = composeCommand();
  try {
    const env = composeEnv(t);
    const stdoutFilter = opts.plainStdout ? terminalControlStripper() : undefined;
    return await runForeground(c.command, [...c.prefix, ...composeBaseArgs(t), ...rest], { cwd: t.cwd, stdoutFilter, ...(env ? { env } : {}) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw composeMissing();
    throw e;
  }
}

/** `compose version --short`, or undefined when compose cannot be run. */
export async function composeVersion(): Promise<string | undefined> {
  try {
    const c = composeCommand();
    const r = await capture(c.command, [...c.prefix, 'version', '--short']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}
