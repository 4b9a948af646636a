import type { EnginePorts, HostNetwork } from '../ports.js';

/** Subnets in use outside cilo's state: every network of the engine's and every route of its machine. */
export async function externalSubnets(engine: Pick<EnginePorts, 'docker'> & { routes: Pick<HostNetwork, 'routeSubnets'> }): Promise<string[]> {
  const nets = await engine.docker.listNetworks();
  const fromDocker = nets.flatMap((n) => (n.IPAM.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string'));
  return [...fromDocker, ...(await engine.routes.routeSubnets())];
}
