/**
 * `cilo network status` and `cilo network migrate [CIDR]`.
 *
 * Migrate moves environments to a new base range. The plan (new base, each environment's new
 * /24 and service addresses) is recorded in state first, in one transaction; then, one
 * environment at a time: stop it if it runs, remove its network (shared containers are
 * detached), create the network with the new subnet, and start it again with recreated
 * containers if it was running. A run that stops half-way is finished by running the same
 * command again: an environment whose Docker network does not have its recorded subnet is
 * moved again. Without CIDR, only environments outside the current base ranges (or whose
 * network disagrees with state) are moved.
 */
import { askEachSite, atLocalSite, hostSites } from '../sites/reach.js';
import { siteKey } from '../../domain/sites.js';
import type { EnvironmentState } from '../../domain/state.js';
import { existsSync } from 'node:fs';
import { compareNames, networkName } from '../../domain/names.js';
import { insideBases, moveIp, normalizeCidr, overlapping } from '../../domain/network-move.js';
import { allocateSubnet, checkPrivateRange } from '../../domain/subnet.js';
import { CiloError } from '../../errors.js';
import { generatedComposePath, homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { generatedTarget } from '../project/env-compose.js';
import { ensureNetwork, removeNetwork } from './network.js';
import { releaseShared } from '../shared/shared.js';
import { updateWorkspaceMetaSubnet } from '../project/workspace-meta.js';
import { upEnvironment } from '../environments/up.js';
import { subnetBases } from '../../domain/hosts.js';
import { baseSubnetCidr } from '../project/base-subnet.js';

export interface NetworkEnvView {
  name: string;
  project: string;
  status: string;
  subnet: string;
  network: string;
  /** The subnet Docker has for the network now (null: no network). */
  network_subnet: string | null;
  /** Inside the base ranges (an environment on a host: inside its host's range). */
  in_range: boolean;
  /** The remote host whose engine has its network (absent: this machine's). */
  host?: string;
  services: { name: string; type: string; ip: string }[];
}

export interface NetworkStatus {
  base_subnets: string[];
  dns_port: number;
  environments: NetworkEnvView[];
}

export async function networkStatus(ctx: CoreContext): Promise<NetworkStatus> {
  const state = readState(ctx.paths);
  // Each engine's networks (this machine's, each host's), keyed by engine; an engine that does
  // not answer leaves them unknown: state alone is still worth showing.
  const answers = await askEachSite(ctx, [{}, ...hostSites(ctx)], async (site) => new Map((await site.docker.listNetworks()).map((n) => [n.Name, n.IPAM.Config?.[0]?.Subnet ?? null])), { tolerateLocal: true });
  const subnetOf = (e: EnvironmentState): string | null => {
    const a = answers.get(siteKey(e));
    return (a?.ok ? a.value.get(networkName(e.project, e.name)) : undefined) ?? null;
  };
  const environments = Object.values(state.environments)
    .sort((a, b) => compareNames(a.project, b.project) || compareNames(a.name, b.name))
    .map((e) => ({
      name: e.name,
      project: e.project,
      status: e.status,
      subnet: e.subnet,
      network: networkName(e.project, e.name),
      network_subnet: subnetOf(e),
      in_range: insideBases(e.subnet, subnetBases(state, e).bases),
      ...(e.host ? { host: e.host } : {}),
      services: Object.entries(e.services)
        .sort(([a], [b]) => compareNames(a, b))
        .map(([name, s]) => ({ name, type: s.type, ip: s.ip })),
    }));
  return { base_subnets: state.base_subnets, dns_port: state.dns_port, environments };
}

export interface MigrateNetworkResult {
  base_subnets: string[];
  moved: { name: string; project: string; from: string; to: string; restarted: boolean }[];
  unchanged: string[];
}

interface Move {
  name: string;
  from: string;
  wasRunning: boolean;
}

export async function migrateNetwork(base: CoreContext, input: { cidr?: string | undefined; force?: boolean | undefined }): Promise<MigrateNetworkResult> {
  // The base ranges are this machine's: each host has its own range (`cilo host add --subnet`).
  const ctx = atLocalSite(base);
  // The original's prefix form (`10.88.` for 10.88.0.0/16) is taken here as by `cilo init`.
  const target = input.cidr !== undefined ? [normalizeCidr(baseSubnetCidr(input.cidr))] : undefined;
  for (const t of target ?? []) checkPrivateRange(t, 'network migrate', input.force);
  await ctx.site.docker.ping();
  const before = readState(ctx.paths);
  const ours = new Set(Object.values(before.environments).map((e) => networkName(e.project, e.name)));
  const dockerNets = await ctx.site.docker.listNetworks();
  const foreign = dockerNets.flatMap((n) => (ours.has(n.Name) ? [] : (n.IPAM.Config ?? []).flatMap((c) => (c.Subnet ? [{ name: n.Name, subnet: c.Subnet }] : []))));
  if (target) {
    const hostRange = Object.values(before.hosts ?? {}).find((h) => overlapping(target[0] as string, [{ name: h.name, subnet: h.subnet }]).length > 0);
    if (hostRange) {
      throw new CiloError('NETWORK_OVERLAP', `The range ${target[0]} overlaps ${hostRange.subnet}, the range of host ${hostRange.name}.`, { hint: 'Choose a range that overlaps no host (`cilo host list`).', exitCode: 2 });
    }
    const hit = overlapping(target[0] as string, foreign);
    if (hit.length > 0) {
      throw new CiloError('NETWORK_OVERLAP', `The range ${target[0]} overlaps the Docker network ${hit[0]?.name} (${hit[0]?.subnet}), which cilo does not manage.`, {
        hint: 'Choose another private range (for example 10.225.0.0/16), or remove that network.',
        exitCode: 2,
      });
    }
  }
  const ourSubnets = new Set(Object.values(before.environments).map((e) => e.subnet));
  const dockerSubnetOf = new Map(dockerNets.map((n) => [n.Name, n.IPAM.Config?.[0]?.Subnet]));
  // A host route of one of our own bridges is not a reason to avoid a subnet.
  const external = [...foreign.map((f) => f.subnet), ...(await ctx.site.routes.routeSubnets()).filter((r) => !ourSubnets.has(r))];

  // 1. The plan, recorded before anything is touched.
  const plan = await withStateLock((state) => {
    if (target) state.base_subnets = target;
    const bases = state.base_subnets;
    const moves: Move[] = [];
    // Environments on remote hosts keep their host's range: only this machine's move.
    const envs = Object.values(state.environments).filter((e) => !e.host).sort((a, b) => compareNames(a.name, b.name));
    const keep = envs.filter((e) => e.status === 'destroying' || insideBases(e.subnet, bases));
    const taken = [...keep.map((e) => e.subnet), ...external];
    for (const e of envs) {
      const net = networkName(e.project, e.name);
      const wasRunning = e.status === 'running' || e.status === 'starting';
      if (e.status === 'destroying') continue;
      if (insideBases(e.subnet, bases)) {
        // Resumed migration: state has the new subnet, Docker still the old network.
        const live = dockerSubnetOf.get(net);
        if (live === undefined ? wasRunning : live !== e.subnet) moves.push({ name: e.name, from: live ?? e.subnet, wasRunning });
        continue;
      }
      const to = allocateSubnet(bases, taken);
      taken.push(to);
      for (const s of Object.values(e.services)) {
        // A scaled service's addresses are the engine's: the next up reads them anew.
        if (s.replicas !== undefined) Object.assign(s, { ip: '', replicas: [] });
        else s.ip = moveIp(s.ip, e.subnet, to);
      }
      for (const rec of Object.values(state.shared_services)) {
        const ip = rec.ips[e.name];
        if (rec.project === e.project && ip !== undefined) rec.ips[e.name] = moveIp(ip, e.subnet, to);
      }
      moves.push({ name: e.name, from: e.subnet, wasRunning });
      e.subnet = to;
      e.updated_at = isoNow(ctx);
    }
    return { moves, unchanged: envs.filter((e) => !moves.some((m) => m.name === e.name)).map((e) => e.name), bases: [...bases] };
  }, ctx.paths);

  // 2. One environment at a time.
  const moved: MigrateNetworkResult['moved'] = [];
  for (const m of plan.moves) {
    const env = readState(ctx.paths).environments[m.name];
    if (!env) continue;
    try {
      ctx.log(`Moving ${env.name} from ${m.from} to ${env.subnet}`);
      if (existsSync(generatedComposePath(ctx.paths, env.project, env.name))) await ctx.site.compose.stop(generatedTarget(ctx.paths, env), 10);
      if (env.status === 'paused') {
        // Its containers were stopped to move them: it is now a stopped environment, and lets
        // go of the shared services it kept while paused, as any stopped one does.
        await withStateLock((state) => {
          const rec = state.environments[env.name];
          if (rec?.status === 'paused') rec.status = 'stopped';
        }, ctx.paths);
        await releaseShared(ctx, env, env.shared);
      }
      await removeNetwork(ctx.site.docker, env);
      await ensureNetwork(ctx.site.docker, env, homeId(ctx.paths));
      updateWorkspaceMetaSubnet(env);
      if (m.wasRunning) await upEnvironment(ctx, { env: env.name, recreate: true });
      moved.push({ name: env.name, project: env.project, from: m.from, to: env.subnet, restarted: m.wasRunning });
    } catch (e) {
      const done = moved.map((x) => x.name);
      throw new CiloError('MIGRATE_FAILED', `Moving environment "${env.name}" to ${env.subnet} failed: ${e instanceof Error ? e.message : String(e)}`, {
        details: done.length > 0 ? `Already moved: ${done.join(', ')}.` : undefined,
        hint: `Fix the cause and run \`cilo network migrate${input.cidr ? ` ${input.cidr}` : ''}\` again: it resumes where it stopped.`,
        cause: e,
      });
    }
  }
  return { base_subnets: plan.bases, moved, unchanged: plan.unchanged };
}
