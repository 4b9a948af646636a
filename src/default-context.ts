/**
 * The composition root: the one place that wires core's ports (core/ports.ts) to their real
 * implementations. The CLI and library users start here. Each adapter module is imported on its
 * first call, so a command pays only for the boundaries it crosses (`cilo list` never loads the
 * compose, git or DNS-control code).
 */
import { join } from 'node:path';
import type { CoreContext } from './core/context.js';
import type { Clock, Compose, ContainerExec, DashboardServer, DatasetEngines, DnsAdmin, DnsControl, Git, HostNetwork, LocalCa, Processes, RemoteHosts, VolumeData, Workspaces } from './core/ports.js';
import { DockerClient } from './docker/client.js';
import { ciloPaths, workspaceRoots, type CiloPaths } from './state/paths.js';
import { fileActivity } from './state/activity.js';

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

const composeModule = once(() => import('./compose/cli.js'));
const gitModule = once(() => import('./git/cli.js'));
const procModules = once(() => Promise.all([import('./proc/hook.js'), import('./proc/foreground.js'), import('./proc/which.js')]));
const workspaceModules = once(() => Promise.all([import('./workspace/copy.js'), import('./workspace/remove.js')]));

const compose: Compose = {
  resolveModel: async (t) => (await composeModule()).resolveModel(t),
  up: async (t, o) => (await composeModule()).composeUp(t, o),
  stop: async (t, s) => (await composeModule()).composeStop(t, s),
  passthrough: async (t, a, o) => (await composeModule()).composePassthrough(t, a, o),
  version: async () => (await composeModule()).composeVersion(),
  captureLimited: async (t, a, o) => (await import('./compose/capture.js')).composeCaptureLimited(t, a, o),
};

const git: Git = {
  isRepo: async (d) => (await gitModule()).isGitRepo(d),
  run: async (d, a) => (await gitModule()).git(d, a),
  out: async (d, a, w) => (await gitModule()).gitOut(d, a, w),
  headCommit: async (d) => (await gitModule()).headCommit(d),
  currentBranch: async (d) => (await gitModule()).currentBranch(d),
  hasCommit: async (d, s) => (await gitModule()).hasCommit(d, s),
  isAncestor: async (d, a, o) => (await gitModule()).isAncestor(d, a, o),
  diffWorktree: async (d, b, a, p) => (await gitModule()).diffWorktree(d, b, a, p),
  diffFiles: async (f, t, l, a) => (await gitModule()).diffFiles(f, t, l, a),
};

const proc: Processes = {
  runHidden: async (c, a, o) => (await procModules())[0].runHidden(c, a, o),
  runForeground: async (c, a, o) => (await procModules())[1].runForeground(c, a, o),
  findProgram: async (c, d, p) => (await procModules())[2].findProgram(c, d, p),
};

/** Removal refuses anything but cilo's own copies (remove.ts), the in-place sources of the state as it is now. */
function workspacesFor(paths: CiloPaths): Workspaces {
  return {
    copy: async (s, d, o) => (await workspaceModules())[0].copyProject(s, d, o),
    remove: async (p) => {
      const [, remove, store] = await Promise.all([...(await workspaceModules()), import('./state/store.js')]);
      const inPlaceSources = (): string[] => Object.values(store.readState(paths).environments).filter((e) => e.workspace_mode === 'in-place').map((e) => e.workspace);
      await remove.removeWorkspaceTree(p, { roots: workspaceRoots(paths), inPlaceSources });
    },
  };
}

const exec: ContainerExec = {
  run: async (c, a, o) => (await import('./docker/exec.js')).execInContainer(c, a, o),
};

const datasetEngines: DatasetEngines = {
  open: async (x, t) => (await import('./datasets/engines.js')).datasetEngine(x, t),
};

const host: HostNetwork = {
  routeSubnets: async () => (await import('./host/routes.js')).hostRouteSubnets(),
  connect: async (ip, port, ms) => (await import('./host/reach.js')).tcpConnect(ip, port, ms),
  tlsHandshake: async (port, name, ms) => (await import('./host/reach.js')).tlsHandshake(port, name, ms),
  loopbackPort: async (port) => (await import('./host/loopback-port.js')).loopbackPortState(port),
  loopbackPortFree: async (port) => (await import('./host/ssh.js')).loopbackPortFree(port),
};

function dnsFor(paths: CiloPaths): DnsControl {
  const control = once(async () => (await import('./dns/control.js')).dnsControl(paths));
  return {
    ensureRunning: async () => (await control()).ensureRunning(),
    start: async () => (await control()).start(),
    stop: async () => (await control()).stop(),
    status: async () => (await control()).status(),
    lookup: async (port, name, ms) => (await control()).lookup(port, name, ms),
    portTaken: async (port) => (await control()).portTaken(port),
    systemResolves: async (name, ms) => (await import('./dns/system-lookup.js')).systemResolves(name, ms),
  };
}

/** `cilo dns ...`: the daemon, log and resolver modules are loaded by the command that uses them. */
function dnsAdminFor(paths: CiloPaths): DnsAdmin {
  const daemon = once(() => import('./dns/daemon.js'));
  const log = once(() => import('./dns/log.js'));
  const resolver = once(() => import('./dns/resolver.js'));
  return {
    start: async () => (await daemon()).startDaemon(paths),
    stop: async () => (await daemon()).stopDaemon(paths),
    status: async () => (await daemon()).daemonStatus(paths),
    log: async (lines) => (await log()).dnsLog(paths, lines),
    followLog: async (from, write) => (await log()).followDnsLog(paths, from, write),
    setupResolver: async (input) => (await resolver()).setupResolver(input, paths),
    resolverRoutes: async (suffix) => (await resolver()).resolverRoutes(suffix),
    uninstallResolver: async () => (await resolver()).uninstallResolver(),
    serve: async (opts) => (await import('./dns/serve.js')).serveDns(paths, opts),
  };
}

/** `cilo ui`: the dashboard's server and its background process for this home. */
function dashboardFor(paths: CiloPaths): DashboardServer {
  const daemon = once(() => import('./ui/daemon.js'));
  return {
    serve: async (opts) => (await import('./ui/server.js')).startUiServer(opts),
    startBackground: async (args) => (await daemon()).startUiDaemon(paths, args),
    stopBackground: async () => (await daemon()).stopUiDaemon(paths),
    running: async () => (await daemon()).runningUi(paths),
    logFile: async () => (await daemon()).uiPaths(paths).log,
    record: async (inst) => (await daemon()).writeUiInstance(paths, inst),
    forget: async (pid) => (await daemon()).removeUiInstance(paths, pid),
    openBrowser: async (url) => (await import('./ui/open.js')).openBrowser(url),
  };
}

/** Remote hosts: the SSH and tunnel code is loaded only by a command that reaches one. */
function remoteFor(paths: CiloPaths): RemoteHosts {
  const r = once(async () => (await import('./host/remote.js')).remoteHosts(paths));
  return {
    contextEndpoint: async (n) => (await r()).contextEndpoint(n),
    scanHostKeys: async (s) => (await r()).scanHostKeys(s),
    freePort: async () => (await r()).freePort(),
    isKnown: async (s) => (await r()).isKnown(s),
    userKnownEntries: async (s) => (await r()).userKnownEntries(s),
    trustHostKeys: async (lines) => (await r()).trustHostKeys(lines),
    untrustHostKeys: async (lines) => (await r()).untrustHostKeys(lines),
    forgetHostKeys: async (s) => (await r()).forgetHostKeys(s),
    connect: async (h) => (await r()).connect(h),
    disconnect: async (h) => (await r()).disconnect(h),
    forgetHost: async (h) => (await r()).forgetHost(h),
    run: async (h, a, w) => (await r()).run(h, a, w),
    forwardPorts: async (h, p) => (await r()).forwardPorts(h, p),
    cancelPorts: async (h, p) => (await r()).cancelPorts(h, p),
    sync: async (h, f, t) => (await r()).sync(h, f, t),
    tunnelUp: async (h) => (await r()).tunnelUp(h),
    tunnelDown: async (h, reach) => (await r()).tunnelDown(h, reach),
    tunnelState: async (h) => (await r()).tunnelState(h),
  };
}

/** Volume contents, copied with the engine's help where cilo cannot reach them itself. */
function volumesFor(docker: DockerClient): VolumeData {
  const copier = once(async () => new (await import('./workspace/volume-copy.js')).VolumeDataCopier(docker));
  return {
    copy: async (f, t, o) => (await copier()).copy(f, t, o),
    empty: async (t, o) => (await copier()).empty(t, o),
  };
}

/** The local CA (src/tls): its path costs nothing; the certificate code loads with the first certificate. */
function caFor(paths: CiloPaths): LocalCa {
  const ca = once(async () => (await import('./tls/local-ca.js')).localCa(paths));
  return {
    ensure: async () => (await ca()).ensure(),
    certFile: () => join(paths.home, 'ca', 'cilo-ca.crt'),
    issue: async (names) => (await ca()).issue(names),
    routerCa: async (suffixes) => (await ca()).routerCa(suffixes),
    inspect: async () => (await ca()).inspect(),
  };
}

const clock: Clock = { now: () => Date.now() };

export function defaultContext(overrides: Partial<CoreContext> = {}): CoreContext {
  const paths = overrides.paths ?? ciloPaths();
  const client = new DockerClient();
  return {
    paths,
    local: overrides.local ?? { docker: client, volumes: volumesFor(client), exec, compose, routes: host },
    datasetEngines: overrides.datasetEngines ?? datasetEngines,
    dns: overrides.dns ?? dnsFor(paths),
    dnsAdmin: overrides.dnsAdmin ?? dnsAdminFor(paths),
    dashboard: overrides.dashboard ?? dashboardFor(paths),
    ca: overrides.ca ?? caFor(paths),
    git: overrides.git ?? git,
    proc: overrides.proc ?? proc,
    workspaces: overrides.workspaces ?? workspacesFor(paths),
    remote: overrides.remote ?? remoteFor(paths),
    activity: overrides.activity ?? fileActivity(paths),
    clock: overrides.clock ?? clock,
    log: overrides.log ?? (() => undefined),
    warn: overrides.warn ?? (() => undefined),
    ...(overrides.progress ? { progress: overrides.progress } : {}),
  };
}
