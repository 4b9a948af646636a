import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { toValidName } from '../domain/names.js';
import { allocateSubnet } from '../domain/subnet.js';
import { CiloError } from '../errors.js';
import { workspacePath } from '../state/paths.js';
import type { EnvironmentState } from '../domain/state.js';
import { withStateLock } from '../state/store.js';
import type { CoreContext } from './context.js';
import { assertComposeFiles, resolveProject, resolveProjectDir } from './project.js';
import { applyEnvCopyPolicy } from './env-files.js';
import { ensureNetworkOrMove, removeNetwork } from './network.js';
import { writeWorkspaceMeta } from './workspace-meta.js';
import { externalSubnets } from './subnets.js';

export interface CreateInput {
  env: string;
  from?: string | undefined;
  project?: string | undefined;
  empty?: boolean | undefined;
  include?: string[] | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * Leave the network to the caller, who ensures it right after (`up` makes it while compose
   * resolves the model). Otherwise create makes it while the project is copied.
   */
  deferNetwork?: boolean | undefined;
}

export interface CreateResult {
  env: EnvironmentState;
  files: number;
  strategy: string;
}

/**
 * Creates an environment: records the intent (status `creating`) with a freshly allocated
 * subnet under the lock, copies the project, then marks it `created`. A failed copy removes
 * the partial workspace and the state entry. Re-running after a crash resumes.
 */
export async function createEnvironment(ctx: CoreContext, input: CreateInput): Promise<CreateResult> {
  const name = toValidName(input.env, 'environment');
  const dir = resolveProjectDir(input.from);
  const project = resolveProject(dir, input.project);
  if (!input.empty) assertComposeFiles(project);
  const workspace = workspacePath(ctx.paths, project.name, name);
  const taken = await externalSubnets(ctx);
  const now = new Date().toISOString();

  const env = await withStateLock((state) => {
    const existing = state.environments[name];
    if (existing && existing.project !== project.name) {
      throw new CiloError('NAME_TAKEN', `The environment name "${name}" is already used by project "${existing.project}"; names are unique on this host because they form DNS names.`, {
        hint: 'Choose another name, or destroy the other environment first.',
      });
    }
    if (existing && existing.status !== 'creating') {
      throw new CiloError('ENV_EXISTS', `Environment "${name}" of project "${project.name}" already exists.`, {
        hint: `Use \`cilo up ${name}\` to start it, or \`cilo destroy ${name}\` first to start over.`,
      });
    }
    // Only a copy interrupted by a crash (status `creating`) may be replaced; any other, for
    // example one kept by `destroy --keep-workspace`, is never copied over.
    if (!existing && existsSync(workspace) && readdirSync(workspace).length > 0) {
      throw new CiloError('WORKSPACE', `A workspace already exists at ${workspace}.`, {
        hint: 'Move it away (or delete it) if you no longer need it, or choose another environment name.',
      });
    }
    const others = Object.values(state.environments)
      .filter((e) => e.name !== name)
      .map((e) => e.subnet);
    // A network we made earlier for this very environment (resumed create) is not a conflict.
    const subnet = existing?.subnet ?? allocateSubnet(state.base_subnets, [...others, ...taken]);
    const record: EnvironmentState = {
      name,
      project: project.name,
      source: dir,
      workspace,
      subnet,
      dns_suffix: project.suffix,
      status: 'creating',
      created_at: existing?.created_at ?? now,
      updated_at: now,
      services: {},
      ingress: null,
      hostnames: [],
      shared: [],
    };
    state.environments[name] = record;
    return record;
  }, ctx.paths);

  let files = 0;
  let strategy = 'empty';
  // The network claims the subnet on the engine (the arbiter between CILO_HOMEs); it is made
  // while the project is copied.
  const network = input.deferNetwork ? Promise.resolve(env) : ensureNetworkOrMove(ctx, env);
  network.catch(() => undefined); // awaited below; this only avoids an unhandled rejection
  try {
    // Only a copy interrupted by a crash (status `creating`) is here to be replaced.
    await ctx.workspaces.remove(workspace);
    mkdirSync(dirname(workspace), { recursive: true, mode: 0o700 });
    if (input.empty) {
      mkdirSync(workspace, { recursive: true });
    } else {
      ctx.log(`Copying ${dir} to ${workspace}`);
      const r = await ctx.workspaces.copy(dir, workspace, {
        include: input.include ?? [],
        copyDotDirs: project.config.copy_dot_dirs ?? [],
        ignoreDotDirs: project.config.ignore_dot_dirs ?? [],
        excludeAbsolute: [ctx.paths.home],
        ...(input.onProgress ? { onProgress: input.onProgress } : {}),
      });
      files = r.files;
      strategy = r.strategy;
      // `.cilo/config.yml` env.copy_mode / copy / ignore: applied to the workspace only.
      files -= await applyEnvCopyPolicy(ctx, workspace, project.config.env);
    }
    writeWorkspaceMeta(await network);
  } catch (e) {
    await network.catch(() => undefined);
    await ctx.workspaces.remove(workspace).catch(() => undefined);
    await removeNetwork(ctx.docker, { project: project.name, name }).catch(() => undefined);
    await withStateLock((state) => {
      if (state.environments[name]?.status === 'creating') delete state.environments[name];
    }, ctx.paths);
    throw e;
  }

  const done = await withStateLock((state) => {
    const rec = state.environments[name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${name}" disappeared from the state while it was being created.`, { hint: 'Another cilo process destroyed it; create it again.' });
    rec.status = 'created';
    rec.updated_at = new Date().toISOString();
    return rec;
  }, ctx.paths);
  return { env: done, files, strategy };
}
