/**
 * Replicas of a scaled service: compose runs several containers for it and the engine assigns
 * their addresses (one fixed address cannot serve two containers). cilo reads what it assigned
 * after each `up`, so DNS answers a service's name with every replica's address.
 */
import type { ContainerSummary } from '../domain/engine.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, composeProjectName, networkName } from '../domain/names.js';
import type { EnvironmentState } from '../domain/state.js';
import type { Engine } from './ports.js';

/** The label compose numbers a service's replicas with (1, 2, ...). */
const CONTAINER_NUMBER = 'com.docker.compose.container-number';

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

/** Each replicated service's replica addresses on the environment's network, in replica order. */
export async function replicaAddresses(docker: Engine, env: Pick<EnvironmentState, 'project' | 'name'>, services: string[]): Promise<Record<string, string[]>> {
  if (services.length === 0) return {};
  const containers = await docker.listContainers({ label: [`${COMPOSE_PROJECT}=${composeProjectName(env.project, env.name)}`] });
  return Object.fromEntries(services.map((s) => [s, serviceContainers(containers, env, s).map((c) => addressOn(c, env)).filter((ip) => ip !== '')]));
}
