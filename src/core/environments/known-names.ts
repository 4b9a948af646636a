/** The names of this home's state that shell completion offers. */
import type { State } from '../../domain/state.js';
import { ciloPaths, type CiloPaths } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import { findEnv } from './lookup.js';

export interface KnownNames {
  envs(): string[];
  services(env: string): string[];
  shared(): string[];
  projects(): string[];
}

/** Names from state, read once, on the first call; a missing or unreadable state gives none. */
export function knownNames(paths: CiloPaths = ciloPaths()): KnownNames {
  let state: State | undefined;
  let read = false;
  const get = (): State | undefined => {
    if (!read) {
      read = true;
      try {
        state = readState(paths);
      } catch {
        state = undefined;
      }
    }
    return state;
  };
  return {
    envs: () => Object.keys(get()?.environments ?? {}),
    services: (env) => {
      const s = get();
      if (!s) return [];
      try {
        return Object.keys(findEnv(s, env).services);
      } catch {
        return [];
      }
    },
    shared: () => Object.values(get()?.shared_services ?? {}).map((x) => x.service),
    projects: () => Object.values(get()?.environments ?? {}).map((e) => e.project),
  };
}
