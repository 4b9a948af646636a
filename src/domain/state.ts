/**
 * The plain shape of cilo's state (`$CILO_HOME/state.json`, version 3). The state adapter
 * validates the file against it (state/schema.ts); everything above reads these types.
 */
import type { EngineKind, IsolationKind } from './dataset-kinds.js';
import type { RoutingSettings } from './routing.js';

export const STATE_VERSION = 3;
export const DEFAULT_BASE_SUBNET = '10.224.0.0/16';
export const DEFAULT_DNS_PORT = 5354;
export const DEFAULT_DNS_SUFFIX = '.test';

export const ENV_STATUSES = ['creating', 'created', 'starting', 'running', 'paused', 'stopped', 'error', 'destroying'] as const;
export type EnvStatus = (typeof ENV_STATUSES)[number];

export interface ServiceState {
  /** Its fixed address; for a replicated service, its first replica's (empty until it ran). */
  ip: string;
  type: 'isolated' | 'shared';
  /** The container port a URL should name (first `ports` target, else first `expose`). */
  port?: number | undefined;
  /** A service with several replicas: each replica's address, as the engine assigned it at the last `up`. */
  replicas?: string[] | undefined;
  /** The service's own `cilo.hostnames` (not the ingress's: those are the environment's `hostnames`), served as `<name>.<env><suffix>`. */
  hostnames?: string[] | undefined;
  /**
   * Its ports that are not HTTP (databases, queues), published on 127.0.0.1 for the host: the
   * container port (`5432`, `53/udp`) to the loopback port cilo chose, kept across down/up.
   */
  host_ports?: Record<string, number> | undefined;
}

export interface ShareFlags {
  shared: string[];
  isolate: string[];
}

export interface EnvironmentState {
  name: string;
  project: string;
  source: string;
  workspace: string;
  subnet: string;
  dns_suffix: string;
  status: EnvStatus;
  created_at: string;
  updated_at: string;
  /** IPs assigned to services on this environment's network; kept across down/up. */
  services: Record<string, ServiceState>;
  ingress: string | null;
  hostnames: string[];
  /** Hostnames added with `cilo hostnames` (kept by `up`, which recomputes `hostnames` as config + labels + these). */
  custom_hostnames?: string[] | undefined;
  /** Shared services (by service name) this environment holds a reference to. */
  shared: string[];
  last_error?: string | undefined;
  /** --shared / --isolate of the last up that gave them; later ups without flags reuse them. */
  share_flags?: ShareFlags | undefined;
  /** --profile of the last up that gave it; later ups without it reuse them (as --shared). */
  profiles?: string[] | undefined;
  /** The remote host (`cilo host add`) whose engine runs it; absent: this machine's engine. */
  host?: string | undefined;
  /** Private datasets in shared engines (issue #15), by shared service. */
  datasets?: Record<string, DatasetState> | undefined;
  /**
   * Recorded before a fork (issue #17) copies anything into it: the environment (and snapshot)
   * it is made from. A fork killed while the source was frozen leaves it `creating` with this,
   * and `doctor --fix` thaws the source and removes the half-made copy.
   */
  fork?: { from: string; snapshot?: string | undefined } | undefined;
  /**
   * `in-place` (issue #28): `workspace` is the source directory itself, never copied, changed
   * or removed by cilo; absent: a copy under CILO_HOME (`copy`).
   */
  workspace_mode?: 'copy' | 'in-place' | undefined;
  /** Memory its containers used when last measured (an admission check reads it, issue #26): the next `up`'s estimate. */
  memory_bytes?: number | undefined;
  /** The estimate it was admitted with under a memory budget: counted while it runs if it uses less now. */
  memory_admitted?: number | undefined;
  /**
   * Idle pause (issue #26), in seconds, as its last `up` resolved it (flag, config, home
   * default): the supervisor pauses it after this long unused. Absent or 0: never.
   */
  idle_pause_seconds?: number | undefined;
  /** `--idle-pause` of the last `up` that gave it (seconds): later ups without it keep it, over the config and the home's default. */
  idle_pause_flag?: number | undefined;
  /** Who paused it (status `paused`): `idle` (the supervisor; woken by its first use) or `user` (`down --pause`). */
  paused_by?: 'idle' | 'user' | undefined;
  /** When it was paused (status `paused`). */
  paused_at?: string | undefined;
}

export const DATASET_STATUSES = ['creating', 'ready', 'dropping'] as const;

/**
 * One environment's private dataset in a shared engine. Recorded `creating` before it is made
 * and `dropping` before it is dropped, so `doctor --fix` can finish a killed command.
 */
export interface DatasetState {
  engine: EngineKind;
  kind: IsolationKind;
  /** The database name, or the redis index. */
  name: string;
  /** The template it was cloned from; null when it started empty or from another environment. */
  template: string | null;
  status: (typeof DATASET_STATUSES)[number];
  keep?: boolean | undefined;
  /** Values rewritten in the generated model to name it, passwords masked. */
  rewrites?: { service: string; variable: string; from: string; to: string }[] | undefined;
  /**
   * The shared container (`<id>@<start time>`) the last `up` found it in: resuming a paused
   * environment does not ask the engine again while that same container runs.
   */
  seen_in?: string | undefined;
  created_at: string;
}

export interface SharedServiceState {
  project: string;
  service: string;
  container: string;
  config_hash: string;
  /** The resolved definition, kept so a conflict can say what differs. */
  definition?: unknown;
  users: string[];
  /** Its IP on each user environment's network. */
  ips: Record<string, string>;
  /** Its aliases on each user's network besides its name (declared `aliases:`, `links:`). */
  aliases?: string[] | undefined;
  grace_seconds: number;
  grace_until: string | null;
  created_at: string;
  /** The remote host whose engine runs it; absent: this machine's. */
  host?: string | undefined;
  /**
   * Its non-HTTP ports published once on 127.0.0.1 (container port -> loopback port, issue #25),
   * chosen per shared service (not per environment); every user's `host_ports` of it shows these.
   */
  host_ports?: Record<string, number> | undefined;
}

export const HOST_TRANSPORTS = ['ssh', 'wireguard'] as const;
export type HostTransport = (typeof HOST_TRANSPORTS)[number];

/** A remote Docker engine reached over SSH (`cilo host add`). */
export interface HostState {
  name: string;
  /** The SSH destination, `ssh://user@box[:port]`. */
  ssh: string;
  /** The Docker context it was added from, when it was given as one. */
  context?: string | undefined;
  /** A private key for SSH (`--identity`); absent: SSH's own defaults. */
  identity?: string | undefined;
  /** The engine's socket on the remote machine. */
  remote_socket: string;
  /** Where workspaces are synced to on the remote machine (absolute). */
  remote_root: string;
  /** The engine's ID, unique among the engines this cilo uses. */
  engine_id: string;
  /** The range the host's environments take their /24s from (its last /24 is the tunnel's). */
  subnet: string;
  transport: HostTransport;
  /**
   * A SOCKS5 proxy on 127.0.0.1 that the SSH connection serves (`ssh -D`): connections through
   * it are made from the host, so its containers' addresses answer without root anywhere.
   */
  socks_port?: number | undefined;
  added_at: string;
}

/**
 * The source directory a project name belongs to: a project is its name *and* its source, so
 * two directories with one name never share environments, shared services or datasets. The
 * claim holds while the project has environments; after that the next source may take it.
 */
export interface ProjectState {
  /** The canonical (real) path of the source directory that claimed the name. */
  source: string;
  claimed_at: string;
}

export interface State {
  version: typeof STATE_VERSION;
  base_subnets: string[];
  dns_port: number;
  environments: Record<string, EnvironmentState>;
  shared_services: Record<string, SharedServiceState>;
  /** Remote engines by name; absent in a state that never had one. */
  hosts?: Record<string, HostState> | undefined;
  /** Each project name's source (see ProjectState); absent in a state written before it was kept. */
  projects?: Record<string, ProjectState> | undefined;
  /** How the host reaches environments (`cilo init --routing`, issue #25); absent: auto on 80/443. */
  routing?: RoutingSettings | undefined;
  /** The DNS suffix of projects whose config names none (`cilo init --dns-suffix`); absent: `.test`. */
  dns_suffix?: string | undefined;
  /** `cilo init --memory-budget` (issue #26), as typed: `6g`, `60%`; absent: no budget. */
  memory_budget?: string | undefined;
  /** Memory measured per image in environments that ran it: the estimate of a service with no limit. */
  image_memory?: Record<string, number> | undefined;
  /** Admissions of `up`s still starting, by id: counted until their up ends (a dead pid's is not). */
  memory_reservations?: Record<string, MemoryReservation> | undefined;
  /** `cilo init --idle-pause` (issue #26): the idle pause, in seconds, of environments whose `up` and config give none. */
  idle_pause_default?: number | undefined;
}

export interface MemoryReservation {
  env: string;
  pid: number;
  bytes: number;
  /** The engine it is on (a host's name); absent: this machine's. */
  host?: string | undefined;
  at: string;
}

/**
 * A shared service's key in state: one per project and service on each engine (`<project>/<service>`
 * on this machine, `<project>@<host>/<service>` on a remote host).
 */
export function sharedKey(project: string, service: string, host?: string): string {
  return host ? `${project}@${host}/${service}` : `${project}/${service}`;
}
