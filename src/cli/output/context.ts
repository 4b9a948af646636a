import type { CoreContext } from '../../core/context.js';
import { defaultContext } from '../../default-context.js';
import { progress, warn } from './print.js';

/**
 * The core context of a CLI command: progress on a terminal, warnings always, both on stderr.
 * Apart from print.ts, which every start loads (for errors): the core context brings the
 * Engine client and state paths, which `--version` and `--help` do not need.
 */
export function cliContext(overrides: Partial<CoreContext> = {}): CoreContext {
  return defaultContext({ log: progress, warn, ...overrides });
}
