/**
 * The plain shape of a project's `.cilo/config.yml`. The config adapter (config/schema.ts)
 * validates the file against it.
 */
export interface RenderRule {
  file: string;
  tokens?: boolean | undefined;
  replace?: { from: string; to: string }[] | undefined;
}

export interface EnvConfig {
  copy_mode?: 'all' | 'none' | 'allowlist' | undefined;
  copy?: string[] | undefined;
  ignore?: string[] | undefined;
  init_hook?: string | undefined;
  render?: RenderRule[] | undefined;
}

import type { ServiceShareConfig } from './datasets.js';

export interface ProjectConfig {
  project?: string | undefined;
  /** Written by the original's `cilo setup` (always `docker`); cilo always runs `docker compose`. */
  build_tool?: string | undefined;
  compose_files?: string[] | undefined;
  env_files?: string[] | undefined;
  dns_suffix?: string | undefined;
  default_environment?: string | undefined;
  default_ingress_service?: string | undefined;
  hostnames?: string[] | undefined;
  /** The original's list of environment names (shown by its `cilo config`); cilo's come from its state. */
  environments?: string[] | undefined;
  copy_dot_dirs?: string[] | undefined;
  ignore_dot_dirs?: string[] | undefined;
  shared_grace_period?: number | string | undefined;
  /** Pause environments unused for this long (`10m`, `1h`, `0`: never); `up --idle-pause` overrides it (issue #26). */
  idle_pause?: number | string | undefined;
  env?: EnvConfig | undefined;
  /** Per-service sharing and private datasets, the same keys as the `cilo.share.*` labels. */
  services?: Record<string, ServiceShareConfig> | undefined;
  /** Where new environments run: `in-place` (on the source directory) or `copy`; absent: in place in a linked git worktree, else a copy. */
  workspace?: 'in-place' | 'copy' | undefined;
}

/**
 * Keys of the original cilo's config that cilo accepts but does not act on, each with why, for
 * a warning. `build_tool: docker` (what the original's `setup` always writes) is what cilo
 * does anyway, so only another tool is worth a word.
 */
export function ineffectiveKeys(config: ProjectConfig): { key: string; why: string }[] {
  const out: { key: string; why: string }[] = [];
  if (config.build_tool !== undefined && config.build_tool.trim().toLowerCase() !== 'docker') {
    out.push({ key: 'build_tool', why: `cilo always runs \`docker compose\`, so "build_tool: ${config.build_tool}" has no effect` });
  }
  if (config.environments !== undefined) {
    out.push({ key: 'environments', why: 'cilo lists environments from its state (`cilo list`), so "environments" has no effect' });
  }
  return out;
}
