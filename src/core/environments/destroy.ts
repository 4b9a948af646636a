import { ownHostPorts } from '../../domain/host-ports.js';
import { askSite, atSite } from '../sites/reach.js';
import { rmdirSync, rmSync } from 'node:fs';
import type { SiteContext } from '../sites/site.js';
import { dirname } from 'node:path';
import { composeProjectName, LABELS, networkName } from '../../domain/names.js';
import { CiloError, DockerApiError } from '../../errors.js';
import { generatedComposePath } from '../../state/paths.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { dropDatasets } from '../datasets/datasets.js';
import { sameSite } from '../../domain/sites.js';
import { findEnv } from './lookup.js';
import { removeNetwork } from '../network/network.js';
import { releaseShared } from '../shared/shared.js';
import { syncRouterOrWarn } from '../router/router.js';
import { envLockOptions } from './create.js';
import { withEnvironmentLock } from '../../state/env-lock.js';
import { isInPlace } from '../../domain/workspace-mode.js';

export interface DestroyInput {
  env?: string | undefined;
  all?: boolean | undefined;
  project?: string | undefined;
  keepWorkspace?: boolean | undefined;
}

/** The environments a destroy call targets (one by name, or all of a project, or all). */
export function destroyTargets(ctx: CoreContext, input: DestroyInput): EnvironmentState[] {
  const state = readState(ctx.paths);
  if (input.all) {
    return Object.values(state.environments).filter((e) => input.project === undefined || e.project === input.project);
  }
  return [findEnv(state, input.env ?? '', input.project)];
}

/** Exactly what destroying an environment removes, drops and releases: what its dialogs say. */
export interface DestroyPlan {
  env: string;
  /** Its containers' names (its own, on its engine). */
  containers: string[];
  network: string;
  /** The DNS names that stop answering: `*.<env><suffix>`. */
  names: string;
  volumes: string[];
  /** Its workspace directory; null when it is kept (always for an in-place environment). */
  workspace: string | null;
  /** The tree an in-place environment runs on: left exactly as it is. */
  in_place_source?: string | undefined;
  /** Its private datasets in shared engines: dropped, their data gone. */
  datasets: { service: string; engine: string; name: string }[];
  /** Datasets kept (`keep`): left in their engine. */
  kept_datasets: { service: string; engine: string; name: string }[];
  /** Shared services it uses: released (detached from its network), not removed. */
  shared: string[];
  /** All of the above in words. */
  text: string;
}

function listed(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The plan in words: one paragraph naming each thing. */
export function destroyPlanText(p: Omit<DestroyPlan, 'text'>): string {
  const removed = [
    p.containers.length ? `its ${p.containers.length === 1 ? 'container' : `${p.containers.length} containers`} ${listed(p.containers)}` : 'its containers (none exist now)',
    `its network ${p.network}`,
    `its DNS names ${p.names}`,
    p.volumes.length ? `its ${p.volumes.length === 1 ? 'volume' : `${p.volumes.length} volumes`} ${listed(p.volumes)} with ${p.volumes.length === 1 ? 'its' : 'their'} data` : undefined,
    p.workspace ? `its workspace ${p.workspace} with every file in it` : undefined,
  ].filter((x) => x !== undefined);
  const ds = (list: DestroyPlan['datasets']): string => listed(list.map((d) => `${d.name} (${d.engine}, in shared service ${d.service})`));
  const parts = [`Destroying ${p.env} removes ${listed(removed)}.`];
  if (!p.volumes.length) parts.push('It has no volumes.');
  if (p.in_place_source) parts.push(`It runs in place: its tree ${p.in_place_source} is left as it is.`);
  else if (!p.workspace) parts.push('Its workspace is kept.');
  if (p.datasets.length) parts.push(`It drops its private ${p.datasets.length === 1 ? 'dataset' : 'datasets'} ${ds(p.datasets)}: that data is gone.`);
  if (p.kept_datasets.length) parts.push(`Its ${p.kept_datasets.length === 1 ? 'dataset' : 'datasets'} ${ds(p.kept_datasets)} ${p.kept_datasets.length === 1 ? 'is' : 'are'} kept.`);
  if (p.shared.length) parts.push(`The shared ${p.shared.length === 1 ? 'service' : 'services'} ${listed(p.shared)} ${p.shared.length === 1 ? 'is' : 'are'} released, not removed: ${p.shared.length === 1 ? 'it keeps' : 'they keep'} running for other environments, with ${p.shared.length === 1 ? 'its' : 'their'} data.`);
  return parts.join(' ');
}

/** What `destroyEnvironment` would remove, read as it reads it: the engine's containers and volumes by label, state's datasets and shared services. */
export async function destroyPlan(base: CoreContext, env: EnvironmentState, opts: { keepWorkspace?: boolean | undefined } = {}): Promise<DestroyPlan> {
  const ctx = await atSite(base, env);
  const composeProject = composeProjectName(env.project, env.name);
  const byCompose = { label: [`com.docker.compose.project=${composeProject}`] };
  const byCilo = { label: [`${LABELS.managed}=true`, `${LABELS.project}=${env.project}`, `${LABELS.env}=${env.name}`] };
  const [containers, volumes] = await Promise.all([
    Promise.all([ctx.site.docker.listContainers(byCompose), ctx.site.docker.listContainers(byCilo)]).then((l) => l.flat()),
    Promise.all([ctx.site.docker.listVolumes(byCompose), ctx.site.docker.listVolumes(byCilo)]).then((l) => l.flat()),
  ]);
  const state = readState(ctx.paths);
  const rec = state.environments[env.name] ?? env;
  const datasets = Object.entries(rec.datasets ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, d]) => ({ service, engine: d.engine, name: d.name, keep: d.keep === true }));
  const plan = {
    env: env.name,
    containers: [...new Set(containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')))].sort(),
    network: networkName(env.project, env.name),
    names: `*.${env.name}${env.dns_suffix}`,
    volumes: [...new Set(volumes.map((v) => v.Name))].sort(),
    workspace: opts.keepWorkspace || isInPlace(rec) ? null : env.workspace,
    ...(isInPlace(rec) ? { in_place_source: env.workspace } : {}),
    datasets: datasets.filter((d) => !d.keep).map(({ service, engine, name }) => ({ service, engine, name })),
    kept_datasets: datasets.filter((d) => d.keep).map(({ service, engine, name }) => ({ service, engine, name })),
    shared: sharedHeldBy(state, env),
  };
  return { ...plan, text: destroyPlanText(plan) };
}

/**
 * Removes a volume of the environment; one a container of someone else still mounts (the
 * engine answers 409) is left in place with a warning, so destroy never stops half-way.
 */
async function removeVolumeUnlessHeld(ctx: SiteContext, name: string, env: string): Promise<void> {
  try {
    await ctx.site.docker.removeVolume(name);
  } catch (e) {
    if (!(e instanceof DockerApiError && e.status === 409)) throw e;
    ctx.warn(`Volume ${name} of environment ${env} is still in use by another container; it was left in place.`);
  }
}

/**
 * Every shared service the environment holds a reference to, as state says now: the caller's
 * copy may predate references taken since (a failed first `up` is rolled back with the copy it
 * recorded before ensuring its shared services).
 */
function sharedHeldBy(state: State, env: Pick<EnvironmentState, 'name' | 'project'>): string[] {
  const recorded = state.environments[env.name]?.shared ?? [];
  const referenced = Object.values(state.shared_services)
    .filter((s) => s.project === env.project && s.users.includes(env.name))
    .map((s) => s.service);
  return [...new Set([...recorded, ...referenced])].sort();
}

/**
 * Removes one environment: records the intent (`destroying`), removes its containers, volumes
 * and network through the Engine API (by label, so it also works when compose files are
 * gone), then the generated files, workspace and state entry. Idempotent: re-running after a
 * crash finishes the job.
 */
export async function destroyEnvironment(base: CoreContext, env: EnvironmentState, opts: { keepWorkspace?: boolean | undefined; forget?: boolean | undefined } = {}): Promise<void> {
  const ctx = await engineOrForget(base, env, opts.forget === true);
  if (!ctx) {
    await dropSharedRecords(base, env);
    await removeLocalParts(base, env, opts.keepWorkspace === true);
    return;
  }
  const held = await withStateLock((state) => {
    const rec = state.environments[env.name];
    if (rec) {
      rec.status = 'destroying';
      rec.updated_at = isoNow(ctx);
    }
    return sharedHeldBy(state, env);
  }, ctx.paths);

  await dropDatasets(ctx, env);
  await releaseShared(ctx, env, held);
  const composeProject = composeProjectName(env.project, env.name);
  const byCompose = { label: [`com.docker.compose.project=${composeProject}`] };
  const byCilo = { label: [`${LABELS.managed}=true`, `${LABELS.project}=${env.project}`, `${LABELS.env}=${env.name}`] };
  const containers = [...(await ctx.site.docker.listContainers(byCompose)), ...(await ctx.site.docker.listContainers(byCilo))];
  // Keeping the workspace means someone may want the services' last writes: stop gracefully.
  if (opts.keepWorkspace) await Promise.all(containers.map((c) => ctx.site.docker.stopContainer(c.Id, 10)));
  await Promise.all([...new Set(containers.map((c) => c.Id))].map((id) => ctx.site.docker.removeContainer(id, { force: true, volumes: true })));
  await removeNetwork(ctx.site.docker, env);
  const volumes = [...(await ctx.site.docker.listVolumes(byCompose)), ...(await ctx.site.docker.listVolumes(byCilo))];
  for (const name of new Set(volumes.map((v) => v.Name))) await removeVolumeUnlessHeld(ctx, name, env.name);

  // The copy on a host (of an in-place tree too) is cilo's; on this machine this removes nothing.
  if (!opts.keepWorkspace) await ctx.site.removeWorkspace(env);
  // Its own loopback ports are free now: a host's forwards of them go too (shared ones stay with their service).
  await ctx.site.cancelLoopback(ownHostPorts(env)).catch(() => undefined);
  await removeLocalParts(ctx, env, opts.keepWorkspace === true);
  await syncRouterOrWarn(ctx);
}

/**
 * The environment's site; with `forget`, none when its host does not answer (the caller then
 * removes only what is on this machine). Without it, an unreachable host is an error that says so.
 */
async function engineOrForget(base: CoreContext, env: EnvironmentState, forget: boolean): Promise<SiteContext | undefined> {
  const reached = await askSite(base, env, async (site) => {
    await site.docker.ping();
    return site;
  });
  if (reached.ok) return { ...base, site: reached.value };
  if (!forget) throw reached.error.withDetail(`To drop environment ${env.name} without reaching host ${env.host} (its containers there stay), run \`cilo destroy ${env.name} --force --forget\`.`);
  base.warn(`host ${env.host} does not answer: ${env.name} is removed here only; its containers and workspace copy on the host stay.`);
  return undefined;
}

/**
 * Forgets the environment's references to shared services on a host that is gone; a service
 * left with no users is forgotten too (its container there stays, as the warning said).
 */
async function dropSharedRecords(ctx: CoreContext, env: EnvironmentState): Promise<void> {
  await withStateLock((state) => {
    for (const [key, rec] of Object.entries(state.shared_services)) {
      if (!sameSite(rec, env) || rec.project !== env.project || !rec.users.includes(env.name)) continue;
      rec.users = rec.users.filter((u) => u !== env.name);
      delete rec.ips[env.name];
      if (rec.users.length === 0) delete state.shared_services[key];
    }
  }, ctx.paths);
}

/** The generated files, the workspace (unless kept, or in place: the user's own tree) and the state entry. */
async function removeLocalParts(ctx: CoreContext, env: EnvironmentState, keepWorkspace: boolean): Promise<void> {
  rmSync(dirname(generatedComposePath(ctx.paths, env.project, env.name)), { recursive: true, force: true });
  if (!keepWorkspace && !isInPlace(env)) {
    await ctx.workspaces.remove(env.workspace);
    try {
      rmdirSync(dirname(env.workspace)); // the project's folder, once its last environment is gone
    } catch {
      // not empty, or already gone
    }
  }
  await withStateLock((state) => {
    delete state.environments[env.name];
  }, ctx.paths);
  // A new environment of the name starts with no past use (issue #26's idle pause).
  ctx.activity.forget(env.name);
}

export interface DestroyFailure {
  env: string;
  error: unknown;
}

/**
 * Destroys each target in turn, each under its environment's lock (an `up` or `create` of it
 * running now finishes first; what it left is destroyed, as state says after it). One that
 * cannot be removed does not stop the others: the failures are returned, each with its error.
 */
export async function destroyEach(ctx: CoreContext, targets: EnvironmentState[], opts: { keepWorkspace?: boolean | undefined; forget?: boolean | undefined }, onDestroyed: (env: EnvironmentState) => void): Promise<DestroyFailure[]> {
  const failures: DestroyFailure[] = [];
  for (const t of targets) {
    try {
      await withEnvironmentLock(
        ctx.paths,
        t.name,
        async () => {
          const now = readState(ctx.paths).environments[t.name];
          // Gone meanwhile (an up that created it failed and removed it), or a new one of another project: not ours to remove.
          if (now && now.project === t.project) await destroyEnvironment(ctx, now, opts);
        },
        envLockOptions(ctx, t.name),
      );
      onDestroyed(t);
    } catch (e) {
      failures.push({ env: t.name, error: e });
    }
  }
  return failures;
}

/** `destroyEnvironment` under the environment's lock (destroyEach), for a caller that holds none; its failure is thrown. */
export async function destroyLocked(ctx: CoreContext, env: EnvironmentState, opts: { keepWorkspace?: boolean | undefined; forget?: boolean | undefined } = {}): Promise<void> {
  const [failed] = await destroyEach(ctx, [env], opts, () => undefined);
  if (failed) throw failed.error;
}
