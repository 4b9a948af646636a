import { readFileSync } from 'node:fs';
import type { DockerClient } from '../docker/client.js';
import { parseProcRoutes } from '../domain/routes.js';

/** Subnets in use outside cilo's state: every Docker network's and every host route's. */
export async function externalSubnets(docker: DockerClient): Promise<string[]> {
  const nets = await docker.listNetworks();
  const fromDocker = nets.flatMap((n) => (n.IPAM.Config ?? []).map((c) => c.Subnet).filter((s): s is string => typeof s === 'string'));
  return [...fromDocker, ...hostRouteSubnets()];
}

/** The subnets of the host's routes (Linux); none elsewhere, where Docker's networks are what matters. */
export function hostRouteSubnets(): string[] {
  try {
    return parseProcRoutes(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}
