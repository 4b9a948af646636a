import { DockerApiError } from '../errors.js';
import type { Engine } from './ports.js';
import { envLabels, networkName } from '../domain/names.js';
import { dynamicRangeOf, gatewayOf } from '../domain/subnet.js';
import { CiloError } from '../errors.js';
import { homeId } from '../state/paths.js';
import type { EnvironmentState } from '../domain/state.js';
import { withStateLock } from '../state/store.js';
import type { CoreContext } from './context.js';
import { externalSubnets } from './subnets.js';
import { updateWorkspaceMetaSubnet } from './workspace-meta.js';
import { allocateSubnet } from '../domain/subnet.js';
import { subnetBases } from '../domain/hosts.js';

/** How long a network overlapping the environment's subnet is given to turn out to be its own. */
const OWN_NETWORK_WAIT_MS = 1500;

/**
 * Makes sure the environment's network exists with its subnet. An existing network is reused
 * as it is (never recreated while containers may be attached); a concurrent creation by
 * another process is accepted once verified.
 */
export async function ensureNetwork(docker: Engine, env: EnvironmentState, homeId: string): Promise<void> {
  const name = networkName(env.project, env.name);
  const verify = async (): Promise<boolean> => {
    const net = await docker.inspectNetwork(name);
    if (!net) return false;
    const subnet = net.IPAM.Config?.[0]?.Subnet;
    if (subnet !== env.subnet) {
      throw new CiloError('NETWORK_MISMATCH', `Docker network ${name} exists with subnet ${subnet ?? 'none'}, but the environment expects ${env.subnet}.`, {
        hint: `Remove the network (\`docker network rm ${name}\`) after stopping what uses it, then run \`cilo up ${env.name}\` again.`,
      });
    }
    return true;
  };
  if (await verify()) return;
  try {
    // Replicas get engine-assigned addresses: from a range no fixed address is taken from.
    await docker.createNetwork(name, envLabels(env.project, env.name, homeId), { subnet: env.subnet, gateway: gatewayOf(env.subnet), ipRange: dynamicRangeOf(env.subnet) });
  } catch (e) {
    if (!(e instanceof DockerApiError)) throw e;
    // The name or the addresses taken: maybe by this very network, which another request is
    // making right now (an interrupted run's: the engine finishes a request whose client was
    // killed; or a second command's). The engine refuses ("Pool overlaps", "failed to allocate
    // gateway ... in use", 409) before the name is visible: wait for it briefly.
    if (e.status === 409 || /overlap|in use/i.test(e.message)) {
      for (const until = Date.now() + OWN_NETWORK_WAIT_MS; ; await new Promise((r) => setTimeout(r, 100))) {
        if (await verify()) return;
        if (Date.now() >= until) break;
      }
    }
    if (/overlap|in use/i.test(e.message)) {
      throw new CiloError('SUBNET_CONFLICT', `The subnet ${env.subnet} of environment "${env.name}" overlaps a network created outside cilo since it was allocated.`, {
        hint: `Destroy and re-create the environment to get a free subnet, or remove the other network.`,
        cause: e,
      });
    }
    throw e;
  }
}

/**
 * Ensures the network; when its subnet was taken meanwhile by a network this state does not
 * know (another CILO_HOME on the same engine, another tool), moves the environment to the
 * lowest free subnet and tries again, so Docker is the final arbiter of who owns a subnet.
 * Returns the environment as recorded.
 */
export async function ensureNetworkOrMove(ctx: CoreContext, env: EnvironmentState): Promise<EnvironmentState> {
  let current = env;
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureNetwork(ctx.docker, current, homeId(ctx.paths));
      return current;
    } catch (e) {
      if (!(e instanceof CiloError && e.code === 'SUBNET_CONFLICT') || attempt >= 8) throw e;
      const taken = await externalSubnets(ctx);
      const from = current.subnet;
      current = await withStateLock((state) => {
        const rec = state.environments[current.name];
        if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${current.name}" was destroyed meanwhile.`);
        const others = Object.values(state.environments)
          .filter((x) => x.name !== rec.name)
          .map((x) => x.subnet);
        const { bases, reserved } = subnetBases(state, rec);
        rec.subnet = allocateSubnet(bases, [...others, ...reserved, ...taken, rec.subnet]);
        // The old addresses belong to the old subnet: they are assigned anew by the next up.
        rec.services = {};
        return rec;
      }, ctx.paths);
      updateWorkspaceMetaSubnet(current);
      ctx.log(`Subnet ${from} was taken by another network; ${current.name} moves to ${current.subnet}`);
    }
  }
}

/** Removes the environment's network, first detaching any container still on it (shared services). */
export async function removeNetwork(docker: Engine, env: Pick<EnvironmentState, 'project' | 'name'>): Promise<void> {
  await removeNetworkAndLinks(docker, networkName(env.project, env.name));
}

/**
 * Removes a network (by name or ID), first detaching the containers still on it, as the
 * network's own answer names them (the Engine's network list leaves them out).
 */
export async function removeNetworkAndLinks(docker: Engine, nameOrId: string): Promise<void> {
  const net = await docker.inspectNetwork(nameOrId);
  if (!net) return;
  for (const id of Object.keys(net.Containers ?? {})) await docker.disconnectNetwork(nameOrId, id, true);
  await docker.removeNetwork(nameOrId);
}
