import { DockerApiError } from '../../errors.js';
import type { SiteContext } from '../sites/site.js';
import type { Engine } from '../ports.js';
import { envLabels, networkName } from '../../domain/names.js';
import { dynamicRangeOf, gatewayOf, overlaps, parseCidr } from '../../domain/subnet.js';
import type { NetworkInspect } from '../../domain/engine.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import type { EnvironmentState } from '../../domain/state.js';
import { withStateLock } from '../../state/store.js';
import { externalSubnets } from './subnets.js';
import { updateWorkspaceMetaSubnet } from '../project/workspace-meta.js';
import { allocateSubnet } from '../../domain/subnet.js';
import { subnetBases } from '../../domain/hosts.js';

/**
 * How long the engine may refuse the subnet while no network holds it: a request making one is
 * in flight (the engine allocates the addresses before the network can be listed). Polled
 * only while that is so; a refusal that names a holder is answered at once.
 */
const IN_FLIGHT_DEADLINE_MS = 60_000;

/** The network whose subnet overlaps `subnet`, as the engine lists them. */
async function networkHolding(docker: Engine, subnet: string): Promise<NetworkInspect | undefined> {
  const wanted = parseCidr(subnet);
  return (await docker.listNetworks()).find((n) =>
    (n.IPAM.Config ?? []).some((c) => {
      try {
        return c.Subnet !== undefined && overlaps(parseCidr(c.Subnet), wanted);
      } catch {
        return false; // an IPv6 or malformed pool is not ours to compare
      }
    }),
  );
}

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
  for (const until = Date.now() + IN_FLIGHT_DEADLINE_MS; ; await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 150)))) {
    try {
      // Replicas get engine-assigned addresses: from a range no fixed address is taken from.
      await docker.createNetwork(name, envLabels(env.project, env.name, homeId), { subnet: env.subnet, gateway: gatewayOf(env.subnet), ipRange: dynamicRangeOf(env.subnet) });
      return;
    } catch (e) {
      // The name or the addresses taken ("Pool overlaps", "failed to allocate gateway ... in
      // use", 409): maybe by this very network, which another request is making right now (an
      // interrupted run's: the engine finishes a request whose client was killed). The engine
      // says who holds the subnet once that request is done.
      if (!(e instanceof DockerApiError) || !(e.status === 409 || /overlap|in use/i.test(e.message))) throw e;
      if (await verify()) return;
      const holder = await networkHolding(docker, env.subnet);
      // Our own, listed since verify() asked: taken by the next round's verify().
      if (holder && holder.Name !== name) {
        throw new CiloError('SUBNET_CONFLICT', `The subnet ${env.subnet} of environment "${env.name}" overlaps the Docker network ${holder.Name}, created since it was allocated.`, {
          hint: 'Destroy and re-create the environment to get a free subnet, or remove the other network.',
          cause: e,
        });
      }
      if (Date.now() >= until) {
        throw new CiloError('SUBNET_CONFLICT', `Docker refuses the subnet ${env.subnet} of environment "${env.name}" (${e.message}), though it lists no network that holds it.`, {
          hint: 'Destroy and re-create the environment to get another subnet, or restart the Docker engine if its address pools leaked.',
          cause: e,
        });
      }
      // Nobody holds it yet: a request making a network is in flight. Ask again.
    }
  }
}

/**
 * Ensures the network; when its subnet was taken meanwhile by a network this state does not
 * know (another CILO_HOME on the same engine, another tool), moves the environment to the
 * lowest free subnet and tries again, so Docker is the final arbiter of who owns a subnet.
 * Returns the environment as recorded.
 */
export async function ensureNetworkOrMove(ctx: SiteContext, env: EnvironmentState): Promise<EnvironmentState> {
  let current = env;
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureNetwork(ctx.site.docker, current, homeId(ctx.paths));
      return current;
    } catch (e) {
      if (!(e instanceof CiloError && e.code === 'SUBNET_CONFLICT') || attempt >= 8) throw e;
      const taken = await externalSubnets(ctx.site);
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
