/**
 * What shared services leave behind once nothing uses them: their named volumes (a shared
 * container's data outlives the container, which goes after its grace period) and the dataset
 * templates in shared database engines (one per seed, kept for the next environment's clone).
 * Listed by `cilo shared list` and `doctor`, removed by `cilo shared rm` and `doctor --fix`.
 *
 * Something is in use while anything may still need it: a volume while its shared service is
 * held (or its container kept for its grace period) or while any environment of its project
 * exists (its next `up` brings the shared service back with this data); a template while an
 * environment's dataset was made from it or one is being made. This machine's engine only.
 */
import { sameSite } from '../../domain/sites.js';
import { atLocalSite } from '../sites/reach.js';
import { engineFromImage, TEMPLATE_PREFIX } from '../../domain/datasets.js';
import type { EngineKind } from '../../domain/dataset-kinds.js';
import { compareNames, LABELS } from '../../domain/names.js';
import { sharedKey, type EnvironmentState, type State } from '../../domain/state.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { readState, withNamedLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { liveEngine, templateLockName } from '../datasets/datasets.js';
import { lockName } from './shared.js';

export interface SharedLeftover {
  kind: 'volume' | 'template';
  project: string;
  service: string;
  /** The volume's name, or the template database's. */
  name: string;
  /** Environments that still use it. */
  users: string[];
  /** Why it is kept, or null: nothing uses it. */
  in_use: string | null;
}

export interface LeftoverFilter {
  project?: string | undefined;
  service?: string | undefined;
}

const matches = (f: LeftoverFilter, project: string, service: string): boolean => (f.project === undefined || f.project === project) && (f.service === undefined || f.service === service);

function localEnvs(state: State, project: string): EnvironmentState[] {
  return Object.values(state.environments)
    .filter((e) => e.project === project && !e.host)
    .sort((a, b) => compareNames(a.name, b.name));
}

function volumeUse(state: State, project: string, service: string): Pick<SharedLeftover, 'users' | 'in_use'> {
  const rec = state.shared_services[sharedKey(project, service)];
  if (rec && rec.users.length > 0) return { users: rec.users, in_use: `shared service ${service} is used by ${rec.users.join(', ')}` };
  if (rec) return { users: [], in_use: `the shared container ${rec.container} is kept${rec.grace_until ? ` until ${rec.grace_until}` : ''} (\`cilo shared stop ${service}\` removes it)` };
  const envs = localEnvs(state, project).map((e) => e.name);
  if (envs.length > 0) return { users: envs, in_use: `environments ${envs.join(', ')} of project ${project} exist, and their next up brings ${service} back with this data` };
  return { users: [], in_use: null };
}

function templateUse(state: State, project: string, service: string, name: string): Pick<SharedLeftover, 'users' | 'in_use'> {
  const envs = localEnvs(state, project);
  const making = envs.filter((e) => e.datasets?.[service]?.status === 'creating').map((e) => e.name);
  if (making.length > 0) return { users: making, in_use: `a dataset of ${making.join(', ')} is being made` };
  const from = envs.filter((e) => e.datasets?.[service]?.template === name).map((e) => e.name);
  if (from.length > 0) return { users: from, in_use: `the datasets of ${from.join(', ')} were made from it (\`cilo db reset\` clones it again)` };
  return { users: [], in_use: null };
}

/** The engine kind of a shared service that holds datasets: from an environment's dataset, else its image. */
function engineKindOf(state: State, project: string, service: string): EngineKind | undefined {
  for (const e of localEnvs(state, project)) {
    const d = e.datasets?.[service];
    if (d) return d.engine;
  }
  const rec = state.shared_services[sharedKey(project, service)];
  return engineFromImage((rec?.definition as { service?: { image?: string } } | undefined)?.service?.image);
}

/** Shared volumes of this home and templates in running shared engines on this machine, each with what uses it. */
export async function sharedLeftovers(base: CoreContext, filter: LeftoverFilter = {}): Promise<SharedLeftover[]> {
  const ctx = atLocalSite(base);
  const state = readState(ctx.paths);
  const out: SharedLeftover[] = [];
  const volumes = await ctx.site.docker.listVolumes({ label: [`${LABELS.shared}=true`, `${LABELS.home}=${homeId(ctx.paths)}`] });
  for (const v of volumes) {
    const project = v.Labels?.[LABELS.project];
    const service = v.Labels?.[LABELS.service];
    if (!project || !service || !matches(filter, project, service)) continue;
    out.push({ kind: 'volume', project, service, name: v.Name, ...volumeUse(state, project, service) });
  }
  for (const rec of Object.values(state.shared_services)) {
    if (!sameSite(rec, ctx.site) || !matches(filter, rec.project, rec.service)) continue;
    const kind = engineKindOf(state, rec.project, rec.service);
    const engine = kind ? await liveEngine(ctx, rec.project, rec.service, { engine: kind }) : undefined;
    // Templates live inside the running engine: one that is not running shows none.
    const inventory = engine
      ? await engine.inventory().catch((e: unknown) => {
          if (!(e instanceof CiloError)) throw e;
          ctx.warn(`The dataset templates in shared ${rec.service} of project ${rec.project} could not be listed: ${e.message}`);
          return [];
        })
      : [];
    for (const t of inventory) {
      if (!t.template || !t.name.startsWith(TEMPLATE_PREFIX)) continue;
      out.push({ kind: 'template', project: rec.project, service: rec.service, name: t.name, ...templateUse(state, rec.project, rec.service, t.name) });
    }
  }
  return out.sort((a, b) => compareNames(a.project, b.project) || compareNames(a.service, b.service) || compareNames(a.kind, b.kind) || compareNames(a.name, b.name));
}

/**
 * Removes one leftover, checked again under the lock that `up` takes to make it (the shared
 * service's for a volume, its template lock for a template), so an `up` starting meanwhile
 * either finds it or makes it again; refuses one that came into use.
 */
export async function removeSharedLeftover(base: CoreContext, item: SharedLeftover): Promise<void> {
  const ctx = atLocalSite(base);
  const refuse = (why: string): CiloError =>
    new CiloError('SHARED_CONFLICT', `The ${item.kind} ${item.name} of shared service ${item.service} (project ${item.project}) is in use: ${why}.`, { hint: 'Leave it, or destroy what uses it first (`cilo destroy ENV`).' });
  if (item.kind === 'volume') {
    await withNamedLock(ctx.paths, lockName(item.project, item.service, undefined), async () => {
      const use = volumeUse(readState(ctx.paths), item.project, item.service);
      if (use.in_use) throw refuse(use.in_use);
      await ctx.site.docker.removeVolume(item.name);
    });
    return;
  }
  await withNamedLock(ctx.paths, templateLockName(item.project, item.service), async () => {
    const state = readState(ctx.paths);
    const use = templateUse(state, item.project, item.service, item.name);
    if (use.in_use) throw refuse(use.in_use);
    const kind = engineKindOf(state, item.project, item.service);
    const engine = kind ? await liveEngine(ctx, item.project, item.service, { engine: kind }) : undefined;
    if (!engine) throw new CiloError('SERVICE_FAILED', `The shared service ${item.service} of project ${item.project} is not running, so its template ${item.name} cannot be dropped.`, { hint: 'Run `cilo up` on an environment that uses it, then try again.' });
    await engine.dropTemplate(item.name);
  });
}

export interface RemovalRequest {
  /** A shared service whose leftovers to remove, all or nothing. */
  service?: string | undefined;
  /** Every leftover that nothing uses. */
  unused?: boolean | undefined;
  project?: string | undefined;
}

/**
 * What `cilo shared rm` would remove: everything a named shared service left (refused, naming
 * its users, while any of it is in use), or with `unused` every leftover nothing uses.
 */
export async function leftoversToRemove(ctx: CoreContext, req: RemovalRequest): Promise<SharedLeftover[]> {
  if (req.unused) return (await sharedLeftovers(ctx, { project: req.project })).filter((l) => l.in_use === null);
  const service = req.service ?? '';
  const items = await sharedLeftovers(ctx, { project: req.project, service });
  const projects = [...new Set(items.map((l) => l.project))];
  if (projects.length > 1) {
    throw new CiloError('USAGE', `Several projects have leftovers of a shared service "${service}" (${projects.join(', ')}).`, { hint: 'Pass --project to choose one.', exitCode: 2 });
  }
  if (items.length === 0) {
    throw new CiloError('SERVICE_NOT_FOUND', `Shared service "${service}"${req.project ? ` of project ${req.project}` : ''} has no volume or dataset template to remove.`, { hint: 'Run `cilo shared list` to see what there is.' });
  }
  const used = items.filter((l) => l.in_use !== null);
  if (used.length > 0) {
    const users = [...new Set(used.flatMap((l) => l.users))];
    throw new CiloError('SHARED_CONFLICT', `Shared service "${service}" of project ${projects[0]} is still in use, so nothing was removed: ${used.map((l) => `${l.kind} ${l.name}: ${l.in_use}`).join('; ')}.`, {
      hint: users.length > 0 ? `Destroy ${users.join(', ')} first (\`cilo destroy NAME\`), or run \`cilo shared rm --unused\` to remove only what nothing uses.` : `Run \`cilo shared stop ${service}\` first, or \`cilo shared rm --unused\` to remove only what nothing uses.`,
    });
  }
  return items;
}
