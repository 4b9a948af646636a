// Library entry: the core use-cases, usable without the CLI.
export { CiloError, type ErrorCode } from './errors.js';
export { ciloHome, ciloPaths, type CiloPaths } from './state/paths.js';
export { readState, withStateLock } from './state/store.js';
export type { State, EnvironmentState, SharedServiceState } from './state/schema.js';
export { normalizeName, toValidName, networkName, composeProjectName, sharedContainerName } from './domain/names.js';
export { allocateSubnet, assignIps } from './domain/subnet.js';
export { DockerClient } from './docker/client.js';
