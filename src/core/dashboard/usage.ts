/**
 * What each environment and shared service uses, for the dashboard (issue #26, "See it": the
 * columns of `cilo top` and a machine total). Read on its own endpoint, apart from the snapshot:
 * the Engine's stats of every container take longer than the rest of the page's data, and only a
 * page that is visible asks for them. The sampler lives as long as the server, so each poll has
 * a CPU delta against the previous one without waiting.
 */
import { sumUsage, type Usage } from '../../domain/usage.js';
import type { CoreContext } from '../context.js';
import { topSnapshot, UsageSampler, type EnvironmentUsage, type SharedUsage, type TopSnapshot } from '../environments/top.js';
import { askSite } from '../sites/reach.js';
import type { DashboardScope } from './dashboard.js';

/** This machine's engine: what it has to give (`docker info`), null when it did not answer. */
export interface EngineCapacity {
  memory_bytes: number | null;
  cpus: number | null;
}

export interface DashboardUsage {
  at: string;
  /** The environments of the dashboard's scope, as `cilo top --json` lists them. */
  environments: EnvironmentUsage[];
  shared: SharedUsage[];
  /** What the rows above use together (a shared service once). */
  shown: Usage;
  /** The machine total: every environment and shared service of this CILO_HOME, in any project. */
  total: { usage: Usage; containers: number };
  engine: EngineCapacity | null;
  /** Engines that did not answer, each with why. */
  unreachable: { site: string; problem: string }[];
}

/** Rows of the dashboard's scope from a snapshot of every project; the total stays every project's. Pure. */
export function dashboardUsageView(top: TopSnapshot, scope: DashboardScope, engine: EngineCapacity | null): DashboardUsage {
  const inScope = (p: string): boolean => scope.project === undefined || p === scope.project;
  const environments = top.environments.filter((e) => inScope(e.project));
  const shared = top.shared.filter((s) => inScope(s.project));
  const running = (s: SharedUsage): boolean => s.state === 'running' || s.state === 'paused';
  return {
    at: top.at,
    environments,
    shared,
    shown: sumUsage([...environments.map((e) => e.usage), ...shared.map((s) => s.usage)]),
    total: { usage: top.total, containers: top.environments.reduce((n, e) => n + e.containers, 0) + top.shared.filter(running).length },
    engine,
    unreachable: top.unreachable,
  };
}

/** A sampler not asked for this long is dropped: its samples are too old for a CPU figure of "now". */
const SAMPLER_IDLE_MS = 15_000;
/** And one is replaced this often anyway, so containers that went are forgotten. */
const SAMPLER_LIFE_MS = 10 * 60_000;
/** Answers younger than this are shared by the pages that ask (several tabs poll on their own). */
const REUSE_MS = 1000;
/** `docker info`'s memory and CPUs change only when the engine's machine does. */
const ENGINE_INFO_MS = 5 * 60_000;

/**
 * The usage endpoint of one dashboard: one read at a time (pages asking meanwhile get its
 * answer), a sampler kept between reads, and the engine's capacity asked once in a while.
 */
export class DashboardUsageReader {
  private sampler: { it: UsageSampler; born: number; used: number } | undefined;
  private inFlight: Promise<DashboardUsage> | undefined;
  private last: { at: number; value: DashboardUsage } | undefined;
  private engine: { at: number; value: EngineCapacity } | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly scope: DashboardScope,
  ) {}

  read(): Promise<DashboardUsage> {
    const now = this.ctx.clock.now();
    if (this.last && now - this.last.at < REUSE_MS) return Promise.resolve(this.last.value);
    this.inFlight ??= this.measure().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async measure(): Promise<DashboardUsage> {
    const sampler = this.currentSampler();
    // Every project: the machine total is all of cilo's, whatever the page's scope.
    const [top, engine] = await Promise.all([topSnapshot(this.ctx, { all: true }, sampler), this.engineCapacity()]);
    const value = dashboardUsageView(top, this.scope, engine);
    this.last = { at: this.ctx.clock.now(), value };
    return value;
  }

  private currentSampler(): UsageSampler {
    const now = this.ctx.clock.now();
    let s = this.sampler;
    if (!s || now - s.used > SAMPLER_IDLE_MS || now - s.born > SAMPLER_LIFE_MS) s = this.sampler = { it: new UsageSampler(), born: now, used: now };
    s.used = now;
    return s.it;
  }

  private async engineCapacity(): Promise<EngineCapacity | null> {
    const now = this.ctx.clock.now();
    if (this.engine && now - this.engine.at < ENGINE_INFO_MS) return this.engine.value;
    const a = await askSite(this.ctx, {}, (site) => site.docker.info(), { tolerateLocal: true }).catch(() => undefined);
    if (!a?.ok) return null;
    const value = { memory_bytes: a.value.MemTotal ?? null, cpus: a.value.NCPU ?? null };
    this.engine = { at: now, value };
    return value;
  }
}
