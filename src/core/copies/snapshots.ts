/**
 * Snapshots of an environment's data (issue #17): copies of its named volumes and of its
 * workspace under `$CILO_HOME/snapshots/<name>/` (private, 0700), the volumes made while its
 * containers are frozen, and
 * copies of its private datasets inside their shared engines (marked as the snapshot's, so no
 * environment's `doctor` or `destroy` drops them). `restore` puts an environment back to that
 * moment; `cilo fork --from-snapshot` starts a new one from it. Destroying the environment never
 * deletes its snapshots; `snapshot rm` does.
 */
import { cleanupStep } from '../cleanup.js';
import { atLocalSite, refuseOn } from '../sites/reach.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isInPlace } from '../../domain/workspace-mode.js';
import type { SiteContext } from '../sites/site.js';
import { join } from 'node:path';
import * as v from 'valibot';
import { ENGINE_KINDS, ISOLATION_KINDS } from '../../domain/dataset-kinds.js';
import type { ComposeModel } from '../../domain/compose-model.js';
import type { ContainerSummary } from '../../domain/engine.js';
import { composeProjectName, COMPOSE_PROJECT, COMPOSE_SERVICE, NAME_RULE, normalizeName } from '../../domain/names.js';
import { startOrder } from '../../domain/shared.js';
import type { DatasetState, EnvironmentState } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { generatedComposePath, type CiloPaths } from '../../state/paths.js';
import { EnvironmentStateSchema } from '../../state/schema.js';
import { readState, withNamedLock, withStateLock } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { isoNow, type CoreContext } from '../context.js';
import type { CopyMethod } from '../../domain/dataset-engine.js';
import { copyDataset, dropDatasetOf, replaceDataset } from '../datasets/datasets.js';
import { generatedTarget } from '../project/env-compose.js';
import { findEnv } from '../environments/lookup.js';
import { waitSpecServices } from '../environments/up.js';
import { copyTrees, environmentVolumes, methodOf, thawAfterKill, whileFrozen, type EnvVolume, type VolumeCopy } from '../project/volume-sets.js';
import { withEnvironmentLock } from '../../state/env-lock.js';
import { envLockOptions } from '../environments/create.js';
import { waitForServices } from '../environments/wait.js';

export const SNAPSHOT_FORMAT = 'cilo.snapshot/1';

/** A volume copied into the snapshot: its compose key, labels, and an image for a helper container. */
export interface SnapshotVolume extends Pick<EnvVolume, 'key' | 'labels' | 'image'> {
  /** The volume it was copied from. */
  volume: string;
}

export interface SnapshotDataset extends Pick<DatasetState, 'engine' | 'kind' | 'name'> {
  service: string;
  /** The environment's dataset it was copied from. */
  from: string;
}

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  name: string;
  env: string;
  project: string;
  /** `creating` until every copy is made; `doctor --fix` removes one left so. */
  status: 'creating' | 'ready';
  created_at: string;
  volumes: SnapshotVolume[];
  datasets: SnapshotDataset[];
  method: string;
  frozen_ms: number;
  /** The process making it, while `creating`: doctor leaves one alone whose maker still runs. */
  pid?: number | undefined;
  /**
   * The environment's record and a copy of its workspace (in `workspace/`), so a fork from the
   * snapshot needs nothing of the environment, which may be gone. Absent in older snapshots.
   */
  environment?: EnvironmentState | undefined;
}

export function snapshotsDir(paths: CiloPaths): string {
  return join(paths.home, 'snapshots');
}

function snapshotDir(paths: CiloPaths, name: string): string {
  return join(snapshotsDir(paths), name);
}

/** The copy of the environment's workspace a snapshot holds. */
export function snapshotWorkspaceDir(paths: CiloPaths, name: string): string {
  return join(snapshotDir(paths, name), 'workspace');
}

export function snapshotVolumeDir(paths: CiloPaths, name: string, key: string): string {
  return join(snapshotDir(paths, name), 'volumes', key);
}

/** A snapshot name exactly as typed (as environment names are: never silently normalized). */
function validName(raw: string): string {
  if (!NAME_RULE.test(raw)) {
    const meant = normalizeName(raw);
    const guess = NAME_RULE.test(meant) ? `; did you mean "${meant}"?` : '.';
    throw new CiloError('INVALID_NAME', `"${raw}" is not a valid snapshot name: lowercase letters, digits and "-", 1 to 63 characters, starting and ending with a letter or digit${guess}`, { exitCode: 2, hint: 'Choose another --name.' });
  }
  return raw;
}

const SnapshotSchema = v.object({
  format: v.literal(SNAPSHOT_FORMAT),
  name: v.string(),
  env: v.string(),
  project: v.string(),
  status: v.picklist(['creating', 'ready']),
  created_at: v.string(),
  volumes: v.array(v.object({ key: v.string(), volume: v.string(), labels: v.record(v.string(), v.string()), image: v.string() })),
  datasets: v.array(v.object({ service: v.string(), engine: v.picklist(ENGINE_KINDS), kind: v.picklist(ISOLATION_KINDS), name: v.string(), from: v.string() })),
  method: v.string(),
  frozen_ms: v.number(),
  pid: v.optional(v.number()),
  environment: v.optional(EnvironmentStateSchema),
});

/** True only when A and B are the same type: the schema may not drift from `Snapshot`. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesSnapshot: Same<v.InferOutput<typeof SnapshotSchema>, Snapshot> = true;
void schemaMatchesSnapshot;

/** A snapshot's file that is there but not one cilo can use: which file, what is wrong, what to do. */
function corruptSnapshot(paths: CiloPaths, name: string, problem: string): CiloError {
  const file = join(snapshotDir(paths, name), 'snapshot.json');
  return new CiloError('STATE_CORRUPT', `The file ${file} of snapshot "${name}" is damaged (${problem}), so cilo cannot use the snapshot.`, {
    hint: `Put back a good copy of that file, or delete ${snapshotDir(paths, name)} by hand (dataset copies it made, if any, stay in their shared service until dropped there).`,
  });
}

/**
 * The snapshot's file, checked: "no snapshot named" only when there is no such file; a file
 * that is not a snapshot's is named (STATE_CORRUPT); another failure to read it (permissions,
 * I/O) is passed on as it is, with its path.
 */
export function readSnapshot(paths: CiloPaths, raw: string): Snapshot {
  const name = validName(raw);
  const file = join(snapshotDir(paths, name), 'snapshot.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    // ENOTDIR: a file where its directory would be, not a snapshot.
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) throw new CiloError('ENV_NOT_FOUND', `There is no snapshot named "${name}".`, { hint: 'Run `cilo snapshot list` to see the snapshots.' });
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw corruptSnapshot(paths, name, text.trim() === '' ? 'it is empty' : `invalid JSON: ${(e as Error).message}`);
  }
  const r = v.safeParse(SnapshotSchema, data);
  if (!r.success) {
    const issue = r.issues[0];
    const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
    throw corruptSnapshot(paths, name, `${where ? `${where}: ` : ''}${issue?.message ?? 'not a snapshot'}`);
  }
  if (r.output.name !== name) throw corruptSnapshot(paths, name, `it names snapshot "${r.output.name}"`);
  return r.output;
}

/** A snapshot to restore or fork from: one whose copies were all made. */
export function readReadySnapshot(paths: CiloPaths, raw: string): Snapshot {
  const s = readSnapshot(paths, raw);
  if (s.status !== 'ready') throw new CiloError('ENV_NOT_FOUND', `Snapshot "${s.name}" was never finished.`, { hint: 'Remove it (`cilo snapshot rm`) and take another.' });
  return s;
}

function writeSnapshot(paths: CiloPaths, s: Snapshot): void {
  writeFileAtomic(join(snapshotDir(paths, s.name), 'snapshot.json'), `${JSON.stringify(s, null, 2)}\n`);
}

/**
 * The snapshots under CILO_HOME, oldest first. An entry that is not a snapshot (no snapshot
 * file, or a name no snapshot can have) is passed over; one whose file is damaged is told to
 * `warn`, named, and left out, so the others are still listed.
 */
export function listSnapshots(paths: CiloPaths, warn: (line: string) => void): Snapshot[] {
  if (!existsSync(snapshotsDir(paths))) return [];
  const out: Snapshot[] = [];
  for (const name of readdirSync(snapshotsDir(paths)).sort()) {
    try {
      out.push(readSnapshot(paths, name));
    } catch (e) {
      if (e instanceof CiloError && (e.code === 'ENV_NOT_FOUND' || e.code === 'INVALID_NAME')) continue; // not one of ours
      if (e instanceof CiloError) warn(`${e.message} ${e.hint ?? ''}`.trim());
      else throw e;
    }
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/** The owner a snapshot's dataset copies are marked with: not an environment's name (a dot), so no environment's doctor takes them for orphans. */
function datasetOwner(snapshot: string): string {
  return `snapshot.${snapshot}`;
}

function defaultName(env: string, now: Date): string {
  return `${env}-${now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

export interface SnapshotCreateInput {
  env: string;
  name?: string | undefined;
  project?: string | undefined;
}

/** `snapshot create`: manifest (`creating`) → volumes (environment frozen) → datasets → `ready`. A failure removes it. */
export async function createSnapshot(base: CoreContext, input: SnapshotCreateInput): Promise<Snapshot> {
  const env = findEnv(readState(base.paths), input.env, input.project);
  refuseOn(env, { kind: 'snapshot', env, action: 'take a snapshot of it' });
  const ctx = atLocalSite(base);
  const now = new Date(ctx.clock.now());
  const name = validName(input.name ?? defaultName(env.name, now));
  const dir = snapshotDir(ctx.paths, name);
  mkdirSync(snapshotsDir(ctx.paths), { recursive: true, mode: 0o700 });
  const snapshot: Snapshot = { format: SNAPSHOT_FORMAT, name, env: env.name, project: env.project, status: 'creating', created_at: now.toISOString(), volumes: [], datasets: [], method: 'none', frozen_ms: 0, pid: process.pid };
  await withNamedLock(ctx.paths, 'snapshots', () => {
    if (existsSync(dir)) throw new CiloError('ENV_EXISTS', `Snapshot "${name}" already exists.`, { hint: 'Choose another --name, or remove it first (`cilo snapshot rm`).' });
    mkdirSync(dir, { mode: 0o700 });
    writeSnapshot(ctx.paths, snapshot);
    return Promise.resolve();
  });
  let workspace: Promise<unknown> = Promise.resolve();
  try {
    const volumes = await environmentVolumes(ctx, env);
    snapshot.volumes = volumes.map((v) => ({ key: v.key, volume: v.name, labels: v.labels, image: v.image }));
    writeSnapshot(ctx.paths, snapshot);
    const pairs = volumes.map((v) => {
      const to = snapshotVolumeDir(ctx.paths, name, v.key);
      mkdirSync(to, { recursive: true, mode: 0o700 });
      return { label: v.key, from: { volume: v.name }, to: { dir: to }, image: v.image };
    });
    let copies: VolumeCopy[] = [];
    // The workspace (files on this machine, uncommitted work included) is copied beside the
    // volumes, not under the freeze.
    // An in-place environment's files are the user's tree, under their own version control:
    // its snapshot holds its volumes and datasets only.
    if (!isInPlace(env)) workspace = ctx.workspaces.copy(env.workspace, snapshotWorkspaceDir(ctx.paths, name), { allDotDirs: true, excludeAbsolute: [ctx.paths.home] });
    workspace.catch(() => undefined); // awaited below; this only avoids an unhandled rejection
    if (pairs.length > 0) {
      // Under its lock: no wake, pause or down of it thaws its containers mid-copy.
      const frozen = await withEnvironmentLock(ctx.paths, env.name, () => whileFrozen(ctx, env, () => copyTrees(ctx, pairs)), envLockOptions(ctx, env.name));
      copies = frozen.result;
      snapshot.frozen_ms = frozen.frozenMs;
    }
    await workspace;
    snapshot.environment = env;
    snapshot.method = methodOf(copies);
    for (const [service, d] of Object.entries(env.datasets ?? {})) {
      if (d.status !== 'ready') continue;
      const wanted = d.kind === 'database' ? `${d.name}_s_${name}`.replace(/-/g, '_').slice(0, 63) : '';
      const entry: SnapshotDataset = { service, engine: d.engine, kind: d.kind, name: '', from: d.name };
      const copied = await copyDataset(ctx, { project: env.project, service, dataset: d }, { env: datasetOwner(name), wanted }, async (chosen) => {
        entry.name = chosen;
        snapshot.datasets.push(entry);
        writeSnapshot(ctx.paths, snapshot);
        return Promise.resolve();
      });
      entry.name = copied.name;
    }
    snapshot.status = 'ready';
    delete snapshot.pid;
    writeSnapshot(ctx.paths, snapshot);
    return snapshot;
  } catch (e) {
    // The workspace copy may still be writing into the directory about to be removed.
    await Promise.allSettled([workspace]);
    await cleanupStep(ctx, `Removing the partial snapshot ${snapshot.name}`, () => removeSnapshotData(ctx, snapshot));
    throw e;
  }
}

async function removeSnapshotData(ctx: SiteContext, s: Snapshot): Promise<void> {
  for (const d of s.datasets) {
    if (d.name && !(await dropDatasetOf(ctx, { project: s.project, service: d.service, dataset: d }))) {
      ctx.warn(`The copy ${d.name} in shared ${d.service} stays: its container is not running.`);
    }
  }
  await ctx.workspaces.remove(snapshotDir(ctx.paths, s.name));
}

/** `snapshot rm`: its volume copies and its dataset copies. */
export async function removeSnapshot(ctx: CoreContext, name: string): Promise<Snapshot> {
  const s = readSnapshot(ctx.paths, name);
  await removeSnapshotData(atLocalSite(ctx), s);
  return s;
}

export interface RestoreInput {
  env: string;
  name: string;
  project?: string | undefined;
  /** Restore a snapshot taken from another environment (its data replaces this one's). */
  fromOther?: boolean | undefined;
  /** How long to wait for each service to be ready again (default 180). */
  timeoutSeconds?: number | undefined;
}

export interface RestoreResult {
  snapshot: string;
  env: string;
  /** The environment the snapshot was taken from. */
  from: string;
  volumes: VolumeCopy[];
  method: string;
  datasets: { service: string; name: string; from: string; method: CopyMethod }[];
  /** The services started again, in the order they were started (each ready before the next). */
  started: string[];
}

/**
 * The environment and snapshot a restore would use, checked (nothing touched): `other` when
 * the snapshot was taken from another environment (the CLI asks on a terminal).
 */
export function restoreTarget(ctx: CoreContext, input: Pick<RestoreInput, 'env' | 'name' | 'project'>): { env: EnvironmentState; snapshot: Snapshot; other: boolean } {
  const env: EnvironmentState = findEnv(readState(ctx.paths), input.env, input.project);
  refuseOn(env, { kind: 'snapshot', env, action: 'restore a snapshot into it' });
  const s = readReadySnapshot(ctx.paths, input.name);
  if (s.project !== env.project) throw new CiloError('PROJECT_MISMATCH', `Snapshot "${s.name}" is of project ${s.project}, not ${env.project}.`, { hint: 'Restore it into an environment of its project.' });
  return { env, snapshot: s, other: s.env !== env.name };
}

/**
 * `snapshot restore <env> <name>`: the environment's containers are stopped, its volumes
 * emptied and filled from the snapshot, its datasets replaced by copies of the snapshot's (each
 * made beside the dataset first), and the containers that ran are started again in their
 * `depends_on` order, each service ready (as `up` waits) before the next starts, and paused
 * again if they were. A snapshot of another environment is refused unless `fromOther`.
 */
export async function restoreSnapshot(base: CoreContext, input: RestoreInput): Promise<RestoreResult> {
  const { env } = restoreTarget(base, input);
  // One command at a time per environment: nothing starts, stops, pauses or wakes it while its data is replaced.
  return withEnvironmentLock(base.paths, env.name, () => restoreLocked(base, input), envLockOptions(base, env.name));
}

async function restoreLocked(base: CoreContext, input: RestoreInput): Promise<RestoreResult> {
  const { env, snapshot: s, other } = restoreTarget(base, input);
  const ctx = atLocalSite(base);
  if (other && !input.fromOther) {
    throw new CiloError('NOT_CONFIRMED', `Snapshot "${s.name}" was taken from environment ${s.env}, not ${env.name}, so nothing was restored: it would replace ${env.name}'s volumes and datasets with ${s.env}'s.`, {
      hint: `Pass --from-other to restore it into ${env.name} anyway (on a terminal, answer y when asked).`,
    });
  }
  const cp = composeProjectName(env.project, env.name);
  const running = await ctx.site.docker.listContainers({ label: [`${COMPOSE_PROJECT}=${cp}`], status: ['running', 'paused'] });
  const model = await generatedModel(ctx, env);
  const order = startOrder(model, [...new Set(running.map((c) => c.Labels[COMPOSE_SERVICE] ?? ''))].sort());
  await Promise.all(running.map((c) => ctx.site.docker.unpauseContainer(c.Id)));
  // Dependents first, as compose stops them.
  for (const service of [...order].reverse()) await Promise.all(running.filter((c) => c.Labels[COMPOSE_SERVICE] === service).map((c) => ctx.site.docker.stopContainer(c.Id, 10)));
  let restored: Omit<RestoreResult, 'started'>;
  try {
    restored = await restoreData(ctx, env, s);
  } catch (e) {
    await startInOrder(ctx, env, { running, order, model, timeoutMs: (input.timeoutSeconds ?? 180) * 1000 }).catch((err: unknown) => ctx.warn(`Starting ${env.name} again failed too: ${err instanceof Error ? err.message : String(err)}`));
    throw e;
  }
  const started = await startInOrder(ctx, env, { running, order, model, timeoutMs: (input.timeoutSeconds ?? 180) * 1000 }).catch(async (e: unknown) => {
    await withStateLock((state) => {
      const rec = state.environments[env.name];
      if (rec) Object.assign(rec, { status: 'error', last_error: e instanceof Error ? e.message : String(e), updated_at: isoNow(ctx) });
    }, ctx.paths);
    throw e instanceof CiloError ? e.withDetail(`The data of ${env.name} was restored from snapshot ${s.name}; the services after this one were not started.`) : e;
  });
  return { ...restored, started };
}

/** The model the environment's containers were made from (its depends_on and restart policies); empty if there is none. */
async function generatedModel(ctx: SiteContext, env: EnvironmentState): Promise<ComposeModel> {
  if (!existsSync(generatedComposePath(ctx.paths, env.project, env.name))) return { services: {} };
  return ctx.site.compose.resolveModel(generatedTarget(ctx.paths, env));
}

async function restoreData(ctx: SiteContext, env: EnvironmentState, s: Snapshot): Promise<Omit<RestoreResult, 'started'>> {
  const present = new Map((await environmentVolumes(ctx, env)).map((v) => [v.key, v]));
  const pairs = [];
  for (const v of s.volumes) {
    const target = present.get(v.key);
    if (!target) {
      ctx.warn(`Volume ${v.key} of the snapshot is not in ${env.name}; skipped (run \`cilo up ${env.name}\` first to make it).`);
      continue;
    }
    await ctx.site.volumes.empty({ volume: target.name }, { image: target.image });
    pairs.push({ label: v.key, from: { dir: snapshotVolumeDir(ctx.paths, s.name, v.key) }, to: { volume: target.name }, image: target.image });
  }
  const copies = await copyTrees(ctx, pairs);
  const datasets = [];
  for (const d of s.datasets) {
    const mine = env.datasets?.[d.service];
    if (!mine) {
      ctx.warn(`${env.name} has no dataset of ${d.service}; the snapshot's is not restored (run \`cilo up ${env.name}\` first).`);
      continue;
    }
    const method = await replaceDataset(ctx, { project: s.project, service: d.service, dataset: d }, { env: env.name, name: mine.name });
    datasets.push({ service: d.service, name: mine.name, from: d.name, method });
  }
  return { snapshot: s.name, env: env.name, from: s.env, volumes: copies, method: methodOf(copies), datasets };
}

/**
 * Starts the containers that ran, service by service in `depends_on` order, each waited for
 * as `up` waits (running, healthy where it has a healthcheck, not restarting) before the next;
 * those that were paused are paused again once all are ready. Returns the services started.
 */
async function startInOrder(ctx: SiteContext, env: EnvironmentState, how: { running: ContainerSummary[]; order: string[]; model: ComposeModel; timeoutMs: number }): Promise<string[]> {
  const oneShot = waitSpecServices(how.model);
  const started: string[] = [];
  for (const service of how.order) {
    const mine = how.running.filter((c) => c.Labels[COMPOSE_SERVICE] === service);
    await Promise.all(mine.map((c) => ctx.site.docker.startContainer(c.Id)));
    ctx.log(`Waiting for ${service} of ${env.name}`);
    await waitForServices(ctx.site.docker, { composeProject: composeProjectName(env.project, env.name), services: { [service]: oneShot[service] ?? { oneShotOk: false } }, timeoutMs: how.timeoutMs, envName: env.name });
    started.push(service);
  }
  // An environment paused by `down --pause` stays paused, as its state says.
  for (const c of how.running.filter((x) => x.State === 'paused')) await ctx.site.docker.pauseContainer(c.Id);
  return started;
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface SnapshotIssue {
  kind: 'snapshot.unfinished';
  subject: string;
  message: string;
  fix: string;
  repair: () => Promise<void>;
}

/** `doctor`: snapshots whose making was killed (their environment perhaps left frozen). */
export function checkSnapshots(base: CoreContext): SnapshotIssue[] {
  const ctx = atLocalSite(base);
  return listSnapshots(ctx.paths, ctx.warn)
    .filter((s) => s.status === 'creating' && !alive(s.pid))
    .map((s) => ({
      kind: 'snapshot.unfinished',
      subject: s.name,
      message: `Snapshot ${s.name} of ${s.env} was interrupted while it was being made.`,
      fix: `thaw ${s.env} and remove the partial snapshot`,
      repair: async () => {
        await thawAfterKill(ctx, s.env);
        await removeSnapshotData(ctx, s);
      },
    }));
}
