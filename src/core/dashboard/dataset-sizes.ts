/**
 * The dashboard's dataset sizes. Measuring them asks every shared engine for its inventory
 * (`pg_database_size` of every database, a redis exec per index...), which took 12–15 s per
 * page on a busy machine (issue 27). So the dashboard keeps the last known sizes and measures
 * them on its own clock, in the background: every MAX_AGE_MS while someone looks, and soon after
 * a change (an environment made, stopped, destroyed...). A page never waits for a measurement;
 * it shows the last known size and when it was measured.
 */
import { datasetKey, measureDatasetSizes, recordedDatasets, type DatasetFilter, type DatasetView } from '../datasets/datasets.js';
import type { CoreContext } from '../context.js';

/** Sizes older than this are measured again. */
export const SIZES_MAX_AGE_MS = 30_000;
/** After a change, the sizes are measured again once the last measurement is this old. */
export const SIZES_AFTER_CHANGE_MS = 10_000;
/** Nobody has read the sizes for this long (no page open): they are not measured any more until read again. */
const IDLE_MS = 5 * 60_000;

/** A recorded dataset with its last known size (null: never measured, or its engine never ran) and when it was measured. */
export type KnownSizeDataset = DatasetView & { measured_at: string | null };

export interface DatasetSizeCacheOptions {
  /** Which datasets: the dashboard's project (undefined: all). */
  project: string | undefined;
  /** Told after each measurement, so open pages get the new sizes. */
  onMeasured?: (() => void) | undefined;
}

export class DatasetSizeCache {
  private readonly known = new Map<string, { size: number; at: number }>();
  /** When the last measurement started (clock ms); undefined before the first. */
  private startedAt: number | undefined;
  private changedSince = false;
  private lastRead: number | undefined;
  private running: Promise<void> | undefined;
  private paused = 0;
  /** Measurements made, for tests and the log. */
  measurements = 0;

  constructor(
    private readonly ctx: CoreContext,
    private readonly opts: DatasetSizeCacheOptions,
  ) {}

  /**
   * The recorded datasets (matching `filter`) with their last known sizes, at once; starts a
   * measurement in the background when one is due.
   */
  read(filter: Pick<DatasetFilter, 'env'> = {}): KnownSizeDataset[] {
    const now = this.ctx.clock.now();
    this.lastRead = now;
    const views = recordedDatasets(this.ctx, { project: this.opts.project, env: filter.env });
    this.measureIfDue();
    return views.map((v) => {
      const k = this.known.get(datasetKey(v));
      return { ...v, size: k?.size ?? null, measured_at: k ? new Date(k.at).toISOString() : null };
    });
  }

  /** Something the sizes depend on may have changed: they are measured again soon. */
  changed(): void {
    this.changedSince = true;
  }

  /** Whether a measurement is due now. */
  due(): boolean {
    const now = this.ctx.clock.now();
    if (this.lastRead === undefined || now - this.lastRead > IDLE_MS) return false;
    if (this.startedAt === undefined) return true;
    const age = now - this.startedAt;
    return age >= SIZES_MAX_AGE_MS || (this.changedSince && age >= SIZES_AFTER_CHANGE_MS);
  }

  /** Starts a measurement in the background when one is due (the dashboard's timer calls it). */
  measureIfDue(): void {
    if (this.running === undefined && this.paused === 0 && this.due()) void this.measure();
  }

  /**
   * Runs `fn` with no measurement started meanwhile: the doctor asks the same shared engines
   * for their inventories, and from the dashboard it must not take longer than from the CLI.
   */
  async pausedWhile<T>(fn: () => Promise<T>): Promise<T> {
    this.paused += 1;
    try {
      return await fn();
    } finally {
      this.paused -= 1;
    }
  }

  /** Measures now (one at a time: a call during a measurement waits for that one). */
  measure(): Promise<void> {
    this.running ??= this.measureOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no measurement runs (for tests). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async measureOnce(): Promise<void> {
    this.startedAt = this.ctx.clock.now();
    this.changedSince = false;
    this.measurements += 1;
    try {
      const sizes = await measureDatasetSizes(this.ctx, { project: this.opts.project });
      const at = this.ctx.clock.now();
      const recorded = new Set(recordedDatasets(this.ctx, { project: this.opts.project }).map(datasetKey));
      for (const key of this.known.keys()) if (!recorded.has(key)) this.known.delete(key);
      // A size that could not be measured this time (its engine stopped, a host silent) keeps its last known value and time.
      for (const [key, size] of sizes) this.known.set(key, { size, at });
    } catch (e) {
      this.ctx.warn(`Measuring the datasets' sizes failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.opts.onMeasured?.();
  }
}
