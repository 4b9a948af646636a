/**
 * Logs and commands of an environment for a caller that reads them as data (the MCP server):
 * output collected instead of shown, capped (the end kept, where errors are), with a timeout.
 */
import { siteOf } from '../sites/reach.js';
import { CiloError } from '../../errors.js';
import type { CoreContext } from '../context.js';
import { generatedTarget } from '../project/env-compose.js';
import { assertNotPausedByUser, startedEnvironment } from '../environments/passthrough.js';
import { useEnvironment, whileUsing } from '../environments/idle.js';
import type { EnvironmentState } from '../../domain/state.js';
import { stripTerminalControls } from '../../domain/terminal-text.js';

export interface CaptureLimits {
  timeoutMs: number;
  maxBytes: number;
}

export interface LogsResult {
  env: string;
  service: string | null;
  logs: string;
  /** Bytes left out at the start to keep the output within the cap. */
  truncated_bytes: number;
}

export interface ExecResult {
  env: string;
  service: string;
  argv: string[];
  /** null when it was killed at the timeout. */
  exit_code: number | null;
  timed_out: boolean;
  stdout: string;
  stderr: string;
  truncated_bytes: number;
}

function isolatedService(env: EnvironmentState, service: string): void {
  const s = env.services[service];
  if (!s) {
    throw new CiloError('SERVICE_NOT_FOUND', `Environment "${env.name}" has no service "${service}".`, { hint: `Services: ${Object.keys(env.services).sort().join(', ') || 'none yet'}.` });
  }
  if (s.type === 'shared') {
    throw new CiloError('SERVICE_NOT_FOUND', `Service "${service}" of environment "${env.name}" is shared: it runs in the project's shared container, not in the environment.`, {
      hint: `Use \`docker logs\`/\`docker exec\` on the container named in the manifest (cilo status ${env.name} --json).`,
    });
  }
}

export async function captureLogs(ctx: CoreContext, input: { env: string; project?: string | undefined; service?: string | undefined; tail: number } & CaptureLimits): Promise<LogsResult> {
  const env = startedEnvironment(ctx, input.env, input.project);
  if (input.service !== undefined) isolatedService(env, input.service);
  const args = ['logs', '--no-color', '--tail', String(input.tail), ...(input.service !== undefined ? [input.service] : [])];
  const r = await (await siteOf(ctx, env)).compose.captureLimited(generatedTarget(ctx.paths, env), args, input);
  if (r.code !== 0 && !r.timedOut) {
    throw new CiloError('COMPOSE_FAILED', `Reading the logs of environment "${env.name}" failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}.`, { hint: `Check \`cilo status ${env.name}\`.` });
  }
  // compose writes the containers' output to stdout, their stderr interleaved there too.
  // compose starts every line with ESC[2K even with --no-color (domain/terminal-text.ts): an agent reads plain text.
  return { env: env.name, service: input.service ?? null, logs: stripTerminalControls(r.stdout), truncated_bytes: r.droppedBytes };
}

export async function execCaptured(ctx: CoreContext, input: { env: string; project?: string | undefined; service: string; argv: string[] } & CaptureLimits): Promise<ExecResult> {
  if (input.argv.length === 0) throw new CiloError('USAGE', 'The command to run is empty.', { hint: 'Pass argv as an array such as ["sh", "-c", "ls"].', exitCode: 2 });
  const env = startedEnvironment(ctx, input.env, input.project);
  isolatedService(env, input.service);
  // A use, as `cilo exec`: an idle-paused environment is woken first (issue #26).
  assertNotPausedByUser(env);
  await useEnvironment(ctx, env.name, 'MCP exec');
  const site = await siteOf(ctx, env);
  const r = await whileUsing(ctx, env.name, () => site.compose.captureLimited(generatedTarget(ctx.paths, env), ['exec', '-T', input.service, ...input.argv], input));
  return { env: env.name, service: input.service, argv: input.argv, exit_code: r.code, timed_out: r.timedOut, stdout: r.stdout, stderr: r.stderr, truncated_bytes: r.droppedBytes };
}
