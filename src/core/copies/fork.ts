/**
 * `cilo fork <src> <new>` (issue #17): a new environment whose workspace is a copy of `<src>`'s
 * (uncommitted work included), whose named volumes are copies of `<src>`'s, made while `<src>`'s
 * containers are frozen, and whose private datasets are clones of `<src>`'s. Or, with
 * `--from-snapshot`, the same from a snapshot's copies. The new environment is recorded
 * (`creating`, with `fork`) before anything is made: a failure removes all of it, and a killed
 * fork is thawed and cleaned by `doctor --fix`.
 */
import { atSite, refuseOn } from '../sites/reach.js';
import { datasetName } from '../../domain/datasets.js';
import type { SiteContext } from '../sites/site.js';
import { composeProjectName, envLabels, COMPOSE_PROJECT, toValidName } from '../../domain/names.js';
import type { EnvironmentState } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { isInPlace } from '../../domain/workspace-mode.js';
import { claimEnvironment, envLockOptions, markCreated, planCreate } from '../environments/create.js';
import { withEnvironmentLock } from '../../state/env-lock.js';
import { cloneDatasets, copyDataset, type ClonedDataset } from '../datasets/datasets.js';
import { destroyEnvironment } from '../environments/destroy.js';
import { findEnv } from '../environments/lookup.js';
import { ensureNetworkOrMove } from '../network/network.js';
import type { DataTree } from '../ports.js';
import { readReadySnapshot, snapshotVolumeDir, snapshotWorkspaceDir, type Snapshot } from './snapshots.js';
import { upEnvironment, type UpResult } from '../environments/up.js';
import { COMPOSE_VOLUME, copyTrees, environmentVolumes, methodOf, thawAfterKill, whileFrozen, type VolumeCopy } from '../project/volume-sets.js';

export interface ForkInput {
  /** The environment to fork; with `fromSnapshot`, unused. */
  from?: string | undefined;
  fromSnapshot?: string | undefined;
  env: string;
  project?: string | undefined;
  up?: boolean | undefined;
}

export interface ForkResult {
  env: EnvironmentState;
  from: string;
  snapshot: string | null;
  workspace: { files: number; strategy: string };
  volumes: VolumeCopy[];
  /** How the volumes were copied: reflink, copy, container (or none, mixed). */
  method: string;
  datasets: ClonedDataset[];
  /** How long the source's containers were paused (0 from a snapshot). */
  frozen_ms: number;
  up: UpResult | null;
}

/**
 * What a fork copies from: a live environment, or a snapshot (of an environment that may be
 * gone: `env` is then its record at the snapshot, with the snapshot's copy of its workspace).
 */
interface ForkSource {
  env: EnvironmentState;
  snapshot: Snapshot | undefined;
}

function sourceOf(ctx: CoreContext, input: ForkInput): ForkSource {
  const state = readState(ctx.paths);
  if (input.fromSnapshot) {
    const snapshot = readReadySnapshot(ctx.paths, input.fromSnapshot);
    // The workspace as it was at the snapshot, and the environment's settings then: whether or
    // not the environment still exists.
    // A snapshot of an in-place environment holds no files: the fork copies its tree as it is now.
    if (snapshot.environment) return { env: isInPlace(snapshot.environment) ? snapshot.environment : { ...snapshot.environment, workspace: snapshotWorkspaceDir(ctx.paths, snapshot.name) }, snapshot };
    const env = state.environments[snapshot.env];
    if (!env || env.project !== snapshot.project) {
      throw new CiloError('ENV_NOT_FOUND', `Snapshot ${snapshot.name} is of environment ${snapshot.env}, which no longer exists, so there is no workspace to copy.`, {
        hint: `Create ${snapshot.env} again (\`cilo create ${snapshot.env}\`), then fork from the snapshot.`,
      });
    }
    return { env, snapshot };
  }
  if (!input.from) throw new CiloError('USAGE', 'Fork needs the environment to copy, or --from-snapshot.', { exitCode: 2, hint: 'Run `cilo fork <src> <new>`.' });
  const env = findEnv(state, input.from, input.project);
  if (env.status === 'creating' || env.status === 'destroying') {
    throw new CiloError('ENV_EXISTS', `Environment ${env.name} is being ${env.status === 'creating' ? 'created' : 'destroyed'}; it cannot be forked now.`, { hint: 'Wait for that command, or run `cilo doctor --fix`.' });
  }
  return { env, snapshot: undefined };
}

/**
 * Records the new environment (`creating`, with what it is forked from) and the source's
 * settings; on the source's engine (a fork of an environment on a host is on that host).
 */
async function claimFork(ctx: SiteContext, name: string, src: ForkSource): Promise<EnvironmentState> {
  // A fork is always a copy, also of an in-place environment (of its tree as it is now).
  const planned = await planCreate(ctx, name, { env: name, from: src.env.workspace, project: src.env.project, host: src.env.host, workspace: 'copy' });
  const claimed = await claimEnvironment(ctx, { ...planned, dir: src.env.source, inheritsSource: true });
  return withStateLock((state) => {
    const rec = state.environments[claimed.name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${claimed.name}" disappeared from the state while it was being forked.`, { hint: 'Another cilo process destroyed it; fork again.' });
    rec.fork = { from: src.env.name, ...(src.snapshot ? { snapshot: src.snapshot.name } : {}) };
    // The next `up` starts it as the source was started.
    if (src.env.share_flags) rec.share_flags = src.env.share_flags;
    if (src.env.profiles) rec.profiles = src.env.profiles;
    if (src.env.custom_hostnames) rec.custom_hostnames = src.env.custom_hostnames;
    return rec;
  }, ctx.paths);
}

/** Makes `to`'s volume `key`, labelled as compose would have made it, and by cilo. */
async function makeVolume(ctx: SiteContext, to: EnvironmentState, key: string, labels: Record<string, string>): Promise<string> {
  const cp = composeProjectName(to.project, to.name);
  const name = `${cp}_${key}`;
  await ctx.site.docker.createVolume(name, { ...labels, [COMPOSE_PROJECT]: cp, [COMPOSE_VOLUME]: key, ...envLabels(to.project, to.name, homeId(ctx.paths)) });
  return name;
}

async function copyVolumes(ctx: SiteContext, src: ForkSource, to: EnvironmentState): Promise<{ copies: VolumeCopy[]; frozenMs: number }> {
  if (src.snapshot) {
    const snap = src.snapshot;
    const pairs: { label: string; from: DataTree; to: DataTree; image: string }[] = [];
    for (const v of snap.volumes) pairs.push({ label: v.key, from: { dir: snapshotVolumeDir(ctx.paths, snap.name, v.key) }, to: { volume: await makeVolume(ctx, to, v.key, v.labels) }, image: v.image });
    return { copies: await copyTrees(ctx, pairs), frozenMs: 0 };
  }
  const volumes = await environmentVolumes(ctx, src.env);
  if (volumes.length === 0) return { copies: [], frozenMs: 0 };
  const pairs: { label: string; from: DataTree; to: DataTree; image: string }[] = [];
  for (const v of volumes) pairs.push({ label: v.key, from: { volume: v.name }, to: { volume: await makeVolume(ctx, to, v.key, v.labels) }, image: v.image });
  ctx.log(`Freezing ${src.env.name} while ${volumes.length} volume(s) are copied`);
  // Under the source's lock: no wake, pause or down of it thaws its containers mid-copy.
  const { result, frozenMs } = await withEnvironmentLock(ctx.paths, src.env.name, () => whileFrozen(ctx, src.env, () => copyTrees(ctx, pairs)), envLockOptions(ctx, src.env.name));
  return { copies: result, frozenMs };
}

async function copyDatasets(ctx: SiteContext, src: ForkSource, to: EnvironmentState): Promise<ClonedDataset[]> {
  if (!src.snapshot) return cloneDatasets(ctx, src.env, to);
  const out: ClonedDataset[] = [];
  for (const d of src.snapshot.datasets) {
    const wanted = d.kind === 'database' ? datasetName(d.engine, to.project, to.name) : '';
    const record = (status: 'creating' | 'ready') => (chosen: string) =>
      withStateLock((s) => {
        const e = s.environments[to.name];
        if (e) e.datasets = { ...(e.datasets ?? {}), [d.service]: { engine: d.engine, kind: d.kind, name: chosen, template: null, status, created_at: isoNow(ctx) } };
      }, ctx.paths);
    const { name, method, ms } = await copyDataset(ctx, { project: src.snapshot.project, service: d.service, dataset: d }, { env: to.name, wanted }, record('creating'));
    await record('ready')(name);
    out.push({ service: d.service, name, from: d.name, method, ms });
  }
  return out;
}

/** The copies, into the claimed environment: network and workspace → volumes (source frozen) → datasets → created. */
async function makeFork(ctx: SiteContext, src: ForkSource, claimed: EnvironmentState): Promise<Omit<ForkResult, 'up'>> {
  // Three independent copies at once (the volumes, the largest, set the pace); all settle
  // before a failure is reported, so the undo never races a copy still writing.
  const [netR, workspaceR, volumesR] = await Promise.allSettled([
    ensureNetworkOrMove(ctx, claimed),
    ctx.workspaces.copy(src.env.workspace, claimed.workspace, { allDotDirs: true, excludeAbsolute: [ctx.paths.home] }),
    copyVolumes(ctx, src, claimed),
  ]);
  const net = valueOf(netR);
  const workspace = valueOf(workspaceR);
  const { copies, frozenMs } = valueOf(volumesR);
  const datasets = await copyDatasets(ctx, src, net);
  // The source is thawed by now: nothing left for doctor to finish but an ordinary create.
  await withStateLock((s) => {
    const e = s.environments[claimed.name];
    if (e) delete e.fork;
  }, ctx.paths);
  const env = await markCreated(ctx, { ...net, workspace: claimed.workspace });
  return { env, from: src.env.name, snapshot: src.snapshot?.name ?? null, workspace: { files: workspace.files, strategy: workspace.strategy }, volumes: copies, method: methodOf(copies), datasets, frozen_ms: frozenMs };
}

function valueOf<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** Removes a fork that failed: its datasets, volumes, network, workspace and state entry. */
async function undoFork(ctx: CoreContext, src: ForkSource, claimed: EnvironmentState): Promise<void> {
  ctx.warn(`Fork of ${src.env.name} failed; removing ${claimed.name}.`);
  await destroyEnvironment(ctx, claimed).catch((err: unknown) => ctx.warn(`Removing ${claimed.name} failed too: ${String(err)} (run \`cilo doctor --fix\`).`));
}

/**
 * Forks an environment (or a snapshot) into a new one: find the source → claim the name →
 * make the copies (undone on failure) → start it if asked.
 */
export async function forkEnvironment(base: CoreContext, input: ForkInput): Promise<ForkResult> {
  const name = toValidName(input.env, 'environment');
  const src = sourceOf(base, input);
  // A snapshot's copies are on this machine: one of an environment on a host (made before
  // snapshots refused those) has no volumes to give.
  if (src.snapshot) refuseOn(src.env, { kind: 'snapshot', env: src.env, action: 'fork from a snapshot of it' });
  // The source's engine: its volumes and datasets are copied there, and the fork made there.
  const ctx = await atSite(base, src.env);
  await ctx.site.docker.ping();
  // The new name's lock (env-lock.ts) while it is made; the up below takes it again.
  const made = await withEnvironmentLock(
    ctx.paths,
    name,
    async () => {
      const claimed = await claimFork(ctx, name, src);
      return makeFork(ctx, src, claimed).catch(async (e: unknown) => {
        await undoFork(base, src, claimed);
        throw e;
      });
    },
    envLockOptions(ctx, name),
  );
  const up = input.up ? await upEnvironment(base, { env: made.env.name }) : null;
  return { ...made, env: up?.env ?? made.env, up };
}

/** `doctor --fix` of a fork killed half way: the source's containers it froze are thawed (on its engine). */
export async function thawForkSource(ctx: CoreContext, env: EnvironmentState): Promise<void> {
  // A fork from a snapshot froze nothing.
  if (env.fork && !env.fork.snapshot) await thawAfterKill(await atSite(ctx, env), env.fork.from);
}
