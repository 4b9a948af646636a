/**
 * Admission by memory budget (issue #26): before `up` makes anything for an environment, its
 * estimate (domain/admission.ts) is compared with the budget less what cilo's environments and
 * shared services on that engine use now (the Engine's one-shot stats, as `cilo top` reads
 * them), and less the estimates of `up`s admitted but still starting. The check and the
 * reservation of the estimate happen in one state transaction, so parallel `up`s are admitted
 * one at a time. Each check also records what every running environment and image uses: the
 * next `up` of an environment estimates from that (no other command pays for the stats).
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { budgetBytes, countedUse, estimateMemory, fits, formatBudget, formatBytes, parseMemoryBudget, refusalMessage, type AdmissionCheck, type Estimate, type MemoryBudget } from '../../domain/admission.js';
import type { ComposeModel } from '../../domain/compose-model.js';
import { chosenSharedServices } from '../../domain/datasets.js';
import { COMPOSE_SERVICE, LABELS, composeProjectName } from '../../domain/names.js';
import { splitList } from '../../domain/shared.js';
import { lastUsed } from '../../domain/idle.js';
import { siteKey } from '../../domain/sites.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { CiloError, usageError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow } from '../context.js';
import { resolveProject, resolveProjectDir } from '../project/project.js';
import type { SiteContext } from '../sites/site.js';
import { UsageSampler } from './top.js';

export interface AdmitRequest {
  /** The environment's name (`<prefix>-N` for an automatic one, only for messages). */
  env: string;
  from?: string | undefined;
  project?: string | undefined;
  profiles?: string[] | undefined;
  shared?: string[] | undefined;
  isolate?: string[] | undefined;
  /** `--wait-for-capacity [SECONDS]`: how long to wait for room; absent: refuse at once. */
  waitSeconds?: number | undefined;
}

/** An admission held while the `up` runs: ended once, with the environment's final name when it started. */
export interface Admission {
  end(started: { env: string } | null): Promise<void>;
}

const NOTHING_HELD: Admission = { end: async () => undefined };

/** How often `--wait-for-capacity` looks again. */
const POLL_MS = 2_000;

/** The budget to store for `cilo init --memory-budget`: null for `none`; a usage error for anything else. */
export function memoryBudgetSetting(raw: string): string | null {
  const b = parseMemoryBudget(raw);
  if (b === undefined) throw usageError(`--memory-budget "${raw}" is not a memory budget: give a size such as 6g or 512m, a percent of the engine's memory such as 60%, or none to remove it.`);
  return b === null ? null : raw.trim().toLowerCase();
}

/**
 * Admits the `up` of an environment under the home's memory budget, waiting for room if asked.
 * Nothing is held without a budget, or for an environment that runs (or is paused) already.
 */
export async function admitUp(ctx: SiteContext, req: AdmitRequest): Promise<Admission> {
  const state = readState(ctx.paths);
  const budget = state.memory_budget !== undefined ? parseMemoryBudget(state.memory_budget) : undefined;
  if (!budget) return NOTHING_HELD;
  const existing = state.environments[req.env];
  if (existing && (existing.status === 'running' || existing.status === 'paused')) return NOTHING_HELD;
  const estimate = await estimateUp(ctx, state, existing, req);
  const limit = budgetBytes(budget, await memTotalFor(ctx, budget));
  const deadline = ctx.clock.now() + (req.waitSeconds ?? 0) * 1000;
  for (;;) {
    const r = await tryReserve(ctx, req.env, estimate, limit, state.memory_budget ?? '');
    if ('id' in r) return held(ctx, r.id);
    if (req.waitSeconds === undefined || ctx.clock.now() >= deadline) {
      throw new CiloError('CAPACITY', r.message, {
        hint: req.waitSeconds === undefined ? 'Stop an environment (`cilo down <env>`), raise the budget (`cilo init --memory-budget`), or wait for room with `cilo up --wait-for-capacity`.' : `No room appeared within ${req.waitSeconds} s; stop an environment or raise the budget.`,
      });
    }
    ctx.log(`Waiting for memory: ${r.message}`);
    await new Promise((res) => setTimeout(res, Math.min(POLL_MS, Math.max(0, deadline - ctx.clock.now()))));
  }
}

/** What the environment will use: recorded use, else the limits of the services it starts, else per image, else the default. */
async function estimateUp(ctx: SiteContext, state: State, existing: EnvironmentState | undefined, req: AdmitRequest): Promise<Estimate> {
  if (existing?.memory_bytes !== undefined && existing.memory_bytes > 0) return estimateMemory({ lastUse: existing.memory_bytes });
  const resolved = await modelForEstimate(ctx, existing, req).catch(() => undefined);
  return estimateMemory({ model: resolved?.model, shared: resolved?.shared, imageMemory: state.image_memory });
}

/**
 * The compose model the estimate reads: of the environment's workspace, or of the project's
 * source for a new one. A model compose refuses gives no limits; `up` reports it after admission.
 */
async function modelForEstimate(ctx: SiteContext, existing: EnvironmentState | undefined, req: AdmitRequest): Promise<{ model: ComposeModel; shared: string[] }> {
  const dir = existing && existing.status !== 'creating' ? existing.workspace : resolveProjectDir(existing?.source ?? req.from);
  const project = resolveProject(dir, existing?.project ?? req.project);
  const profiles = splitList(req.profiles ?? existing?.profiles);
  const model = await ctx.site.compose.resolveModel({
    // `<prefix>-N` (an automatic name not chosen yet) is no valid compose project name in capitals.
    projectName: composeProjectName(project.name, req.env.toLowerCase()),
    files: (project.config.compose_files ?? []).map((f) => join(dir, f)),
    envFiles: (project.config.env_files ?? []).map((f) => join(dir, f)),
    profiles,
    cwd: dir,
  });
  const flags = req.shared !== undefined || req.isolate !== undefined ? { shared: splitList(req.shared), isolate: splitList(req.isolate) } : (existing?.share_flags ?? { shared: [], isolate: [] });
  return { model, shared: chosenSharedServices(model, flags, project.config.services) };
}

async function memTotalFor(ctx: SiteContext, budget: MemoryBudget): Promise<number> {
  if (!('percent' in budget)) return 0;
  const total = (await ctx.site.docker.info()).MemTotal;
  if (total === undefined || total <= 0) throw new CiloError('CAPACITY', `The engine on ${ctx.site.label} does not say how much memory it has, so a budget of ${formatBudget(budget)} cannot be computed.`, { hint: 'Give the budget as a size instead: `cilo init --memory-budget 6g`.' });
  return total;
}

/** What cilo's containers on this engine use now: per environment, shared services together, and per image. */
interface Measured {
  envs: Map<string, number>;
  shared: number;
  images: Map<string, number>;
}

async function measure(ctx: SiteContext): Promise<Measured> {
  const all = await ctx.site.docker.listContainers({ label: [`${LABELS.home}=${homeId(ctx.paths)}`] }, false);
  const containers = all.filter((c) => c.State === 'running' || c.State === 'paused');
  const usage = await new UsageSampler().read(ctx.site.docker, containers);
  const out: Measured = { envs: new Map(), shared: 0, images: new Map() };
  for (const c of containers) {
    const bytes = usage.get(c.Id)?.memory_bytes ?? 0;
    if (c.Labels[LABELS.shared] === 'true') out.shared += bytes;
    else {
      const env = c.Labels[LABELS.env];
      if (env !== undefined) out.envs.set(env, (out.envs.get(env) ?? 0) + bytes);
    }
    // A service's own image (a router or helper has no compose service): the largest container of it seen now.
    if (c.Labels[COMPOSE_SERVICE] !== undefined && bytes > 0) out.images.set(c.Image, Math.max(out.images.get(c.Image) ?? 0, bytes));
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const COUNTED = new Set(['running', 'paused', 'starting']);

/**
 * Under the state lock: records what was measured, drops reservations of dead processes, and
 * reserves the estimate if it fits; else says why, naming the environments idle longest.
 */
async function tryReserve(ctx: SiteContext, env: string, estimate: Estimate, budget: number, budgetText: string): Promise<{ id: string } | { message: string }> {
  const m = await measure(ctx);
  const here = siteKey({ host: ctx.site.host });
  return withStateLock((state) => {
    for (const [name, bytes] of m.envs) {
      const rec = state.environments[name];
      if (rec && bytes > 0) rec.memory_bytes = bytes;
    }
    if (m.images.size > 0) state.image_memory = { ...state.image_memory, ...Object.fromEntries(m.images) };
    const reservations = Object.fromEntries(Object.entries(state.memory_reservations ?? {}).filter(([, r]) => alive(r.pid)));
    const onSite = Object.values(state.environments).filter((e) => siteKey(e) === here);
    const envUse = onSite.reduce((n, e) => n + countedUse(m.envs.get(e.name) ?? 0, COUNTED.has(e.status) ? e.memory_admitted : undefined), 0);
    const reserved = Object.values(reservations).filter((r) => siteKey(r) === here).reduce((n, r) => n + r.bytes, 0);
    const check: AdmissionCheck = { budget, estimate: estimate.bytes, inUse: envUse + m.shared + reserved };
    state.memory_reservations = reservations;
    if (!fits(check)) {
      const used = (e: EnvironmentState): number => lastUsed(e, [ctx.activity.last(e.name)]);
      const idle = onSite.filter((e) => e.status === 'running' && e.name !== env).sort((a, b) => used(a) - used(b)).map((e) => e.name);
      return { message: refusalMessage(env, check, budgetText, idle) };
    }
    const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
    reservations[id] = { env, pid: process.pid, bytes: estimate.bytes, ...(ctx.site.host !== undefined ? { host: ctx.site.host } : {}), at: isoNow(ctx) };
    ctx.log(`Admitted ${env}: about ${formatBytes(estimate.bytes)} (${estimate.basis}) within the memory budget ${budgetText}, ${formatBytes(Math.max(0, budget - check.inUse - estimate.bytes))} left`);
    return { id };
  }, ctx.paths);
}

/** The reservation, released when the up ends; a started environment keeps its estimate as what it was admitted with. */
function held(ctx: SiteContext, id: string): Admission {
  return {
    end: async (started) => {
      await withStateLock((state) => {
        const r = state.memory_reservations?.[id];
        if (!r) return;
        delete state.memory_reservations?.[id];
        const rec = started ? state.environments[started.env] : undefined;
        if (rec) rec.memory_admitted = r.bytes;
      }, ctx.paths);
    },
  };
}

/** Runs the `up` while its admission is held, and ends the admission however the up ends. */
export async function whileAdmitted<T extends { env: EnvironmentState }>(admission: Admission, run: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (e) {
    await admission.end(null);
    throw e;
  }
  await admission.end({ env: result.env.name });
  return result;
}
