/**
 * Expected failures: a stable code, one sentence naming what is wrong, a hint for the next
 * step, and the exit code (1 failure, 2 usage). Anything that is not a CiloError is a bug.
 */
export type ErrorCode =
  | 'USAGE'
  | 'INVALID_NAME'
  | 'ENV_EXISTS'
  | 'ENV_NOT_FOUND'
  | 'NAME_TAKEN'
  | 'PROJECT_MISMATCH'
  | 'PROJECT_NOT_FOUND'
  | 'PROJECT_TAKEN'
  | 'NO_COMPOSE_FILE'
  | 'COMPOSE_INVALID'
  | 'COMPOSE_FAILED'
  | 'COMPOSE_MISSING'
  | 'DOCKER_UNREACHABLE'
  | 'DOCKER_API'
  | 'SUBNET_EXHAUSTED'
  | 'SUBNET_CONFLICT'
  | 'INVALID_CIDR'
  | 'STATE_CORRUPT'
  | 'STATE_LOCKED'
  | 'CONFIG_INVALID'
  | 'WORKSPACE'
  | 'SERVICE_FAILED'
  | 'SERVICE_NOT_FOUND'
  | 'TIMEOUT'
  | 'NOT_CONFIRMED'
  | 'DNS'
  | 'TRUST'
  | 'SHARED_CONFLICT'
  | 'SHARED_UNSUPPORTED'
  | 'FS'
  | 'HOOK_FAILED'
  | 'COMMAND_NOT_FOUND'
  | 'GIT_FAILED'
  | 'SOURCE_DIRTY'
  | 'CONFIG_EXISTS'
  | 'NETWORK_OVERLAP'
  | 'NETWORK_MISMATCH'
  | 'MIGRATE_FAILED'
  | 'HOST_INVALID'
  | 'HOST_EXISTS'
  | 'HOST_NOT_FOUND'
  | 'HOST_IN_USE'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_UNREACHABLE'
  | 'HOST_COMMAND_FAILED'
  | 'ENGINE_DUPLICATE'
  | 'SSH_MISSING'
  | 'SYNC_FAILED'
  | 'TUNNEL_FAILED'
  | 'TUNNEL_UNAVAILABLE'
  | 'REMOTE_UNSUPPORTED'
  | 'DESTROY_INCOMPLETE'
  | 'PORTS_EXHAUSTED'
  | 'ROUTER_FAILED'
  | 'CAPACITY'
  | 'ENV_PAUSED';

export interface CiloErrorOptions {
  hint?: string;
  exitCode?: number;
  cause?: unknown;
  /** Extra lines shown after the message (for example a service's last log lines). */
  details?: string;
  /** The service that failed, and its last log lines: in the JSON failure document too. */
  service?: string;
  logs?: string[];
}

export class CiloError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly details: string | undefined;
  readonly service: string | undefined;
  readonly logs: string[] | undefined;

  constructor(code: ErrorCode, message: string, opts: CiloErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CiloError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? (code === 'USAGE' ? 2 : 1);
    this.details = opts.details;
    this.service = opts.service;
    this.logs = opts.logs;
  }

  /** The same failure with one more line of details (shown after the message, before the hint). */
  withDetail(line: string): CiloError {
    const e = new CiloError(this.code, this.message, {
      hint: this.hint,
      exitCode: this.exitCode,
      cause: this.cause,
      details: this.details ? `${this.details.replace(/\n$/, '')}\n${line}` : line,
      service: this.service,
      logs: this.logs,
    });
    e.stack = this.stack;
    return e;
  }
}

/** The Docker Engine refused a request: method, path, HTTP status and the daemon's own text. */
export class DockerApiError extends CiloError {
  readonly status: number;
  constructor(method: string, path: string, status: number, daemonMessage: string) {
    super('DOCKER_API', `Docker refused ${method} ${path} (HTTP ${status}): ${daemonMessage}`);
    this.status = status;
  }
}

export function usageError(message: string, hint?: string): CiloError {
  return new CiloError('USAGE', message, hint === undefined ? { exitCode: 2 } : { hint, exitCode: 2 });
}

export function isCiloError(e: unknown): e is CiloError {
  return e instanceof CiloError;
}

/** Node's own errors (EACCES, ENOENT...) carry a code; name them in words a user understands. */
export function describeSystemError(e: unknown): string | undefined {
  if (!(e instanceof Error) || !('code' in e)) return undefined;
  const err = e as NodeJS.ErrnoException;
  const where = err.path ? ` (${err.path})` : '';
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return `Permission denied${where}.`;
    case 'ENOENT':
      return `No such file or directory${where}.`;
    case 'ENOSPC':
      return `No space left on the device${where}.`;
    case 'EROFS':
      return `The file system is read-only${where}.`;
    default:
      return undefined;
  }
}
