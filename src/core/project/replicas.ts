/**
 * Replicas of a scaled service: compose runs several containers for it and the engine assigns
 * their addresses (one fixed address cannot serve two containers). cilo reads what it assigned
 * after each `up`, so DNS answers a service's name with every replica's address.
 */
import { COMPOSE_PROJECT, composeProjectName } from '../../domain/names.js';
import { addressOn, serviceContainers } from '../../domain/replicas.js';
import type { EnvironmentState } from '../../domain/state.js';
import type { Engine } from '../ports.js';

/** Each replicated service's replica addresses on the environment's network, in replica order. */
export async function replicaAddresses(docker: Engine, env: Pick<EnvironmentState, 'project' | 'name'>, services: string[]): Promise<Record<string, string[]>> {
  if (services.length === 0) return {};
  const containers = await docker.listContainers({ label: [`${COMPOSE_PROJECT}=${composeProjectName(env.project, env.name)}`] });
  return Object.fromEntries(services.map((s) => [s, serviceContainers(containers, env, s).map((c) => addressOn(c, env)).filter((ip) => ip !== '')]));
}
