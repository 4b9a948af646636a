/**
 * The outside world as core sees it: one small interface per boundary, each with its one real
 * implementation in an adapter folder (wired in src/default-context.ts). Core calls these and
 * never spawns a process, opens a socket or imports an adapter's code itself; a test passes
 * its own object for any of them.
 */
import type { ComposeModel, ComposeTarget } from '../domain/compose-model.js';
import type { DatasetEngine, EngineTarget } from '../domain/dataset-engine.js';
import type { ContainerInspect, ContainerStats, ContainerSummary, EngineEvent, EngineInfo, Filters, LogStreamOptions, NetworkInspect, VolumeInfo, VolumeInspect } from '../domain/engine.js';
import type { HostState } from '../domain/state.js';
import type { LoopbackPortState } from '../domain/routing-choice.js';
import type { UserKnownEntries } from '../domain/hosts.js';
import type { DnsStartResult, DnsStatus, DnsStopResult } from '../dns/daemon.js';
import type { SetupInput, SetupResult, UninstallResult } from '../dns/resolver.js';
import type { ServeOptions } from '../dns/serve.js';
import type { ContainerExecOptions, ContainerExecResult } from '../docker/exec.js';
import type { CaptureResult } from '../proc/run.js';
import type { ConnectOutcome } from '../host/reach.js';
import type { CopiedRepo, CopyOptions, CopyResult } from '../workspace/copy.js';
import type { UiInstance, UiStartResult, UiStopResult } from '../ui/daemon.js';
import type { UiServer, UiServerOptions } from '../ui/server.js';
import type { DataTree, VolumeCopyMethod } from '../workspace/volume-copy.js';

/** The Docker Engine API. Refusals are `DockerApiError`s (errors.ts) with the HTTP status. */
export interface Engine {
  /** Checks the engine answers; resolves with the negotiated API version. */
  ping(): Promise<string>;
  /** The engine's version, and its ID (unique per engine: it tells two engines apart) and name. */
  info(): Promise<EngineInfo>;
  listNetworks(filters?: Filters): Promise<NetworkInspect[]>;
  inspectNetwork(name: string): Promise<NetworkInspect | null>;
  /**
   * A labelled bridge network; without a subnet, Docker picks one from its default pools.
   * `ipRange` is the part of the subnet the engine assigns addresses from by itself.
   */
  createNetwork(name: string, labels: Record<string, string>, ipam?: { subnet: string; gateway: string; ipRange?: string }): Promise<string>;
  removeNetwork(name: string): Promise<boolean>;
  connectNetwork(network: string, container: string, ip: string | undefined, aliases: string[]): Promise<void>;
  disconnectNetwork(network: string, container: string, force?: boolean): Promise<void>;
  listContainers(filters?: Filters, all?: boolean): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string): Promise<ContainerInspect | null>;
  /** One sample of a running container's CPU, memory, block and network use; null when it is gone or not running. */
  containerStats(id: string): Promise<ContainerStats | null>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  containerLogs(id: string, tail?: number): Promise<string>;
  /**
   * A container's log line by line (stdout and stderr, without the line end) until it ends
   * or `signal` aborts; resolves then. Follows new lines with `follow`.
   */
  streamLogs(id: string, opts: LogStreamOptions, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
  /** The Engine's event stream (filtered) until `signal` aborts or the connection drops; resolves then. */
  watchEvents(filters: Filters, onEvent: (e: EngineEvent) => void, signal: AbortSignal): Promise<void>;
  listVolumes(filters?: Filters): Promise<VolumeInfo[]>;
  inspectVolume(name: string): Promise<VolumeInspect | null>;
  /** A labelled local volume; an existing one is returned as it is. */
  createVolume(name: string, labels: Record<string, string>): Promise<VolumeInspect>;
  removeVolume(name: string): Promise<void>;
}

export interface ComposeUpOptions {
  build?: boolean | undefined;
  forceRecreate?: boolean | undefined;
  onStderr?: ((chunk: string) => void) | undefined;
  /** Told the container's name and compose's status word of each line about a container (they then skip `onStderr`). */
  onContainer?: ((container: string, word: string) => void) | undefined;
  /**
   * Start only these services, without their dependencies, leaving the project's other
   * services alone (shared services live in one compose project per cilo project).
   */
  only?: string[] | undefined;
}

/** The compose tool: it resolves and runs models; cilo never reads compose YAML itself. */
export interface Compose {
  resolveModel(target: ComposeTarget): Promise<ComposeModel>;
  up(target: ComposeTarget, opts?: ComposeUpOptions): Promise<void>;
  stop(target: ComposeTarget, timeoutSeconds?: number): Promise<void>;
  /** Runs compose attached to the terminal (logs, exec, any command) and returns its exit status. */
  passthrough(target: ComposeTarget, args: string[], opts?: PassthroughOptions): Promise<number>;
  /** `compose version --short`, or undefined when compose cannot be run. */
  version(): Promise<string | undefined>;
  /**
   * Runs a compose command with its output collected, not shown (logs and exec for agents):
   * at most `maxBytes` of each stream are kept, the end; killed after `timeoutMs`.
   */
  captureLimited(target: ComposeTarget, args: string[], opts: LimitedRunOptions): Promise<LimitedRun>;
}

export interface PassthroughOptions {
  /** Remove terminal control sequences from compose's stdout (for a reader that is not a terminal). */
  plainStdout?: boolean | undefined;
}

export interface LimitedRunOptions {
  timeoutMs: number;
  maxBytes: number;
}

export interface LimitedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Bytes dropped from the start of stdout and stderr to keep each within maxBytes. */
  droppedBytes: number;
}

export interface DnsServerStatus {
  running: boolean;
  answering: boolean;
  port: number;
}

/** The control of cilo's DNS server process (not the server itself). */
export interface DnsControl {
  /** Starts the server unless it already answers. */
  ensureRunning(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<DnsServerStatus>;
  /** The IPv4 addresses the server on `port` answers for `name`; none when it does not answer. */
  lookup(port: number, name: string, timeoutMs: number): Promise<string[]>;
  /** True when another program holds the UDP port on loopback. */
  portTaken(port: number): Promise<boolean>;
  /** Whether this machine's own resolver (not cilo's server) answers `name` within `timeoutMs`. */
  systemResolves(name: string, timeoutMs: number): Promise<boolean>;
}

/** git, always as a program with an argument array and no prompts. */
export interface Git {
  /** True when `dir` is the top of a git working tree. */
  isRepo(dir: string): Promise<boolean>;
  /** Runs `git -C dir args...`; resolves whatever the exit code. */
  run(dir: string, args: string[]): Promise<CaptureResult>;
  /** Runs git and returns its stdout; a non-zero exit is a GIT_FAILED error naming `what`. */
  out(dir: string, args: string[], what: string): Promise<string>;
  /** The commit HEAD points at, or null in a repository without commits. */
  headCommit(dir: string): Promise<string | null>;
  /** The checked-out branch, or null on a detached HEAD. */
  currentBranch(dir: string): Promise<string | null>;
  hasCommit(dir: string, sha: string): Promise<boolean>;
  isAncestor(dir: string, ancestor: string, of: string): Promise<boolean>;
  /**
   * `git diff <args> <base>` of the working tree, untracked files included (ignored ones not):
   * committed and uncommitted changes in one diff. The repository's index is not touched.
   */
  diffWorktree(dir: string, base: string, args: string[], pathspec: string[]): Promise<string>;
  /** `git diff --no-index <args>` of two files (null: absent), both named `label` as inside one tree. */
  diffFiles(from: string | null, to: string | null, label: string, args: string[]): Promise<string>;
}

export interface HiddenRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

export type ProgramLookup = { found: true; path: string } | { found: false; reason: 'missing' | 'not-executable' };

/** Other programs: hooks whose output is never shown, and commands attached to the terminal. */
export interface Processes {
  /** Output discarded (a hook may print secrets), stdin closed; rejects only if it cannot start. */
  runHidden(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<HiddenRun>;
  /** Inherits the terminal, forwards signals; resolves with the exit status (128+N when killed). */
  runForeground(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; argv0?: string }): Promise<number>;
  /** Finds a program as a shell would (a path, or a name searched in `pathVar`). */
  findProgram(command: string, cwd: string, pathVar: string | undefined): Promise<ProgramLookup>;
}

/** Workspace trees on this machine's file system. */
export type { CopiedRepo };

export interface Workspaces {
  copy(src: string, dst: string, opts?: CopyOptions): Promise<CopyResult>;
  /** Removes a tree, also one with read-only directories; a missing path is fine. */
  remove(path: string): Promise<void>;
}

/**
 * How a tree of volume data was copied (`reflink`: a copy-on-write clone of every file; `copy`:
 * `cp -a` by this process; `container`: by a helper container where cilo cannot reach the
 * volume's directory), and a tree: a Docker volume by name, or a directory on this machine.
 */
export type { VolumeCopyMethod, DataTree };

/** Volume data: copied keeping owners, modes, symlinks, hard links and holes. */
export interface VolumeData {
  /**
   * Copies the contents of `from` into `to`, which must be empty. `image` is the helper
   * container's image when one is needed (an image the engine already has).
   */
  copy(from: DataTree, to: DataTree, opts: { image: string }): Promise<{ method: VolumeCopyMethod }>;
  /** Removes everything inside `tree`, keeping the tree itself. */
  empty(tree: DataTree, opts: { image: string }): Promise<void>;
}

/**
 * The wall clock: when things happen (timestamps written to state, grace periods and their
 * reaping, snapshot names). Not for timing work or bounding a wait on the engine: those measure
 * real time as it passes.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/**
 * When each environment was last used (issue #26): `exec`, `run`, `logs -f`, MCP calls, DNS
 * queries and router requests touch it; the supervisor pauses environments unused for their
 * idle pause. Recorded per CILO_HOME on this machine, for environments on hosts too.
 */
export interface Activity {
  /** Records a use of the environment now. Cheap (no lock, no state write) and never throws. */
  touch(env: string): void;
  /** When it was last touched, in ms since the epoch; null if never. */
  last(env: string): number | null;
  /** Forgets it (destroy). Never throws. */
  forget(env: string): void;
}

/** What the host's network already uses. */
export interface HostNetwork {
  /** The subnets of the host's routes (Linux); none elsewhere. */
  routeSubnets(): Promise<string[]>;
  /**
   * A TCP connect from this process (this machine, whichever engine the site is) to a container's
   * address, closed at once: whether this machine reaches container addresses (issue #25).
   */
  connect(ip: string, port: number, timeoutMs: number): Promise<ConnectOutcome>;
  /**
   * A TLS handshake with this machine's 127.0.0.1:`port` for `servername`, the certificate not
   * checked: the loopback router issues a name's certificate at its first handshake, and `up`
   * makes that happen before it returns. Absent (a stand-in): nothing is warmed.
   */
  tlsHandshake?(port: number, servername: string, timeoutMs: number): Promise<ConnectOutcome>;
  /**
   * Whether a TCP port on 127.0.0.1 of the machine cilo runs on can be bound by cilo's user
   * (the router's ports, `cilo init`). Absent where that machine is not the engine's (a remote site).
   */
  loopbackPort?(port: number): Promise<LoopbackPortState>;
  /**
   * Whether nothing listens on this machine's 127.0.0.1:`port` now (a bind test), for the
   * loopback ports cilo publishes (issue #25). Absent (a stand-in): every port counts as free.
   */
  loopbackPortFree?(port: number): Promise<boolean>;
}

export type { ConnectOutcome };

/**
 * One engine and what runs against it: this machine's (wired in src/default-context.ts) or a
 * remote host's through its SSH connection. Core reaches them through a site (core/sites).
 */
export interface EnginePorts {
  docker: Engine;
  compose: Compose;
  /** Programs inside running containers (SQL and redis commands in shared engines). */
  exec: ContainerExec;
  /** Contents of volumes (fork and snapshots). */
  volumes: VolumeData;
  /** The routes of the machine the engine runs on, which its networks must avoid. */
  routes: HostNetwork;
}

/** Programs run inside a running container, as an argument array (never a shell string built from input). */
export interface ContainerExec {
  run(container: string, argv: string[], opts?: ContainerExecOptions): Promise<ContainerExecResult>;
}

/**
 * The engines behind private datasets (datasets/engines.ts): SQL and redis commands run through
 * `exec` inside a shared service's container. Opening one loads the adapter, nothing more: no
 * command runs until a method is called.
 */
export interface DatasetEngines {
  open(exec: ContainerExec, target: EngineTarget): Promise<DatasetEngine>;
}

/** What the SSH adapter needs to reach a host. */
export type HostLink = Pick<HostState, 'name' | 'ssh' | 'identity' | 'remote_socket' | 'socks_port'>;

export interface HostKey {
  /** The known_hosts line, as ssh-keyscan printed it. */
  line: string;
  fingerprint: string;
  type: string;
}

/**
 * Remote Docker engines over SSH: one reused connection per host (its engine socket forwarded
 * to a local one), host keys checked against cilo's own known_hosts, workspace sync, and the
 * WireGuard tunnel that makes the host's container addresses reachable from here.
 */
export interface RemoteHosts {
  /** The endpoint of a Docker context (`ssh://...` for a remote one); undefined when there is no such context. */
  contextEndpoint(context: string): Promise<string | undefined>;
  scanHostKeys(ssh: string): Promise<HostKey[]>;
  /** A TCP port on 127.0.0.1 that nothing listens on now (for a host's SOCKS proxy). */
  freePort(): Promise<number>;
  /** Whether cilo's own known_hosts has a key for the destination. */
  isKnown(ssh: string): Promise<boolean>;
  /** The entries the user's own known_hosts files (`~/.ssh/known_hosts`, `~/.ssh/known_hosts2`) have for the destination. */
  userKnownEntries(ssh: string): Promise<UserKnownEntries[]>;
  /** Adds the lines to cilo's known_hosts; returns those it did not have yet (what a rollback removes). */
  trustHostKeys(lines: string[]): Promise<string[]>;
  /** Removes exactly these lines from cilo's known_hosts. */
  untrustHostKeys(lines: string[]): Promise<void>;
  forgetHostKeys(ssh: string): Promise<void>;
  /**
   * Opens (or reuses) the host's connection; an unreachable host fails within seconds. When a new
   * connection had to serve the SOCKS proxy on another port (something else listens on the
   * recorded one), `socksPort` is the port it serves now.
   */
  connect(host: HostLink): Promise<{ docker: Engine; dockerHost: string; volumes: VolumeData; socksPort?: number | undefined }>;
  disconnect(host: HostLink): Promise<void>;
  /** Ends the connection and removes cilo's files of the host here (its tunnel key, logs). */
  forgetHost(host: HostLink): Promise<void>;
  /** Runs a command on the host and returns its stdout; a failure is an error naming `what`. */
  run(host: HostLink, argv: string[], what: string): Promise<string>;
  /** Forwards 127.0.0.1:P here to 127.0.0.1:P on the host for each port, on the host's connection (idempotent). */
  forwardPorts(host: HostLink, ports: number[]): Promise<void>;
  /** Removes those forwards (ports no longer forwarded are fine). */
  cancelPorts(host: HostLink, ports: number[]): Promise<void>;
  /** One-way copy of a local tree to the host (files removed here are removed there). */
  sync(host: HostLink, localDir: string, remoteDir: string): Promise<void>;
  tunnelUp(host: HostState): Promise<void>;
  /** Removes both ends; with `reachHost` false only this machine's. */
  tunnelDown(host: HostState, reachHost: boolean): Promise<void>;
  tunnelState(host: HostState): Promise<{ up: boolean; handshake: number }>;
}

/**
 * cilo's DNS server as its own commands manage it (`cilo dns ...`): the background process with
 * its full answers, its log, the system resolver's configuration that sends names to it, and
 * the server itself run in this process (`cilo dns serve`).
 */
export interface DnsAdmin {
  start(): Promise<DnsStartResult>;
  stop(): Promise<DnsStopResult>;
  status(): Promise<DnsStatus>;
  /** The log, or its last `lines` lines, with the byte offset where it ends. */
  log(lines?: number): Promise<{ text: string; end: number }>;
  /** Calls `write` with what the log gets after `from`, forever. */
  followLog(from: number, write: (chunk: string) => void): Promise<never>;
  setupResolver(input: SetupInput): Promise<SetupResult>;
  /** Whether `cilo dns setup` routed `suffix` (`.test`) to the server; reads the system resolver's files only. */
  resolverRoutes(suffix: string): Promise<boolean>;
  uninstallResolver(): Promise<UninstallResult>;
  /** Serves until SIGTERM/SIGINT; resolves after cleanup. */
  serve(opts: ServeOptions): Promise<void>;
}

/** The dashboard's HTTP server (`cilo ui`): in this process, or in the background for this home. */
export interface DashboardServer {
  serve(opts: UiServerOptions): Promise<UiServer>;
  /** Starts `cilo ui <args>` in the background unless one runs for this home. */
  startBackground(args: string[]): Promise<UiStartResult>;
  stopBackground(): Promise<UiStopResult>;
  /** The background server of this home, if it is alive and really is that server. */
  running(): Promise<UiInstance | null>;
  /** Where a background server writes its output. */
  logFile(): Promise<string>;
  /** Records this process as the home's background server (the one `--detach` started). */
  record(inst: UiInstance): Promise<void>;
  /** Removes that record if it still names `pid`. */
  forget(pid: number): Promise<void>;
  /** Opens a URL in the person's browser; false when no browser could be started. */
  openBrowser(url: string): Promise<boolean>;
}

/**
 * cilo's local certificate authority (issue #25): made once per CILO_HOME, its key readable by
 * the user only. The router serves each environment's names over HTTPS with what `issue` signs.
 */
export interface LocalCa {
  /** Makes the CA if there is none yet; returns where its certificate (PEM) is. */
  ensure(): Promise<{ certFile: string }>;
  /** The CA certificate's file, whether or not it was made yet (`cilo trust --print`, the manifest's `ca_file`). */
  certFile(): string;
  /** A certificate for these names (`*.agent-1.localhost` allowed), signed by the CA (made first if needed): PEM texts. */
  issue(names: string[]): Promise<{ cert: string; key: string }>;
  /**
   * What the loopback router issues from (PEM, made first if needed): an intermediate CA with its
   * own key (the root's key never leaves CILO_HOME), name-constrained to these DNS suffixes
   * (`.test`); kept per set of suffixes in CILO_HOME/ca and made anew when it ends within 30 days.
   * `newRoot`: the root on disk allowed no intermediate (an older cilo made it) and was made anew.
   */
  routerCa(suffixes: readonly string[]): Promise<{ root: string; cert: string; key: string; newRoot: boolean }>;
  /** What is wrong with the CA's files, without making them (`cilo doctor`); absent when there is no CA yet. */
  inspect(): Promise<CaHealth | undefined>;
}

/** The CA's files as `cilo doctor` sees them. */
export interface CaHealth {
  certFile: string;
  keyFile: string;
  /** When the CA's certificate ends (ISO). */
  notAfter: string | undefined;
  /** One sentence each: unreadable, not a CA, expired or ending soon, key not the certificate's. */
  problems: string[];
  /** The key file is readable by others (its mode), to be made 0600. */
  keyMode: number | undefined;
}
