import type { UpTimings } from '../../domain/manifest.js';

export type UpPhase = 'resolve' | 'network' | 'shared' | 'compose_up' | 'wait';

/** Adds up the time spent in each phase of an `up` (the manifest's `timings`). */
export class PhaseClock {
  private readonly started = Date.now();
  private readonly spent: Record<UpPhase, number> = { resolve: 0, network: 0, shared: 0, compose_up: 0, wait: 0 };

  async time<T>(phase: UpPhase, step: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await step();
    } finally {
      this.spent[phase] += Date.now() - t;
    }
  }

  timings(): UpTimings {
    const s = this.spent;
    return { resolve_ms: s.resolve, network_ms: s.network, shared_ms: s.shared, compose_up_ms: s.compose_up, wait_ms: s.wait, total_ms: Date.now() - this.started };
  }
}
