import { DockerApiError, type DockerClient } from '../docker/client.js';
import { envLabels, networkName } from '../domain/names.js';
import { gatewayOf } from '../domain/subnet.js';
import { CiloError } from '../errors.js';
import type { EnvironmentState } from '../state/schema.js';

/**
 * Makes sure the environment's network exists with its subnet. An existing network is reused
 * as it is (never recreated while containers may be attached); a concurrent creation by
 * another process is accepted once verified.
 */
export async function ensureNetwork(docker: DockerClient, env: EnvironmentState, homeId: string): Promise<void> {
  const name = networkName(env.project, env.name);
  const verify = async (): Promise<boolean> => {
    const net = await docker.inspectNetwork(name);
    if (!net) return false;
    const subnet = net.IPAM.Config?.[0]?.Subnet;
    if (subnet !== env.subnet) {
      throw new CiloError('SUBNET_EXHAUSTED', `Docker network ${name} exists with subnet ${subnet ?? 'none'}, but the environment expects ${env.subnet}.`, {
        hint: `Remove the network (\`docker network rm ${name}\`) after stopping what uses it, then run \`cilo up ${env.name}\` again.`,
      });
    }
    return true;
  };
  if (await verify()) return;
  try {
    await docker.createNetwork(name, env.subnet, gatewayOf(env.subnet), envLabels(env.project, env.name, homeId));
  } catch (e) {
    if (e instanceof DockerApiError && e.status === 409 && (await verify())) return;
    if (e instanceof DockerApiError && /overlap/i.test(e.message)) {
      throw new CiloError('SUBNET_EXHAUSTED', `The subnet ${env.subnet} of environment "${env.name}" overlaps a network created outside cilo since it was allocated.`, {
        hint: `Destroy and re-create the environment to get a free subnet, or remove the other network.`,
        cause: e,
      });
    }
    throw e;
  }
}

/** Removes the environment's network, first detaching any container still on it (shared services). */
export async function removeNetwork(docker: DockerClient, env: Pick<EnvironmentState, 'project' | 'name'>): Promise<void> {
  const name = networkName(env.project, env.name);
  const net = await docker.inspectNetwork(name);
  if (!net) return;
  for (const id of Object.keys(net.Containers ?? {})) await docker.disconnectNetwork(name, id, true);
  await docker.removeNetwork(name);
}
