// Library entry: the core use-cases, usable without the CLI. Each takes a CoreContext
// (`defaultContext()` gives CILO_HOME from the environment and the local Docker engine).
export { CiloError, type ErrorCode } from './errors.js';
export { defaultContext } from './default-context.js';
export type { CoreContext } from './core/context.js';
export type { Compose, DnsControl, Engine, Git, HostNetwork, Processes, Workspaces } from './core/ports.js';
export { ciloHome, ciloPaths, type CiloPaths } from './state/paths.js';
export { readState, withStateLock } from './state/store.js';
export type { State, EnvironmentState, SharedServiceState } from './domain/state.js';
export { initHome } from './core/project/init.js';
export { createEnvironment, type CreateInput } from './core/environments/create.js';
export { upEnvironment, type UpInput } from './core/environments/up.js';
export { downEnvironment } from './core/environments/down.js';
export { destroyEnvironment, destroyTargets } from './core/environments/destroy.js';
export { listEnvironments } from './core/environments/list.js';
export { viewOf, liveContainers, type EnvView, type ServiceView } from './core/environments/environment-view.js';
export { runInEnvironment } from './core/environments/run.js';
export { environmentManifest, manifestOfEnvironment, writeManifestFile } from './core/agents/manifest.js';
export { MANIFEST_SCHEMA, buildManifest, type Manifest, type ServiceManifest, type UpTimings, type DatasetManifest } from './domain/manifest.js';
export { listShared } from './core/shared/shared-view.js';
export { stopShared, reapExpiredShared } from './core/shared/shared.js';
export { runDoctor, type DoctorReport, type Finding } from './core/doctor/doctor.js';
export { addHostnames, removeHostnames, setHostnames, listHostnames } from './core/project/hostnames.js';
export { diffEnvironment, mergeEnvironment } from './core/environments/diff.js';
export { networkStatus, migrateNetwork } from './core/network/network-admin.js';
export { ensureDnsRunning, startDaemon, stopDaemon, daemonStatus } from './dns/daemon.js';
export { normalizeName, toValidName, networkName, composeProjectName, sharedContainerName } from './domain/names.js';
export { allocateSubnet, assignIps } from './domain/subnet.js';
export { DockerClient } from './docker/client.js';
