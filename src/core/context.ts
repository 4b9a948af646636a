import { DockerClient } from '../docker/client.js';
import { ciloPaths, type CiloPaths } from '../state/paths.js';

/** What every use-case needs from the outside; pass your own to use cilo as a library. */
export interface CoreContext {
  paths: CiloPaths;
  docker: DockerClient;
  /** Progress for a person (stderr in the CLI, only on a terminal). */
  log: (line: string) => void;
  /** Things a person must see even when nobody watches progress (stderr in the CLI, always). */
  warn: (line: string) => void;
}

export function defaultContext(overrides: Partial<CoreContext> = {}): CoreContext {
  return {
    paths: overrides.paths ?? ciloPaths(),
    docker: overrides.docker ?? new DockerClient(),
    log: overrides.log ?? (() => undefined),
    warn: overrides.warn ?? (() => undefined),
  };
}
