/**
 * Cleanup after a failure: the original error is what the caller throws, but a cleanup step
 * that fails too is said (ctx.warn), never swallowed, with the command that finishes the job.
 */
import type { CoreContext } from './context.js';

export async function cleanupStep(ctx: Pick<CoreContext, 'warn'>, what: string, step: () => Promise<unknown>): Promise<void> {
  try {
    await step();
  } catch (e) {
    ctx.warn(`${what} failed too: ${e instanceof Error ? e.message : String(e)} (run \`cilo doctor --fix\` to finish it).`);
  }
}
