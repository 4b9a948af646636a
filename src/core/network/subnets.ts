import type { CoreContext } from '../context.js';

/** Subnets in use outside cilo's state: every Docker network's and every host route's. */
export async function externalSubnets(ctx: Pick<CoreContext, 'docker' | 'host'>): Promise<string[]> {
  const nets = await ctx.docker.listNetworks();
  const fromDocker = nets.flatMap((n) => (n.IPAM.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string'));
  return [...fromDocker, ...(await ctx.host.routeSubnets())];
}
