import type { ComposeTarget } from '../domain/compose-model.js';
import { CiloError } from '../errors.js';
import { runLimited, type LimitedResult } from '../proc/limited.js';
import { composeCommand } from './binary.js';
import { composeBaseArgs, composeEnv } from './cli.js';

/** A compose command whose output is collected (its end, within maxBytes) and that is killed after timeoutMs. */
export async function composeCaptureLimited(t: ComposeTarget, args: string[], opts: { timeoutMs: number; maxBytes: number }): Promise<LimitedResult> {
  const c = composeCommand();
  try {
    const env = composeEnv(t);
    return await runLimited(c.command, [...c.prefix, ...composeBaseArgs(t), ...args], { cwd: t.cwd, ...opts, ...(env ? { env } : {}) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CiloError('COMPOSE_MISSING', `${c.command} was not found.`, { hint: 'Install Docker with Compose v2 (`docker compose version` must work).' });
    }
    throw e;
  }
}
