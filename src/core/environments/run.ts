/**
 * `cilo run <command> <env> [args...]`: makes sure the environment exists and runs (through the
 * same create and up as the commands of those names), then runs the command in its workspace
 * with the CILO_* variables, attached to the terminal, and returns its exit status.
 */
import { existsSync } from 'node:fs';
import { loadProjectConfig } from '../../config/load.js';
import { toValidName } from '../../domain/names.js';
import { runVariables, trustVariables } from '../../domain/run-vars.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import type { EnvironmentState } from '../../domain/state.js';
import type { CoreContext } from '../context.js';
import { createEnvironment } from './create.js';
import { prepareEnvFiles } from '../project/env-files.js';
import { didYouMean, findEnv } from './lookup.js';
import { upEnvironment } from './up.js';
import { manifestOfEnvironment, writeManifestFile } from '../agents/manifest.js';
import type { UpTimings } from '../../domain/manifest.js';
import { liveViews } from './environment-view.js';
import { trustFiles } from '../trust/bundle.js';
import { isIdlePaused } from '../../domain/idle.js';
import { useEnvironment, whileUsing } from './idle.js';

export interface RunInput {
  command: string;
  env: string;
  args: string[];
  from?: string | undefined;
  project?: string | undefined;
  /** false: do not start the environment (it is still created unless `create` is false). */
  up?: boolean | undefined;
  /** false: the environment must exist already. */
  create?: boolean | undefined;
  onComposeOutput?: ((chunk: string) => void) | undefined;
  /** `env` is a prefix: a new environment named by the first free `<env>-N`. */
  autoName?: boolean | undefined;
  /** The remote host to create the environment on (`cilo host add`). */
  host?: string | undefined;
  /** Told the environment's name once it is known (with autoName, the one chosen). */
  onEnvironment?: ((name: string) => void) | undefined;
}

interface Ensured {
  env: EnvironmentState;
  timings?: UpTimings | undefined;
}

/** Creates and starts the environment as asked; returns its record as it is now. */
async function ensureEnvironmentFor(ctx: CoreContext, input: Omit<RunInput, 'command' | 'args'>): Promise<Ensured> {
  const name = toValidName(input.env, 'environment');
  if (input.autoName) {
    if (input.create === false) throw new CiloError('USAGE', '--auto-name makes a new environment, and --no-create forbids that.', { hint: 'Drop one of them.', exitCode: 2 });
    if (input.up === false) return { env: (await createEnvironment(ctx, { env: name, from: input.from, project: input.project, host: input.host, autoName: true })).env };
    const r = await upEnvironment(ctx, { env: name, from: input.from, project: input.project, host: input.host, onComposeOutput: input.onComposeOutput, autoName: true });
    return { env: r.env, timings: r.timings };
  }
  const state = readState(ctx.paths);
  const existing = state.environments[name];
  if (!existing && input.create === false) {
    throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${name}", and --no-create forbids creating it.`, {
      hint: `${didYouMean(state, name)}Drop --no-create, or create it first with \`cilo create ${name}\`.`,
    });
  }
  if (existing) findEnv(state, name, input.project);
  const wantUp = input.up !== false;
  if (wantUp) {
    // A use: one paused for being idle is thawed (far faster than an up), then used as it is.
    const current = existing && isIdlePaused(existing) ? await wakeForRun(ctx, name) : existing;
    // An environment whose services all run is used as it is: `run` is called again and again.
    const running = current?.status === 'running' && (await liveViews(ctx, [current]))[0]?.status === 'running';
    if (!current || !running) {
      // The environment keeps the idle pause its last up gave it.
      const r = await upEnvironment(ctx, { env: name, from: input.from, project: input.project, host: input.host, onComposeOutput: input.onComposeOutput, idlePause: existing?.idle_pause_seconds });
      return { env: r.env, timings: r.timings };
    }
    return { env: current };
  }
  if (!existing || existing.status === 'creating') {
    // Made by another command meanwhile (a parallel `run` of the name): used as it is.
    const r = await createEnvironment(ctx, { env: name, from: input.from ?? existing?.source, project: input.project ?? existing?.project, host: existing?.host ?? input.host, useExisting: true });
    return { env: r.env };
  }
  return { env: existing };
}

export async function runInEnvironment(ctx: CoreContext, input: RunInput): Promise<number> {
  if (input.command.trim() === '') throw new CiloError('USAGE', 'The command to run is empty.', { hint: 'Usage: cilo run <command> <env> [args...]', exitCode: 2 });
  if (input.env.startsWith('-')) {
    throw new CiloError('USAGE', `"${input.env}" is not an environment name: cilo's options go before the command.`, {
      hint: 'Usage: cilo run [--from DIR] [--project P] [--no-up] [--no-create] <command> <env> [args...]',
      exitCode: 2,
    });
  }
  const { env, timings } = await ensureEnvironmentFor(ctx, input);
  input.onEnvironment?.(env.name);
  if (!existsSync(env.workspace)) {
    throw new CiloError('WORKSPACE', `The workspace of environment "${env.name}" (${env.workspace}) is missing.`, { hint: `Destroy it with \`cilo destroy ${env.name} --force\` and create it again.` });
  }
  // `up` prepared the env files; without it, the command still expects them rendered.
  if (input.up === false) await prepareEnvFiles(ctx, env, loadProjectConfig(env.workspace, ctx.warn));
  // Before the manifest, which names the CA file once it exists.
  const trusted = await trustFiles(ctx).catch((e: unknown) => {
    ctx.warn(`cilo's CA could not be prepared (${(e as Error).message}); the command runs without NODE_EXTRA_CA_CERTS and SSL_CERT_FILE.`);
    return undefined;
  });
  const manifest = writeManifestFile(ctx, await manifestOfEnvironment(ctx, env, { timings }));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...runVariables(env), ...(trusted ? trustVariables(trusted, process.env) : {}), CILO_MANIFEST: manifest };
  const found = await ctx.proc.findProgram(input.command, env.workspace, childEnv.PATH);
  if (!found.found) {
    const missing = found.reason === 'missing';
    throw new CiloError('COMMAND_NOT_FOUND', missing ? `Command "${input.command}" was not found${input.command.includes('/') ? ` (relative to ${env.workspace})` : ' on PATH'}.` : `Command "${input.command}" is not executable.`, {
      hint: missing ? 'Check the spelling, or give its path; `cilo run` runs a program, not a shell line (use `cilo run sh <env> -c "..."` for that).' : `Make it executable (chmod +x) or run it through its interpreter.`,
      exitCode: missing ? 127 : 126,
    });
  }
  // `args` reach the command untouched: the CLI has dropped its own `--` separator already.
  // The environment is in use while the command runs: the supervisor does not pause it under it.
  const run = (): Promise<number> => ctx.proc.runForeground(found.path, input.args, { cwd: env.workspace, env: childEnv, argv0: input.command });
  return input.up === false ? run() : whileUsing(ctx, env.name, run);
}

/** Wakes an idle-paused environment for `run`; returns its record as it is now. */
async function wakeForRun(ctx: CoreContext, name: string): Promise<EnvironmentState | undefined> {
  await useEnvironment(ctx, name, 'cilo run');
  return readState(ctx.paths).environments[name];
}
