/**
 * An environment's services in the Engine's container list: the container of a service (the
 * project's shared one, or the environment's own), and the replicas of a scaled service (compose
 * numbers them; the engine assigns their addresses on the environment's network).
 */
import type { ContainerSummary } from './engine.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, composeProjectName, LABELS, networkName } from './names.js';
import type { EnvironmentState } from './state.js';

/** The label compose numbers a service's replicas with (1, 2, ...). */
const CONTAINER_NUMBER = 'com.docker.compose.container-number';

/** A replica's number (compose's, from 1); 1 for a container compose did not number. */
export function replicaNumber(c: ContainerSummary): number {
  return Number(c.Labels[CONTAINER_NUMBER] ?? 1);
}

/** A service's containers in the environment's compose project, in replica order. */
export function serviceContainers(containers: ContainerSummary[], env: Pick<EnvironmentState, 'project' | 'name'>, service: string): ContainerSummary[] {
  const project = composeProjectName(env.project, env.name);
  return containers
    .filter((c) => c.Labels[COMPOSE_PROJECT] === project && c.Labels[COMPOSE_SERVICE] === service)
    .sort((a, b) => Number(a.Labels[CONTAINER_NUMBER] ?? 0) - Number(b.Labels[CONTAINER_NUMBER] ?? 0));
}

/** A container's address on the environment's network, or '' when it has none (not running). */
export function addressOn(c: ContainerSummary, env: Pick<EnvironmentState, 'project' | 'name'>): string {
  return c.NetworkSettings?.Networks?.[networkName(env.project, env.name)]?.IPAddress ?? '';
}

/** The container of an environment's service: the project's shared one, or the environment's compose container. */
export function findServiceContainer(containers: ContainerSummary[], env: Pick<EnvironmentState, 'project' | 'name'>, service: string, type: 'isolated' | 'shared'): ContainerSummary | undefined {
  if (type === 'shared') {
    return containers.find((c) => c.Labels[LABELS.shared] === 'true' && c.Labels[LABELS.project] === env.project && c.Labels[LABELS.service] === service);
  }
  const project = composeProjectName(env.project, env.name);
  return containers.find((c) => c.Labels[COMPOSE_PROJECT] === project && c.Labels[COMPOSE_SERVICE] === service);
}

/** A service's containers: the project's shared one, or the environment's own (a scaled service's replicas, in order). */
export function containersOfService(containers: ContainerSummary[], env: Pick<EnvironmentState, 'project' | 'name'>, service: string, type: 'isolated' | 'shared'): ContainerSummary[] {
  if (type === 'shared') {
    const c = findServiceContainer(containers, env, service, type);
    return c ? [c] : [];
  }
  return serviceContainers(containers, env, service);
}
