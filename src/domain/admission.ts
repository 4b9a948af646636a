/**
 * Admission by memory budget (issue #26): the budget's forms, what an environment is expected
 * to use, and whether it fits. Pure: core/environments/admission.ts reads the engine and state.
 */
import type { ComposeModel, ComposeService } from './compose-model.js';

/** A service with no limit and no measured image: this much (documented in the README). */
export const DEFAULT_SERVICE_MEMORY = 256 * 1024 * 1024;

/** `6g`, `512m`, `1.5G`, `60%`: a size in bytes (`k`, `m`, `g`, `t`, powers of 1024) or a percent of the engine's memory. */
export type MemoryBudget = { bytes: number } | { percent: number };

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** The budget a user typed, as stored: `none` clears it (null); undefined when it is none of the accepted forms. */
export function parseMemoryBudget(raw: string): MemoryBudget | null | undefined {
  const s = raw.trim().toLowerCase();
  if (s === 'none') return null;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    return percent > 0 && percent <= 100 ? { percent } : undefined;
  }
  const size = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/.exec(s);
  if (!size) return undefined;
  const bytes = Math.round(Number(size[1]) * (UNITS[size[2] ?? ''] ?? 1));
  return bytes > 0 ? { bytes } : undefined;
}

/** How a budget is stored and shown: `6g`, `60%`. */
export function formatBudget(b: MemoryBudget): string {
  return 'percent' in b ? `${b.percent}%` : formatBytes(b.bytes);
}

/** The budget in bytes on an engine with `memTotal` bytes of memory. */
export function budgetBytes(b: MemoryBudget, memTotal: number): number {
  return 'percent' in b ? Math.floor((memTotal * b.percent) / 100) : b.bytes;
}

/** `1.5 GB`, `256 MB`, `12 KB` (powers of 1024, as `docker stats`). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : Number(v.toFixed(v >= 10 ? 0 : 1))} ${units[i]}`;
}

/** A service's memory limit in the resolved model: `mem_limit`, else `deploy.resources.limits.memory` (compose prints both in bytes). */
export function serviceMemoryLimit(svc: ComposeService): number | undefined {
  const deploy = svc.deploy as { resources?: { limits?: { memory?: unknown } } } | undefined;
  for (const raw of [svc.mem_limit, deploy?.resources?.limits?.memory]) {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : undefined;
    if (n !== undefined && n > 0) return n;
  }
  return undefined;
}

export interface Estimate {
  bytes: number;
  /** Where the figure comes from, for the refusal's sentence. */
  basis: 'last-use' | 'limits' | 'defaults';
}

/**
 * What an environment will use: what it used last time, else the sum over the services it
 * starts of each one's limit, else the memory measured for its image in other environments,
 * else DEFAULT_SERVICE_MEMORY. Shared services are not its own (they run already or are counted once).
 */
export function estimateMemory(input: { lastUse?: number | undefined; model?: ComposeModel | undefined; shared?: string[] | undefined; imageMemory?: Record<string, number> | undefined }): Estimate {
  if (input.lastUse !== undefined && input.lastUse > 0) return { bytes: input.lastUse, basis: 'last-use' };
  const services = Object.entries(input.model?.services ?? {}).filter(([name]) => !(input.shared ?? []).includes(name));
  if (services.length === 0) return { bytes: DEFAULT_SERVICE_MEMORY, basis: 'defaults' };
  let bytes = 0;
  let allLimited = true;
  for (const [, svc] of services) {
    const replicas = replicasOf(svc);
    const limit = serviceMemoryLimit(svc);
    if (limit === undefined) allLimited = false;
    const measured = svc.image !== undefined ? input.imageMemory?.[svc.image] : undefined;
    bytes += replicas * (limit ?? measured ?? DEFAULT_SERVICE_MEMORY);
  }
  return { bytes, basis: allLimited ? 'limits' : 'defaults' };
}

function replicasOf(svc: ComposeService): number {
  const r = (svc.deploy as { replicas?: unknown } | undefined)?.replicas ?? svc.scale;
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : 1;
}

/** A running environment: counted at what it uses now, or at least what it was admitted with (it may grow to its limits). */
export function countedUse(measured: number, admitted: number | undefined): number {
  return Math.max(measured, admitted ?? 0);
}

export interface AdmissionCheck {
  budget: number;
  estimate: number;
  /** What cilo's environments, shared services and pending admissions use now. */
  inUse: number;
}

export function fits(c: AdmissionCheck): boolean {
  return c.inUse + c.estimate <= c.budget;
}

/** The refusal's sentence: the budget, the estimate, the current use and the idle environments to pause (longest idle first). */
export function refusalMessage(env: string, c: AdmissionCheck, budgetText: string, idle: string[]): string {
  const pause = idle.length > 0 ? `; environments that could be stopped to make room, longest idle first: ${idle.join(', ')}` : '; no other environment of cilo runs that could be stopped';
  return `Starting ${env} needs about ${formatBytes(c.estimate)} but the memory budget ${budgetText} (${formatBytes(c.budget)}) has ${formatBytes(Math.max(0, c.budget - c.inUse))} left, since cilo's environments use ${formatBytes(c.inUse)} now${pause}.`;
}
