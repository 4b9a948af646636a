import { readFileSync } from 'node:fs';
import { parseProcRoutes } from '../domain/routes.js';

/** The subnets of the host's routes (Linux); none elsewhere, where Docker's networks are what matters. */
export function hostRouteSubnets(): string[] {
  try {
    return parseProcRoutes(readFileSync('/proc/net/route', 'utf8'));
  } catch {
    return [];
  }
}
