import type { CiloPaths } from '../state/paths.js';
import type { Compose, ContainerExec, DatasetEngines, DnsControl, Engine, Git, HostNetwork, Processes, RemoteHosts, VolumeData, Workspaces } from './ports.js';

/**
 * What every use-case needs from the outside. Core reaches Docker, compose, the DNS server, git,
 * other programs, workspace trees and host routes only through these; state and the project's
 * config are files under `paths` read through their modules' locked transactions.
 * `defaultContext()` (src/default-context.ts) wires the real implementations; a library user or
 * a test passes its own.
 */
export interface CoreContext {
  paths: CiloPaths;
  docker: Engine;
  /** Programs inside running containers (SQL and redis commands in shared engines). */
  exec: ContainerExec;
  /** The engines of private datasets, driven through an exec such as `exec`. */
  datasetEngines: DatasetEngines;
  compose: Compose;
  dns: DnsControl;
  git: Git;
  proc: Processes;
  workspaces: Workspaces;
  /** Contents of volumes (fork and snapshots). */
  volumes: VolumeData;
  host: HostNetwork;
  /** Remote engines (`cilo host`), reached over SSH. */
  remote: RemoteHosts;
  /** Progress for a person (stderr in the CLI, only on a terminal). */
  log: (line: string) => void;
  /** Things a person must see even when nobody watches progress (stderr in the CLI, always). */
  warn: (line: string) => void;
}
