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
  compose_files?: string[] | undefined;
  env_files?: string[] | undefined;
  dns_suffix?: string | undefined;
  default_environment?: string | undefined;
  default_ingress_service?: string | undefined;
  hostnames?: string[] | undefined;
  copy_dot_dirs?: string[] | undefined;
  ignore_dot_dirs?: string[] | undefined;
  shared_grace_period?: number | string | undefined;
  env?: EnvConfig | undefined;
  /** Per-service sharing and private datasets, the same keys as the `cilo.share.*` labels. */
  services?: Record<string, ServiceShareConfig> | undefined;
}
