import type { ProgressEvent } from '../domain/progress.js';
import type { CiloPaths } from '../state/paths.js';
import type { Activity, Clock, DashboardServer, LocalCa, DatasetEngines, DnsAdmin, DnsControl, EnginePorts, Git, Processes, RemoteHosts, Workspaces } from './ports.js';

/**
 * What every use-case needs from the outside. Core reaches Docker, compose, the DNS server, git,
 * other programs, workspace trees and host routes only through these; state and the project's
 * config are files under `paths` read through their modules' locked transactions.
 * `defaultContext()` (src/default-context.ts) wires the real implementations; a library user or
 * a test passes its own.
 */
export interface CoreContext {
  paths: CiloPaths;
  /**
   * This machine's engine. Use-cases do not reach it from here: they ask which engine an
   * environment runs on (`atSite`, core/sites) and use `ctx.site`. Only the sites module and
   * the few that compare this machine with a host (`cilo host add`) read it.
   */
  local: EnginePorts;
  /** The engines of private datasets, driven through a site's exec. */
  datasetEngines: DatasetEngines;
  dns: DnsControl;
  /** The DNS server's process, log and system resolver set-up, as `cilo dns` manages them. */
  dnsAdmin: DnsAdmin;
  /** The dashboard's HTTP server (`cilo ui`). */
  dashboard: DashboardServer;
  /** cilo's local certificate authority (HTTPS through the router). */
  ca: LocalCa;
  git: Git;
  proc: Processes;
  workspaces: Workspaces;
  /** Remote engines (`cilo host`), reached over SSH. */
  remote: RemoteHosts;
  /** When environments were last used (idle pause, issue #26). */
  activity: Activity;
  /** The wall clock: core reads the time only here (a test sets it). */
  clock: Clock;
  /** Progress for a person (stderr in the CLI, only on a terminal). */
  log: (line: string) => void;
  /** Things a person must see even when nobody watches progress (stderr in the CLI, always). */
  warn: (line: string) => void;
  /**
   * Structured progress of a long use-case (`up`'s steps with their durations, each service's
   * phase, how far a long step is): see core/progress.ts. Absent (the MCP server, a library
   * user, commands that do not draw it): those steps say what they start through `log`, as
   * plain lines, instead.
   */
  progress?: ((e: ProgressEvent) => void) | undefined;
}

/** The clock's time as an ISO 8601 string, as state records it. */
export function isoNow(ctx: Pick<CoreContext, 'clock'>): string {
  return new Date(ctx.clock.now()).toISOString();
}
