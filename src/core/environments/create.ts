import { ownRepository } from '../project/own-repository.js';
import { cleanupStep } from '../cleanup.js';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import type { SiteContext } from '../sites/site.js';
import { atSite } from '../sites/reach.js';
import { dirname, join } from 'node:path';
import { pickFreeName } from '../../domain/auto-name.js';
import { toValidName } from '../../domain/names.js';
import { allocateSubnet } from '../../domain/subnet.js';
import { CiloError } from '../../errors.js';
import { workspacePath } from '../../state/paths.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { readState, withStateLock } from '../../state/store.js';
import { tryLockEnvironment, withEnvironmentLock, type EnvironmentLockOptions, type Release } from '../../state/env-lock.js';
import { isoNow, type CoreContext } from '../context.js';
import type { CopiedRepo } from '../ports.js';
import { assertComposeFiles, environmentSuffix, claimProjectName, releaseProjectName, resolveProject, resolveProjectDir, type ProjectInfo } from '../project/project.js';
import { COMPOSE_FILE_NAMES, OVERRIDE_FILE_NAMES } from '../project/compose-files.js';
import { applyEnvCopyPolicy } from '../project/env-files.js';
import { ensureNetworkOrMove, removeNetwork } from '../network/network.js';
import { writeNotCopied, writeWorkspaceMeta } from '../project/workspace-meta.js';
import { externalSubnets } from '../network/subnets.js';
import { knownHost } from '../hosts/hosts.js';
import { checkRecordedMode, decideWorkspaceMode, modeNote } from '../project/workspace-mode.js';
import { isInPlace, type ModeChoice, type WorkspaceMode } from '../../domain/workspace-mode.js';
import { subnetBases } from '../../domain/hosts.js';

export interface CreateInput {
  env: string;
  from?: string | undefined;
  project?: string | undefined;
  empty?: boolean | undefined;
  include?: string[] | undefined;
  /**
   * `env` is a prefix: the first free `<env>-N` is taken under the state lock, so callers at
   * once never get the same name. With `exactFirst`, `<env>` itself when it is free.
   */
  autoName?: boolean | undefined;
  exactFirst?: boolean | undefined;
  /** The remote host (`cilo host add`) to run it on; absent: this machine. */
  host?: string | undefined;
  /**
   * An environment of this name and project that exists already is returned as it is (`run`
   * uses whatever is there). Without it, only one made by another command while this one
   * waited for it is (parallel `create`s of one name); one that existed before is refused.
   */
  useExisting?: boolean | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  /**
   * `--in-place` / `--copy` (issue #28); absent: `workspace:` of the config, else in place in a
   * linked git worktree, else a copy.
   */
  workspace?: WorkspaceMode | undefined;
}

export interface CreateResult {
  env: EnvironmentState;
  files: number;
  strategy: string;
  /** The environment existed already (made by another command meanwhile): nothing was copied. */
  existing?: boolean;
}

/** What a create is about, known before anything is claimed. */
export interface CreatePlan {
  /** A valid environment name. */
  name: string;
  dir: string;
  project: ProjectInfo;
  workspace: string;
  input: CreateInput;
  /**
   * `dir` is the source of an environment of the project (a fork's): the project's name is
   * not claimed for it again.
   */
  inheritsSource?: boolean | undefined;
  /** Copy, or in place (`workspace` is then `dir` itself), and why. */
  mode: ModeChoice;
}

/** Reads the project, checks it has compose files and chooses the workspace mode (said once); nothing is claimed yet. */
export async function planCreate(ctx: SiteContext, name: string, input: CreateInput): Promise<CreatePlan> {
  const dir = resolveProjectDir(input.from);
  const project = resolveProject(dir, input.project, ctx.warn);
  const mode = await decideWorkspaceMode(ctx, dir, project.config, { flag: input.workspace, include: input.include, empty: input.empty });
  if (!input.empty) await assertComposeFiles(ctx, project);
  const note = modeNote(input.autoName ? `${name}-N` : name, dir, mode);
  if (note) ctx[note.level](note.text);
  return { name, dir, project, workspace: mode.mode === 'in-place' ? dir : workspacePath(ctx.paths, project.name, name), input, mode };
}

/**
 * Records the intent (status `creating`) with a freshly allocated subnet under the lock; a
 * creation interrupted by a crash is taken over with the subnet it had. The caller holds the
 * environment's lock (withEnvironmentLock), so a `creating` entry it finds is a dead one's.
 */
export async function claimEnvironment(ctx: SiteContext, plan: CreatePlan): Promise<EnvironmentState> {
  if (plan.input.autoName) throw new Error('claimEnvironment: an automatic name is claimed with claimAutoNamed');
  return (await claim(ctx, plan)).env;
}

/**
 * Claims the first free `<prefix>-N` and takes its environment lock in the same state
 * transaction (a name another command holds the lock of is not free), so that no `up <name>`
 * typed at that moment takes the new claim for an interrupted one. The caller releases it.
 */
export async function claimAutoNamed(ctx: SiteContext, plan: CreatePlan): Promise<{ env: EnvironmentState; release: Release }> {
  const r = await claim(ctx, plan);
  if (!r.release) throw new Error('claimAutoNamed: no lock was taken');
  return { env: r.env, release: r.release };
}

async function claim(ctx: SiteContext, plan: CreatePlan): Promise<{ env: EnvironmentState; release?: Release | undefined }> {
  const { project } = plan;
  const taken = await externalSubnets(ctx.site);
  const now = isoNow(ctx);
  let release: Release | undefined;
  const pick = async (state: State): Promise<string> => {
    // A name taken by an environment, or by a workspace left behind, is not free.
    const free = (n: string): boolean => !state.environments[n] && !nonEmptyDir(workspacePath(ctx.paths, project.name, n));
    if (!plan.input.autoName) return plan.name;
    const busy = new Set<string>();
    for (;;) {
      const n = pickFreeName(plan.name, (x) => !free(x) || busy.has(x), { exactFirst: plan.input.exactFirst === true });
      // Only tried: under the state lock nobody waits for an environment's lock (env-lock.ts).
      release = await tryLockEnvironment(ctx.paths, n, envLockOptions(ctx, n));
      if (release) return n;
      busy.add(n);
    }
  };
  const inPlace = plan.mode.mode === 'in-place';
  const env = await withStateLock(async (state) => {
    const name = await pick(state);
    // In place, the workspace is the source itself: never a directory of cilo's to check.
    const workspace = inPlace ? plan.dir : workspacePath(ctx.paths, project.name, name);
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
    // A new environment takes the project's name for its source, or is refused when another
    // source holds it: two directories with one name never share anything.
    if (!existing && !plan.inheritsSource) claimProjectName(ctx, state, project.name, plan.dir);
    // Only a copy interrupted by a crash (status `creating`) may be replaced; any other, for
    // example one kept by `destroy --keep-workspace`, is never copied over.
    if (!existing && !inPlace && nonEmptyDir(workspace)) {
      throw new CiloError('WORKSPACE', `A workspace already exists at ${workspace}.`, {
        hint: 'Move it away (or delete it) if you no longer need it, or choose another environment name.',
      });
    }
    const others = Object.values(state.environments)
      .filter((e) => e.name !== name)
      .map((e) => e.subnet);
    // A network we made earlier for this very environment (resumed create) is not a conflict.
    // Subnets are unique across every engine: this machine routes to all of them.
    const { bases, reserved } = subnetBases(state, { host: plan.input.host });
    const subnet = existing?.subnet ?? allocateSubnet(bases, [...others, ...reserved, ...taken]);
    const record: EnvironmentState = {
      name,
      project: project.name,
      source: plan.dir,
      workspace,
      subnet,
      dns_suffix: existing?.dns_suffix ?? environmentSuffix(project, state),
      status: 'creating',
      created_at: existing?.created_at ?? now,
      updated_at: now,
      services: {},
      ingress: null,
      hostnames: [],
      shared: [],
      ...(plan.input.host ? { host: plan.input.host } : {}),
      ...(inPlace ? { workspace_mode: 'in-place' as const } : {}),
    };
    state.environments[name] = record;
    return record;
  }, ctx.paths).catch(async (e: unknown) => {
    await release?.();
    throw e;
  });
  return { env, release };
}

/** How a command waiting for an environment's lock says so, and what it says if it lost it. */
export function envLockOptions(ctx: CoreContext, name: string): EnvironmentLockOptions {
  return {
    onWait: (holder) => ctx.log(`Waiting for another cilo command${holder ? ` (${holder})` : ''} working on environment ${name}`),
    onLost: () => ctx.warn(`this command did not refresh its lock on environment ${name} for 30 s (is the machine overloaded?), so another cilo command may work on it at the same time.`),
  };
}

/**
 * What `up` needs of the project whatever `--include` leaves out: its config and compose and
 * env files (the original copied only matching files, and such a workspace could not start).
 */
function neededToRun(project: ProjectInfo): string[] {
  const compose = project.config.compose_files ?? [...COMPOSE_FILE_NAMES, ...OVERRIDE_FILE_NAMES];
  return ['.cilo/**', ...compose, ...(project.config.env_files ?? [])].map((f) => f.replace(/^(\.\/)+/, ''));
}

function nonEmptyDir(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/** Copies the project into the workspace (or makes an empty one); returns files copied and how. */
export async function populateWorkspace(ctx: CoreContext, plan: CreatePlan): Promise<{ files: number; strategy: string }> {
  const { dir, workspace, project, input } = plan;
  // In place: the source is the workspace; nothing is copied, removed or written there.
  if (plan.mode.mode === 'in-place') return { files: 0, strategy: 'in-place' };
  // Only a copy interrupted by a crash (status `creating`) is here to be replaced.
  await ctx.workspaces.remove(workspace);
  mkdirSync(dirname(workspace), { recursive: true, mode: 0o700 });
  if (input.empty) {
    mkdirSync(workspace, { recursive: true });
    return { files: 0, strategy: 'empty' };
  }
  ctx.log(`Copying ${dir} to ${workspace}`);
  const r = await ctx.workspaces.copy(dir, workspace, {
    include: input.include ?? [],
    keep: neededToRun(project),
    copyDotDirs: project.config.copy_dot_dirs ?? [],
    ignoreDotDirs: project.config.ignore_dot_dirs ?? [],
    excludeAbsolute: [ctx.paths.home],
    trackedFiles: (d) => trackedFiles(ctx, d),
    ...(input.onProgress ? { onProgress: input.onProgress } : {}),
  });
  // A linked worktree's `.git` points into the user's repository: the copy gets one of its own.
  await ownRepository(ctx, dir, workspace);
  // `.cilo/config.yml` env.copy_mode / copy / ignore: applied to the workspace only.
  const removed = await applyEnvCopyPolicy(ctx, workspace, project.config.env);
  writeNotCopied(workspace, withRemoved(r.repos, removed));
  return { files: r.files - removed.length, strategy: r.strategy };
}

/** The files git tracks below `dir` (relative to it), or undefined when it is in no repository or git cannot say. */
async function trackedFiles(ctx: CoreContext, dir: string): Promise<string[] | undefined> {
  const r = await ctx.git.run(dir, ['ls-files', '-z']).catch(() => undefined);
  if (r && r.code === 0) return r.stdout.split('\0').filter((f) => f !== '');
  if (existsSync(join(dir, '.git'))) {
    const why = r ? r.stderr.trim().split('\n').pop() ?? `exit code ${r.code}` : 'git could not be run';
    ctx.warn(`cannot list the files git tracks in ${dir} (${why}); its dot-directories are copied by copy_dot_dirs alone.`);
  }
  return undefined;
}

/** The copy's record of tracked files left out, with the files the env copy policy removed (workspace paths) added to the repository holding each. */
function withRemoved(repos: readonly CopiedRepo[], removed: readonly string[]): CopiedRepo[] {
  const byDepth = [...repos].sort((a, b) => b.dir.length - a.dir.length);
  const out = new Map(repos.map((r) => [r.dir, [...r.notCopied]]));
  for (const f of removed) {
    const repo = byDepth.find((r) => r.dir === '' || f.startsWith(`${r.dir}/`));
    if (repo) out.get(repo.dir)?.push(repo.dir === '' ? f : f.slice(repo.dir.length + 1));
  }
  return [...out].map(([dir, notCopied]) => ({ dir, notCopied: notCopied.sort() }));
}

/** Undoes a claim whose creation failed: workspace, network and the `creating` state entry. */
export async function abandonCreate(ctx: SiteContext, env: EnvironmentState): Promise<void> {
  // An in-place environment's workspace is the user's own tree: never removed.
  if (!isInPlace(env)) await cleanupStep(ctx, `Removing the workspace ${env.workspace}`, () => ctx.workspaces.remove(env.workspace));
  await cleanupStep(ctx, `Removing the network of ${env.name}`, () => removeNetwork(ctx.site.docker, env));
  await withStateLock((state) => {
    if (state.environments[env.name]?.status === 'creating') delete state.environments[env.name];
    releaseProjectName(state, env.project, env.source);
  }, ctx.paths);
}

/** Marks a claimed environment `created`, with the subnet it ended up on. */
export async function markCreated(ctx: CoreContext, env: EnvironmentState): Promise<EnvironmentState> {
  // Nothing of cilo's is written into an in-place environment's tree (the user's own).
  if (!isInPlace(env)) writeWorkspaceMeta(env);
  return withStateLock((state) => {
    const rec = state.environments[env.name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${env.name}" disappeared from the state while it was being created.`, { hint: 'Another cilo process destroyed it; create it again.' });
    rec.status = 'created';
    rec.updated_at = isoNow(ctx);
    return rec;
  }, ctx.paths);
}

/**
 * Creates an environment: claims a name and subnet (status `creating`), makes its network
 * (which claims the subnet on the engine, the arbiter between CILO_HOMEs) while the project is
 * copied, then marks it `created`. A failure removes what was made. Re-running after a crash
 * resumes. One command at a time per name (env-lock.ts): a second `create` of the name waits,
 * and is given the environment the first one made.
 */
export async function createEnvironment(base: CoreContext, input: CreateInput): Promise<CreateResult> {
  const host = input.host === undefined ? undefined : knownHost(base, input.host);
  const ctx = await atSite(base, { host });
  const name = toValidName(input.env, 'environment');
  if (input.autoName) {
    const planned = await planCreate(ctx, name, { ...input, host });
    const { env, release } = await claimAutoNamed(ctx, planned);
    try {
      return await makeClaimed(ctx, { ...planned, name: env.name, workspace: env.workspace }, env);
    } finally {
      await release();
    }
  }
  const before = readState(ctx.paths).environments[name];
  const existedBefore = before !== undefined && before.status !== 'creating';
  return withEnvironmentLock(
    ctx.paths,
    name,
    async () => {
      // An interrupted creation is finished in the mode it was begun in.
      const resumed = readState(ctx.paths).environments[name];
      const workspace = input.workspace ?? (resumed?.status === 'creating' ? (resumed.workspace_mode ?? 'copy') : undefined);
      const plan = await planCreate(ctx, name, { ...input, host, workspace });
      const made = madeMeanwhile(ctx, plan, input.useExisting === true || !existedBefore);
      if (made) {
        checkRecordedMode(made, input.workspace);
        return { env: made, files: 0, strategy: 'none', existing: true };
      }
      return makeClaimed(ctx, plan, await claimEnvironment(ctx, plan));
    },
    envLockOptions(ctx, name),
  );
}

/** The environment of this name and project, complete, if it may be taken as this create's result. */
function madeMeanwhile(ctx: CoreContext, plan: CreatePlan, acceptable: boolean): EnvironmentState | undefined {
  const now = readState(ctx.paths).environments[plan.name];
  if (!acceptable || !now || now.status === 'creating' || now.status === 'destroying') return undefined;
  // Anything else (another project's, from another source) is for claimEnvironment to refuse.
  return now.project === plan.project.name && now.source === plan.dir && (now.host ?? undefined) === (plan.input.host ?? undefined) ? now : undefined;
}

/** The copies and the network of a claimed environment, then `created`; a failure undoes the claim. */
async function makeClaimed(ctx: SiteContext, plan: CreatePlan, claimed: EnvironmentState): Promise<CreateResult> {
  const [settled, copied] = await Promise.allSettled([ensureNetworkOrMove(ctx, claimed), populateWorkspace(ctx, plan)]);
  const failed = [settled, copied].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed || settled.status === 'rejected' || copied.status === 'rejected') {
    await abandonCreate(ctx, claimed);
    throw failed?.reason;
  }
  const env = await markCreated(ctx, settled.value);
  return { env, ...copied.value };
}
