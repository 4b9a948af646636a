/**
 * How a use-case reports its steps: to `ctx.progress` as events (start, how far, end with its
 * duration) when someone listens, else as the plain line it always said through `ctx.log`.
 */
import type { ProgressEvent, ServicePhase, StepAmount } from '../domain/progress.js';
import type { CoreContext } from './context.js';

let nextId = 0;

export interface StepSpec<T> {
  /** What is being done ("Making network cilo_shop_agent-1"). */
  label: string;
  /** What was done, from the step's result ("Network cilo_shop_agent-1 ready"); the label when absent. */
  done?: ((r: T) => string) | undefined;
  /** The line said through `ctx.log` when nobody takes progress events; none when absent. */
  log?: string | undefined;
}

/** Runs a step; `tick` reports how far it is (free when nobody listens). A failed step ends `ok: false` and its error passes on. */
export async function step<T>(ctx: Pick<CoreContext, 'progress' | 'log' | 'clock'>, spec: StepSpec<T>, work: (tick: (a: StepAmount) => void) => Promise<T>): Promise<T> {
  const report = ctx.progress;
  if (!report) {
    if (spec.log !== undefined) ctx.log(spec.log);
    return work(() => undefined);
  }
  nextId += 1;
  const id = nextId;
  const started = ctx.clock.now();
  report({ type: 'step-start', id, label: spec.label });
  try {
    const r = await work((amount) => report({ type: 'step-tick', id, amount }));
    report({ type: 'step-end', id, label: spec.done ? spec.done(r) : spec.label, ms: ctx.clock.now() - started, ok: true });
    return r;
  } catch (e) {
    report({ type: 'step-end', id, label: `${spec.label} failed`, ms: ctx.clock.now() - started, ok: false });
    throw e;
  }
}

/** A listener for a service's phases (compose's lines, waiting), or undefined when nobody takes progress. */
export function serviceReporter(ctx: Pick<CoreContext, 'progress'>, shared = false): ((service: string, phase: ServicePhase, detail?: string) => void) | undefined {
  const report = ctx.progress;
  if (!report) return undefined;
  return (service, phase, detail) => report({ type: 'service', service, phase, ...(detail !== undefined ? { detail } : {}), ...(shared ? { shared } : {}) } satisfies ProgressEvent);
}
