/**
 * A site: the engine an environment runs on, and what differs between this machine's and a
 * remote host's. Use-cases take a `SiteContext` (a context with its site) from `atSite` and
 * reach the engine only through `ctx.site`; the plain `CoreContext` has no engine of its own,
 * so forgetting to ask which engine an environment runs on is a type error, not a silent act on
 * this machine's.
 */
import type { ComposeModel } from '../../domain/compose-model.js';
import type { EnvironmentState } from '../../domain/state.js';
import type { CoreContext } from '../context.js';
import type { EnginePorts } from '../ports.js';

export interface Site extends EnginePorts {
  /** The remote host's name; undefined for this machine. */
  readonly host: string | undefined;
  /** `this machine` or `host <name>`, for messages. */
  readonly label: string;
  /** Whether `syncWorkspace` copies anything (a host's engine reads a copy; this machine's the workspace itself). */
  readonly copiesWorkspace: boolean;
  /** Puts the environment's workspace where this engine reads its bind mounts (a host gets a synced copy). */
  syncWorkspace(env: EnvironmentState): Promise<void>;
  /** The model with bind mounts pointing where this engine finds the workspace's files. */
  bindModel(env: EnvironmentState, model: ComposeModel): ComposeModel;
  /** Removes what `syncWorkspace` made (nothing here: the workspace itself is removed with the environment). */
  removeWorkspace(env: EnvironmentState): Promise<void>;
  /**
   * Refuses, before anything is made, what this site cannot do: snapshots of a host's
   * environment (kept on this machine, away from its volumes), shared services that bind-mount
   * files on a host (only workspaces are synced there).
   */
  refuse(what: SiteRefusal): void;
  /**
   * Makes these ports of the engine machine's 127.0.0.1 answer on this machine's 127.0.0.1 (the
   * router's, a database's): nothing to do for this machine; forwarded through the SSH connection
   * for a host (issue #25).
   */
  forwardLoopback(ports: number[]): Promise<void>;
  /** Ends forwards that `forwardLoopback` made (ports that went away); nothing to do for this machine. */
  cancelLoopback(ports: number[]): Promise<void>;
  /** Ends the connection after the site went silent, so the next command starts a fresh one. */
  forget(): Promise<void>;
}

export type SiteRefusal =
  | { kind: 'snapshot'; env: Pick<EnvironmentState, 'name'>; action: string }
  | { kind: 'shared-binds'; env: string; services: string[] };

/** A context with the site its work runs on. */
export interface SiteContext extends CoreContext {
  site: Site;
}
