/**
 * The plain shapes of what the Docker Engine API answers, as far as cilo reads them. The
 * Engine adapter (docker/client.ts) checks each response against them before handing it on.
 */
export type Filters = Record<string, string[]>;

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; NetworkID?: string; EndpointID?: string }> };
  /** Its published ports (the router's checks). */
  Ports?: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; OOMKilled?: boolean; StartedAt?: string; Health?: { Status: string; Log?: { Output: string }[] | null } };
  Config: { Labels: Record<string, string> | null; Image: string; Env?: string[] | null };
  /** The restart policy's name: '' or `no`, `always`, `unless-stopped`, `on-failure`. */
  HostConfig?: { RestartPolicy?: { Name?: string } };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null; NetworkID: string }> };
  RestartCount?: number;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  Labels: Record<string, string> | null;
  IPAM: { Config: { Subnet?: string; Gateway?: string }[] | null };
  Containers?: Record<string, { Name: string; IPv4Address: string }>;
}

export interface VolumeInfo {
  Name: string;
  Labels: Record<string, string> | null;
}

export interface VolumeInspect extends VolumeInfo {
  Driver: string;
  /** Its directory on the engine's machine (for the local driver, under the data root). */
  Mountpoint: string;
  /** Driver options: a local volume with `device` is a mount of something else. */
  Options?: Record<string, string> | null | undefined;
}

/** One event of the Engine's `/events` stream, as far as cilo reads it. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export interface LogStreamOptions {
  /** Lines from the end to start with (default: all). */
  tail?: number | undefined;
  /** Keep the stream open and pass on new lines until it is aborted. */
  follow?: boolean | undefined;
  /** Only lines written at or after this time (Unix seconds). */
  since?: number | undefined;
}

/** The engine's `/info`, as much of it as cilo reads. */
export interface EngineInfo {
  ServerVersion: string;
  /** Unique per engine: it tells two engines apart. */
  ID?: string | undefined;
  Name?: string | undefined;
  /** `name=rootless` among them: the engine runs as a user, and cannot publish ports below 1024. */
  SecurityOptions?: string[] | null | undefined;
  /** The memory of the engine's machine (or VM), in bytes. */
  MemTotal?: number | undefined;
  NCPU?: number | undefined;
}

/** One sample of a container's resource use (`GET /containers/{id}/stats?stream=false&one-shot=true`), as far as cilo reads it. */
export interface ContainerStats {
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number | undefined; online_cpus?: number | undefined };
  memory_stats: { usage?: number | undefined; limit?: number | undefined; stats?: Record<string, number> | undefined };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null | undefined } | undefined;
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }> | undefined;
}
