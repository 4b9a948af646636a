/** This machine's site: its engine as wired in the context; the workspace is where the engine reads it. */
import { CiloError } from '../../errors.js';
import type { CoreContext } from '../context.js';
import type { Site } from './site.js';

export function localSite(ctx: CoreContext): Site {
  return {
    ...ctx.local,
    host: undefined,
    label: 'this machine',
    copiesWorkspace: false,
    syncWorkspace: async () => undefined,
    bindModel: (_env, model) => model,
    removeWorkspace: async () => undefined,
    refuse: () => undefined,
    forwardLoopback: async () => undefined,
    cancelLoopback: async () => undefined,
    forget: async () => undefined,
  };
}

/** Thrown by the sites' rule for an engine that took too long to answer (core/sites/reach.ts). */
export function siteSilent(label: string, ms: number): CiloError {
  return new CiloError('HOST_UNREACHABLE', `${label[0]?.toUpperCase()}${label.slice(1)} did not answer within ${Math.round(ms / 1000)} s.`, {
    hint: 'Check the host and its network (`cilo host status <name>`), then retry.',
  });
}
