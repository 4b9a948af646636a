/**
 * The plain shape of a compose model as `docker compose config --format json` prints it (only what
 * cilo touches is typed), and of a compose invocation's target. The compose adapter checks the
 * printed model against it; the rules that render generated models work on it.
 */
export interface ComposeTarget {
  /** Compose project name (`cilo-<project>-<env>`). */
  projectName: string;
  /** Compose files; empty means compose's own discovery in `cwd`. */
  files: string[];
  envFiles?: string[];
  /** Profiles to enable (`--profile`), in addition to COMPOSE_PROFILES from the environment or `.env`. */
  profiles?: string[];
  cwd: string;
  /** The engine compose drives (DOCKER_HOST), for an environment on a remote host; absent: the default one. */
  dockerHost?: string;
}

/** A compose model as printed by `config --format json` (only what cilo touches is typed). */
export interface ComposeService {
  image?: string;
  build?: unknown;
  ports?: { target?: number; published?: string | number; protocol?: string; host_ip?: string }[];
  expose?: (string | number)[];
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
  network_mode?: string;
  labels?: Record<string, string>;
  depends_on?: Record<string, { condition?: string; required?: boolean; restart?: boolean }>;
  container_name?: string;
  healthcheck?: { disable?: boolean; test?: unknown };
  restart?: string;
  profiles?: string[];
  [key: string]: unknown;
}

export interface ComposeModel {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, Record<string, unknown>>;
  volumes?: Record<string, Record<string, unknown> | null>;
  [key: string]: unknown;
}
