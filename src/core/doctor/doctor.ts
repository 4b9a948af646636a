/**
 * `cilo doctor`: compares state with Docker and the file system, reports every problem as a
 * finding, and with `fix` repairs what it safely can. Workspaces and volumes that may hold
 * data are deleted only with `force`.
 */
import { sameSite } from '../../domain/sites.js';
import { askSite, atLocalSite } from '../sites/reach.js';
import { existsSync, readdirSync, statSync, chmodSync } from 'node:fs';
import type { SiteContext } from '../sites/site.js';
import { join, resolve, sep } from 'node:path';
import { compareNames, COMPOSE_PROJECT, COMPOSE_SERVICE, composeProjectName, LABELS, networkName, sharedAliases, sharedContainerName } from '../../domain/names.js';
import { allocateSubnet } from '../../domain/subnet.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { sharedKey, type EnvironmentState, type State } from '../../domain/state.js';
import { readState, restoreBackup, withStateLock } from '../../state/store.js';
import { environmentBusy, withEnvironmentLock } from '../../state/env-lock.js';
import type { CoreContext } from '../context.js';
import { checkDatasets } from '../datasets/datasets.js';
import { thawForkSource } from '../copies/fork.js';
import { checkSnapshots } from '../copies/snapshots.js';
import { destroyEnvironment } from '../environments/destroy.js';
import { ensureNetworkOrMove, removeNetworkAndLinks } from '../network/network.js';
import { attach, reapOn, releaseShared, stopShared } from '../shared/shared.js';
import { removeSharedLeftover, sharedLeftovers } from '../shared/shared-leftovers.js';
import { upEnvironment } from '../environments/up.js';
import { checkRouter } from '../router/status.js';
import { ROUTER_LABEL } from '../../domain/router-config.js';
import type { ContainerSummary, NetworkInspect, VolumeInfo } from '../../domain/engine.js';
import { answersWithRouter, ROUTER_ADDRESS } from '../../domain/host-reach.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  /** Stable kind, e.g. `shared.orphaned`, `env.network-missing`. */
  kind: string;
  severity: Severity;
  subject: string;
  message: string;
  /** What `--fix` does (or would do) about it; absent when it cannot fix it. */
  fix?: string;
  /** Set when this run repaired it. */
  fixed?: boolean;
  /** Set when a fix exists but needs `--force`. */
  needs_force?: boolean;
  /** Set when the fix was tried and failed. */
  fix_error?: string;
}

export interface DoctorReport {
  ok: boolean;
  engine: { reachable: boolean; version?: string; compose?: string };
  /** `port_unknown`: the server is not running and its port is in a state file that cannot be read. */
  dns: { running: boolean; answering: boolean; port: number; port_unknown?: boolean };
  findings: Finding[];
}

export interface DoctorInput {
  fix?: boolean | undefined;
  force?: boolean | undefined;
}

type Repair = () => Promise<void>;

interface Collected {
  finding: Finding;
  repair?: Repair;
  destructive?: boolean;
}


class Findings {
  readonly items: Collected[] = [];
  add(finding: Finding, repair?: Repair, destructive = false): void {
    this.items.push(repair ? { finding, repair, destructive } : { finding });
  }
}

function checkPermissions(ctx: CoreContext, f: Findings): void {
  const items: [string, number][] = [
    [ctx.paths.home, 0o700],
    [ctx.paths.state, 0o600],
    [ctx.paths.stateBackup, 0o600],
  ];
  for (const [path, mode] of items) {
    if (!existsSync(path)) continue;
    const actual = statSync(path).mode & 0o777;
    if ((actual & 0o077) !== 0) {
      f.add(
        { kind: 'home.permissions', severity: 'warning', subject: path, message: `${path} is readable by other users (mode ${actual.toString(8)}).`, fix: `chmod ${mode.toString(8)}` },
        async () => chmodSync(path, mode),
      );
    }
  }
}

/** cilo's local CA (HTTPS through the router): readable, a CA, not ended, its key its own and private. */
async function checkCa(ctx: CoreContext, f: Findings): Promise<void> {
  const ca = await ctx.ca.inspect();
  if (!ca) return;
  for (const problem of ca.problems) f.add({ kind: 'ca.invalid', severity: 'error', subject: ca.certFile, message: problem, fix: undefined });
  const mode = ca.keyMode;
  if (mode !== undefined) {
    f.add(
      { kind: 'ca.key-permissions', severity: 'error', subject: ca.keyFile, message: `The key of cilo's CA ${ca.keyFile} is readable by other users (mode ${mode.toString(8)}): whoever reads it can pose as any site to a machine that trusts the CA.`, fix: 'chmod 600' },
      async () => chmodSync(ca.keyFile, 0o600),
    );
  }
}

async function checkDns(ctx: CoreContext, state: State, f: Findings): Promise<DoctorReport['dns']> {
  const st = await ctx.dns.status();
  if (!st.running && (await ctx.dns.portTaken(st.port))) {
    f.add({ kind: 'dns.port-taken', severity: 'error', subject: 'dns', message: `Port ${st.port} on 127.0.0.1 is used by another program, so cilo's DNS server cannot start.`, fix: undefined });
    return { running: false, answering: false, port: st.port };
  }
  if (!st.running || !st.answering) {
    f.add(
      { kind: 'dns.down', severity: 'warning', subject: 'dns', message: `The DNS server is ${st.running ? 'running but not answering' : 'not running'} on 127.0.0.1:${st.port}.`, fix: 'start it' },
      () => ctx.dns.start(),
    );
    return { running: st.running, answering: st.answering, port: st.port };
  }
  // Every wrong record has the same repair: restarted once, however many there are.
  let restart: Promise<void> | undefined;
  const restartDns = (): Promise<void> => (restart ??= ctx.dns.stop().then(() => ctx.dns.start()));
  const checks = Object.values(state.environments)
    .filter((env) => env.status === 'running')
    .flatMap((env) => Object.entries(env.services).map(([service, s]) => ({ env, name: `${service}.${env.name}${env.dns_suffix}`, ip: answersWithRouter(state, env) && s.ip !== '' ? ROUTER_ADDRESS : s.ip })))
    .filter((c) => c.ip !== ''); // a scaled service with no replica running has no name to check (router mode: the names answer 127.0.0.1)
  const answers = await Promise.all(checks.map((c) => ctx.dns.lookup(st.port, c.name, 500)));
  checks.forEach((c, i) => {
    const got = answers[i] ?? [];
    if (got.includes(c.ip)) return;
    f.add({ kind: 'env.dns-record', severity: 'error', subject: c.env.name, message: `DNS answers ${got.join(', ') || 'nothing'} for ${c.name}, expected ${c.ip}.`, fix: 'restart the DNS server' }, restartDns);
  });
  return { running: true, answering: true, port: st.port };
}

function checkEnvironment(ctx: SiteContext, env: EnvironmentState, containers: ContainerSummary[], networks: NetworkInspect[], f: Findings, busy: Set<string>): void {
  const subject = env.name;
  // Another command (an up, create, destroy) works on it right now: nothing is interrupted.
  if (busy.has(env.name)) return;
  if (env.status === 'creating') {
    const what = env.fork ? `fork of ${env.fork.snapshot ? `snapshot ${env.fork.snapshot}` : env.fork.from} into` : 'creation of';
    f.add({ kind: 'env.interrupted-create', severity: 'error', subject, message: `The ${what} environment "${env.name}" was interrupted.`, fix: `${env.fork && !env.fork.snapshot ? `thaw ${env.fork.from}, ` : ''}remove the partial copy and its state entry (create it again afterwards)` }, async () =>
      // Under its lock, and only if no command resumed the creation since it was checked.
      withEnvironmentLock(ctx.paths, env.name, async () => {
        if (readState(ctx.paths).environments[env.name]?.status !== 'creating') return;
        await thawForkSource(ctx, env);
        await destroyEnvironment(ctx, env);
      }),
    );
    return;
  }
  if (env.status === 'destroying') {
    f.add({ kind: 'env.interrupted-destroy', severity: 'error', subject, message: `The destruction of environment "${env.name}" was interrupted.`, fix: 'finish destroying it' }, async () => {
      await destroyEnvironment(ctx, env);
    });
    return;
  }
  if (!existsSync(env.workspace)) {
    f.add(
      { kind: 'env.workspace-missing', severity: 'error', subject, message: env.workspace_mode === 'in-place' ? `The tree ${env.workspace} that environment "${env.name}" runs in place on is missing.` : `The workspace ${env.workspace} of environment "${env.name}" is missing.`, fix: 'destroy the environment (its containers, volumes and network)' },
      async () => destroyEnvironment(ctx, env),
      true,
    );
    return;
  }
  const netName = networkName(env.project, env.name);
  // Of two networks with this name (network.duplicate), the one on its subnet.
  const net = networks.find((n) => n.Name === netName && n.IPAM.Config?.[0]?.Subnet === env.subnet) ?? networks.find((n) => n.Name === netName);
  const started = Object.keys(env.services).length > 0 && env.status !== 'created';
  if (!net && started) {
    f.add({ kind: 'env.network-missing', severity: 'error', subject, message: `The network ${netName} of environment "${env.name}" is missing.`, fix: env.status === 'running' ? 'recreate it and bring the environment up' : 'recreate it' }, async () => {
      // As create and up do: if its subnet was taken meanwhile, the environment moves.
      await ensureNetworkOrMove(ctx, env);
      if (env.status === 'running') await upEnvironment(ctx, { env: env.name, recreate: true });
    });
  } else if (net && net.IPAM.Config?.[0]?.Subnet !== env.subnet) {
    f.add({ kind: 'env.subnet-mismatch', severity: 'error', subject, message: `The network ${netName} has subnet ${net.IPAM.Config?.[0]?.Subnet ?? 'none'}, but state says ${env.subnet}.`, fix: undefined });
  }
  if (env.status !== 'running') return;
  const cp = composeProjectName(env.project, env.name);
  const problems: string[] = [];
  for (const [service, s] of Object.entries(env.services)) {
    if (s.type === 'shared') continue;
    const c = containers.find((x) => x.Labels[COMPOSE_PROJECT] === cp && x.Labels[COMPOSE_SERVICE] === service);
    if (!c) problems.push(`${service} has no container`);
    else if (c.State !== 'running' && !(c.State === 'exited' && /Exited \(0\)/.test(c.Status))) problems.push(`${service} is ${c.State}`);
    // (a scaled service's replicas have engine-assigned addresses: nothing fixed to compare)
    else if (s.replicas === undefined && c.State === 'running' && net && c.NetworkSettings?.Networks?.[netName]?.IPAddress && c.NetworkSettings.Networks[netName]?.IPAddress !== s.ip) {
      problems.push(`${service} has IP ${c.NetworkSettings.Networks[netName]?.IPAddress}, state says ${s.ip}`);
    }
  }
  if (problems.length > 0) {
    f.add({ kind: 'env.services', severity: 'error', subject, message: `Environment "${env.name}" is recorded as running, but ${problems.join('; ')}.`, fix: `bring it up again (cilo up ${env.name})` }, async () => {
      await upEnvironment(ctx, { env: env.name });
    });
  }
}

/**
 * Networks of one name (the engine allows it: two requests at once both pass its name check).
 * The one to keep is the environment's: its subnet as state records it, then containers on
 * it; the others are removed (after detaching their containers, which the next `up` of a
 * running environment puts back on the kept one).
 */
async function checkDuplicateNetworks(ctx: SiteContext, state: State, networks: NetworkInspect[], f: Findings): Promise<void> {
  const host = ctx.site.host;
  const byName = new Map<string, NetworkInspect[]>();
  for (const n of networks) {
    if (n.Labels?.[LABELS.managed] !== 'true') continue;
    byName.set(n.Name, [...(byName.get(n.Name) ?? []), n]);
  }
  for (const [name, same] of byName) {
    if (same.length < 2) continue;
    const env = Object.values(state.environments).find((e) => networkName(e.project, e.name) === name && sameSite(e, ctx.site));
    // The network list leaves containers out: each network's own answer names them.
    const inspected = await Promise.all(same.map(async (n) => (await ctx.site.docker.inspectNetwork(n.Id)) ?? n));
    const score = (n: NetworkInspect): number => (env && n.IPAM.Config?.[0]?.Subnet === env.subnet ? 2 : 0) + (Object.keys(n.Containers ?? {}).length > 0 ? 1 : 0);
    const keep = inspected.reduce((best, n) => (score(n) > score(best) ? n : best));
    const others = inspected.filter((n) => n.Id !== keep.Id);
    const short = (n: NetworkInspect): string => `${n.Id.slice(0, 12)} (${n.IPAM.Config?.[0]?.Subnet ?? 'no subnet'}, ${Object.keys(n.Containers ?? {}).length} container(s))`;
    const subject = host ? `${host}:${name}` : name;
    f.add(
      { kind: 'network.duplicate', severity: 'error', subject, message: `${host ? `On host ${host}: ` : ''}${same.length} Docker networks are named ${name}: ${inspected.map(short).join(', ')}.`, fix: `keep ${keep.Id.slice(0, 12)}${env ? ` (environment ${env.name}'s)` : ''} and remove ${others.map((n) => n.Id.slice(0, 12)).join(', ')}` },
      async () => {
        for (const n of others) await removeNetworkAndLinks(ctx.site.docker, n.Id);
        const detached = others.some((n) => Object.keys(n.Containers ?? {}).length > 0);
        if (env && detached && readState(ctx.paths).environments[env.name]?.status === 'running') await upEnvironment(ctx, { env: env.name });
      },
    );
  }
}

/** The environments (creating or destroying) a live command holds the lock of (env-lock.ts). */
async function busyEnvironments(ctx: CoreContext, envs: EnvironmentState[]): Promise<Set<string>> {
  const pending = envs.filter((e) => e.status === 'creating' || e.status === 'destroying');
  const held = await Promise.all(pending.map((e) => environmentBusy(ctx.paths, e.name)));
  return new Set(pending.filter((_, i) => held[i]).map((e) => e.name));
}

const nameOf = (c: ContainerSummary): string => c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);

/**
 * Containers, networks and volumes of `ctx`'s engine (this machine's, or `host`'s) that no
 * environment on that engine owns; on this machine also workspaces no environment owns.
 */
function checkOrphans(ctx: SiteContext, state: State, containers: ContainerSummary[], networks: NetworkInspect[], volumes: VolumeInfo[], f: Findings): void {
  const host = ctx.site.host;
  const owner = (project: string | undefined, env: string | undefined): EnvironmentState | undefined => {
    const e = env ? state.environments[env] : undefined;
    return e?.project === project ? e : undefined;
  };
  // Engine resources belong to an environment on this engine; a workspace here, to any (one on a host keeps its workspace here too).
  const known = (project: string | undefined, env: string | undefined): boolean => {
    const e = owner(project, env);
    return e !== undefined && sameSite(e, ctx.site);
  };
  const where = host ? { subject: (s: string) => `${host}:${s}`, message: (m: string) => `On host ${host}: ${m}` } : { subject: (s: string) => s, message: (m: string) => m };
  for (const c of containers) {
    if (c.Labels[LABELS.shared] === 'true' || !c.Labels[LABELS.env]) continue;
    if (known(c.Labels[LABELS.project], c.Labels[LABELS.env])) continue;
    const name = nameOf(c);
    f.add({ kind: 'orphan.container', severity: 'warning', subject: where.subject(name), message: where.message(`Container ${name} (project ${c.Labels[LABELS.project]}, environment ${c.Labels[LABELS.env]}) belongs to no environment in state.`), fix: 'remove it' }, async () =>
      ctx.site.docker.removeContainer(c.Id, { force: true }),
    );
  }
  for (const n of networks) {
    const l = n.Labels ?? {};
    if (l[LABELS.managed] !== 'true' || known(l[LABELS.project], l[LABELS.env])) continue;
    // The loopback router's own network: its checks (router.*) say whether it should be there.
    if (l[ROUTER_LABEL] === 'true') continue;
    f.add({ kind: 'orphan.network', severity: 'warning', subject: where.subject(n.Name), message: where.message(`Network ${n.Name} belongs to no environment in state.`), fix: 'remove it (after its containers)' }, async () => removeNetworkAndLinks(ctx.site.docker, n.Id));
  }
  for (const v of volumes) {
    const l = v.Labels ?? {};
    if (l[LABELS.managed] !== 'true' || l[LABELS.shared] === 'true' || !l[LABELS.env] || known(l[LABELS.project], l[LABELS.env])) continue;
    f.add({ kind: 'orphan.volume', severity: 'warning', subject: where.subject(v.Name), message: where.message(`Volume ${v.Name} belongs to no environment in state and may hold data.`), fix: 'remove it' }, async () => ctx.site.docker.removeVolume(v.Name), true);
  }
  // Workspaces on disk that state does not know (a host's copies go with its environments).
  if (host || !existsSync(ctx.paths.envsDir)) return;
  // Owned is what state points to, whatever the directory is called (a migration may have
  // renamed its environment): the directory itself, one inside it, or one it is inside.
  const recorded = Object.values(state.environments).map((e) => resolve(e.workspace));
  const pointedTo = (dir: string): boolean => recorded.some((w) => w === dir || w.startsWith(`${dir}${sep}`) || dir.startsWith(`${w}${sep}`));
  for (const project of readdirSync(ctx.paths.envsDir)) {
    const pdir = join(ctx.paths.envsDir, project);
    if (!statSync(pdir).isDirectory()) continue;
    for (const env of readdirSync(pdir)) {
      const dir = resolve(pdir, env);
      if (pointedTo(dir) || owner(project, env)) continue;
      f.add({ kind: 'orphan.workspace', severity: 'warning', subject: dir, message: `Workspace ${dir} belongs to no environment in state.`, fix: 'delete it' }, async () => {
        await ctx.workspaces.remove(dir);
      }, true);
    }
  }
}

/** Whether this home's state knows what the labels describe: an environment, or a shared service, of a project. */
function claimedByState(state: State, l: Record<string, string>): boolean {
  const project = l[LABELS.project];
  if (l[LABELS.shared] === 'true') return state.shared_services[sharedKey(project ?? '', l[LABELS.service] ?? '')] !== undefined;
  const env = l[LABELS.env];
  return env !== undefined && state.environments[env]?.project === project;
}

/** The resources labelled `cilo=true` that this home answers for: its own, and unlabelled ones its state knows. */
function ownedByThisHome(state: State, home: string, l: Record<string, string>): boolean {
  return l[LABELS.home] === home || (l[LABELS.home] === undefined && claimedByState(state, l));
}

/**
 * Resources labelled `cilo=true` without a `cilo.home` label that no state here knows: made by
 * the original cilo or by hand, they are nobody's, and no other home will ever report them.
 * (Those labelled with another home are that home's business and left alone.)
 */
function checkUnclaimed(ctx: SiteContext, unclaimed: { containers: ContainerSummary[]; networks: NetworkInspect[]; volumes: VolumeInfo[] }, f: Findings): void {
  for (const c of unclaimed.containers) {
    const l = c.Labels;
    const name = nameOf(c);
    const what = l[LABELS.shared] === 'true' ? `shared service ${l[LABELS.service] ?? '?'} of project ${l[LABELS.project] ?? '?'}` : `project ${l[LABELS.project] ?? '?'}, environment ${l[LABELS.env] ?? '?'}`;
    f.add(
      { kind: l[LABELS.shared] === 'true' ? 'shared.unmanaged' : 'unmanaged.container', severity: 'warning', subject: name, message: `Container ${name} (${what}) is labelled cilo=true, but no cilo home made it (no cilo.home label) and state does not know it.`, fix: 'remove it (volumes stay)' },
      async () => ctx.site.docker.removeContainer(c.Id, { force: true }),
    );
  }
  for (const n of unclaimed.networks) {
    f.add({ kind: 'unmanaged.network', severity: 'warning', subject: n.Name, message: `Network ${n.Name} is labelled cilo=true, but no cilo home made it (no cilo.home label) and state does not know it.`, fix: 'remove it (after disconnecting its containers)' }, async () => removeNetworkAndLinks(ctx.site.docker, n.Id));
  }
  for (const v of unclaimed.volumes) {
    f.add({ kind: 'unmanaged.volume', severity: 'warning', subject: v.Name, message: `Volume ${v.Name} is labelled cilo=true, but no cilo home made it (no cilo.home label) and state does not know it; it may hold data.`, fix: 'remove it' }, async () => ctx.site.docker.removeVolume(v.Name), true);
  }
}

/** The shared services of one site's engine against its containers. */
function checkShared(ctx: SiteContext, state: State, containers: ContainerSummary[], f: Findings): void {
  const host = ctx.site.host;
  const now = ctx.clock.now();
  for (const [key, recorded] of Object.entries(state.shared_services)) {
    if (!sameSite(recorded, ctx.site)) continue;
    const c = containers.find((x) => x.Names.includes(`/${recorded.container}`));
    // Users that are not environments of the project (left by a failed first `up` of an older
    // cilo, or a state edited by hand) keep the container from its grace period forever.
    const unknown = recorded.users.filter((u) => state.environments[u]?.project !== recorded.project);
    const rec = { ...recorded, users: recorded.users.filter((u) => !unknown.includes(u)) };
    if (unknown.length > 0) {
      f.add(
        { kind: 'shared.unknown-user', severity: 'error', subject: key, message: `Shared service ${key} is held by ${unknown.join(', ')}, which ${unknown.length === 1 ? 'is not an environment' : 'are not environments'} of project ${rec.project}.`, fix: `drop ${unknown.length === 1 ? 'that user' : 'those users'}${rec.users.length === 0 ? ' and start its grace period' : ''}` },
        async () => {
          for (const name of unknown) await releaseShared(ctx, { name, project: rec.project, host }, [rec.service]);
        },
      );
      if (rec.users.length === 0) continue; // the fix starts the grace; nothing else to say
    }
    const graceOver = rec.grace_until !== null && Date.parse(rec.grace_until) <= now;
    if (rec.users.length === 0 && rec.grace_until === null && c) {
      f.add({ kind: 'shared.orphaned', severity: 'warning', subject: key, message: `Shared service ${key} has a container but no users and no grace period.`, fix: 'stop and remove it (volumes stay)' }, async () => {
        // Under the service's lock, and refused if an environment took it back meanwhile.
        await stopShared(ctx, { project: rec.project, service: rec.service, host });
      });
      continue;
    }
    if (rec.users.length === 0 && graceOver) {
      f.add({ kind: 'shared.stale-grace', severity: 'warning', subject: key, message: `Shared service ${key}'s grace period ended at ${rec.grace_until}, but it is still there.`, fix: 'stop and remove it (volumes stay)' }, async () => {
        await reapOn(ctx);
      });
      continue;
    }
    if (rec.users.length > 0 && !c) {
      f.add({ kind: 'shared.missing', severity: 'error', subject: key, message: `Shared service ${key} is used by ${rec.users.join(', ')}, but its container is gone.`, fix: `bring its users up again, which recreates it` }, async () => {
        for (const u of rec.users) {
          const e = readState(ctx.paths).environments[u];
          if (e?.status === 'running') await upEnvironment(ctx, { env: u });
          else await releaseShared(ctx, { name: u, project: rec.project, host }, [rec.service]);
        }
      });
      continue;
    }
    if (!c) continue;
    if (rec.users.length > 0 && c.State !== 'running') {
      f.add({ kind: 'shared.stopped', severity: 'error', subject: key, message: `Shared service ${key} is used by ${rec.users.join(', ')}, but its container is ${c.State}.`, fix: 'start it' }, async () => ctx.site.docker.startContainer(c.Id));
      continue; // a stopped container shows no addresses: attachment is checked once it runs
    }
    for (const u of rec.users) {
      const env = state.environments[u];
      const net = env ? networkName(env.project, env.name) : undefined;
      const ip = rec.ips[u];
      if (!env || !net || !ip) continue;
      if (c.NetworkSettings?.Networks?.[net]?.IPAddress === ip) continue;
      f.add({ kind: 'shared.detached', severity: 'error', subject: key, message: `Shared service ${key} is not attached to ${net} (environment ${u}) with its address ${ip}.`, fix: 'attach it' }, async () =>
        attach(ctx.site.docker, rec.container, net, ip, [...sharedAliases(rec.service, env), ...(rec.aliases ?? [])]),
      );
    }
  }
  for (const c of containers) {
    if (c.Labels[LABELS.shared] !== 'true') continue;
    const project = c.Labels[LABELS.project] ?? '';
    const service = c.Labels[LABELS.service] ?? '';
    if (state.shared_services[sharedKey(project, service, host)]) continue;
    const name = c.Names[0]?.replace(/^\//, '') ?? sharedContainerName(project, service);
    f.add({ kind: 'shared.unmanaged', severity: 'warning', subject: name, message: `Shared container ${name} is not known to state.`, fix: 'stop and remove it (volumes stay)' }, async () => ctx.site.docker.removeContainer(c.Id, { force: true }));
  }
}

/**
 * Shared volumes and dataset templates nothing uses any more (shared-leftovers.ts): a template
 * is removed by --fix (the next dataset of its seed builds it again), a volume holds data and
 * needs --force.
 */
async function checkSharedLeftovers(ctx: CoreContext, f: Findings): Promise<void> {
  for (const l of await sharedLeftovers(ctx)) {
    if (l.in_use !== null) continue;
    const what = l.kind === 'volume' ? `Volume ${l.name} of shared service ${l.service} (project ${l.project}) is used by nothing any more (no shared container, no environment of the project); it may hold data.` : `Dataset template ${l.name} in shared ${l.service} of project ${l.project} is used by no environment's dataset.`;
    f.add({ kind: `shared.unused-${l.kind}`, severity: 'warning', subject: `${l.project}/${l.service}:${l.name}`, message: what, fix: l.kind === 'volume' ? `remove volume ${l.name}` : `drop template ${l.name}` }, () => removeSharedLeftover(ctx, l), l.kind === 'volume');
  }
}

async function checkAddressPools(ctx: SiteContext, state: State, networks: NetworkInspect[], f: Findings): Promise<void> {
  // Docker's own pools: can it still hand out a subnet for a network without one (as compose does)?
  const probe = `cilo-doctor-probe-${process.pid}`;
  try {
    await ctx.site.docker.createNetwork(probe, { [LABELS.managed]: 'true', [LABELS.home]: homeId(ctx.paths), 'cilo.probe': 'true' });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/available|non-overlapping|pool/i.test(message)) {
      f.add({ kind: 'docker.address-pools', severity: 'error', subject: 'docker', message: `Docker's default address pools are exhausted (${message}).`, fix: undefined });
    } else {
      // Whatever else stops a network from being made stops every `up` too.
      f.add({ kind: 'docker.network-create', severity: 'error', subject: 'docker', message: `Docker cannot create a network: ${message}`, fix: undefined });
    }
  } finally {
    // Also when the creation failed in a way that still left it (a timeout after the engine made it).
    await ctx.site.docker.removeNetwork(probe).catch(() => undefined);
  }
  try {
    allocateSubnet(state.base_subnets, [...Object.values(state.environments).map((e) => e.subnet), ...networks.flatMap((n) => (n.IPAM.Config ?? []).map((c) => c.Subnet ?? ''))]);
  } catch (e) {
    if (!(e instanceof CiloError)) throw e;
    f.add({ kind: 'cilo.subnets-exhausted', severity: 'error', subject: 'network', message: e.message, fix: undefined });
  }
}

/**
 * Each remote host: does it answer (an unreachable one is an error naming it), and its
 * environments against its own engine, with repairs made there.
 */
async function checkHosts(ctx: CoreContext, state: State, f: Findings): Promise<void> {
  const labelled = { label: [`${LABELS.managed}=true`] };
  for (const host of Object.values(state.hosts ?? {}).sort((a, b) => compareNames(a.name, b.name))) {
    const envs = Object.values(state.environments).filter((e) => e.host === host.name).sort((a, b) => compareNames(a.name, b.name));
    const answer = await askSite(ctx, { host: host.name }, (site) => Promise.all([site.docker.listContainers(labelled), site.docker.listNetworks(), site.docker.listVolumes(labelled)]), { askMs: HOST_LIST_MS });
    if (!answer.ok) {
      f.add({ kind: 'host.unreachable', severity: 'error', subject: host.name, message: `Host ${host.name} (${host.ssh}) does not answer${envs.length > 0 ? `; its environments ${envs.map((x) => x.name).join(', ')} cannot be checked` : ''}: ${answer.problem}` });
      continue;
    }
    const hctx: SiteContext = { ...ctx, site: answer.site };
    const [containers, networks, volumes] = answer.value;
    const busy = await busyEnvironments(ctx, envs);
    for (const env of envs) checkEnvironment(hctx, env, containers, networks, f, busy);
    const owned = (l: Record<string, string> | null): boolean => ownedByThisHome(state, homeId(ctx.paths), l ?? {});
    // What this home left on the host (`destroy --forget` while it did not answer, a killed command).
    checkOrphans(hctx, state, containers.filter((c) => owned(c.Labels)), networks.filter((n) => n.Labels?.[LABELS.managed] === 'true' && owned(n.Labels)), volumes.filter((v) => owned(v.Labels)), f);
    await checkDuplicateNetworks(hctx, state, networks.filter((n) => n.Labels?.[LABELS.managed] === 'true' && owned(n.Labels)), f);
    checkShared(hctx, state, containers.filter((c) => owned(c.Labels)), f);
    // The datasets of the host's environments, in the host's shared services.
    for (const d of await checkDatasets(hctx, state)) f.add({ kind: d.kind, severity: 'warning', subject: `${host.name}:${d.subject}`, message: `On host ${host.name}: ${d.message}`, fix: d.fix }, d.repair, d.destructive);
  }
}

/** This machine's engine and Compose, which do not depend on cilo's state. */
async function checkEngine(ctx: SiteContext, f: Findings): Promise<DoctorReport['engine']> {
  const engine: DoctorReport['engine'] = { reachable: false };
  try {
    await ctx.site.docker.ping();
    engine.reachable = true;
    engine.version = (await ctx.site.docker.info()).ServerVersion;
  } catch (e) {
    if (!(e instanceof CiloError)) throw e;
    f.add({ kind: 'docker.unreachable', severity: 'error', subject: 'docker', message: e.message });
  }
  const compose = await ctx.site.compose.version();
  if (!compose || !/^v?2\./.test(compose)) {
    f.add({ kind: 'docker.compose-missing', severity: 'error', subject: 'compose', message: compose ? `Docker Compose ${compose} is too old: cilo needs Compose v2.` : 'Docker Compose v2 (`docker compose`) is not installed.' });
  } else engine.compose = compose;
  return engine;
}

/**
 * The DNS server's state when the state file cannot be read: a running server names its own
 * port; a stopped one's port is in the unreadable file, so it is reported as 0 (`port_unknown`).
 */
async function dnsWithoutState(ctx: CoreContext): Promise<DoctorReport['dns']> {
  try {
    const st = await ctx.dns.status();
    return { running: st.running, answering: st.answering, port: st.port };
  } catch (e) {
    if (!(e instanceof CiloError) || e.code !== 'STATE_CORRUPT') throw e;
    return { running: false, answering: false, port: 0, port_unknown: true };
  }
}

/** How long a host may take to list its containers, networks and volumes for the doctor. */
const HOST_LIST_MS = 15_000;

export async function runDoctor(base: CoreContext, input: DoctorInput = {}): Promise<DoctorReport> {
  // This machine's engine first; each host's after (checkHosts).
  const ctx = atLocalSite(base);
  const f = new Findings();
  const report: DoctorReport = { ok: true, engine: { reachable: false }, dns: { running: false, answering: false, port: 0 }, findings: [] };

  // State first: a corrupt file is reported, and restored from the backup with --fix.
  let state: State;
  try {
    state = readState(ctx.paths);
  } catch (e) {
    if (!(e instanceof CiloError) || e.code !== 'STATE_CORRUPT') throw e;
    const canRestore = existsSync(ctx.paths.stateBackup);
    const finding: Finding = { kind: 'state.corrupt', severity: 'error', subject: ctx.paths.state, message: e.message, ...(canRestore ? { fix: `restore ${ctx.paths.stateBackup} (the bad file is kept aside)` } : {}) };
    if (input.fix && canRestore) {
      const aside = restoreBackup(ctx.paths);
      finding.fixed = true;
      finding.fix = `restored ${ctx.paths.stateBackup}; the bad file is kept as ${aside}`;
    }
    report.findings.push(finding);
    report.ok = false;
    if (!finding.fixed) {
      // The engine does not depend on the state: say what it is rather than leave the report's
      // default ("NOT reachable"), which sent users with a corrupt file looking at Docker.
      report.engine = await checkEngine(ctx, f);
      report.dns = await dnsWithoutState(ctx);
      report.findings.push(...f.items.map((i) => i.finding));
      return report;
    }
    state = readState(ctx.paths);
  }

  checkPermissions(ctx, f);
  report.engine = await checkEngine(ctx, f);
  report.dns = await checkDns(ctx, state, f);
  await checkCa(ctx, f);

  if (report.engine.reachable) {
    // Resources of this CILO_HOME are checked against its state; another home's are none of
    // our business; those of no home at all are reported as unmanaged.
    const home = homeId(ctx.paths);
    const labelled = { label: [`${LABELS.managed}=true`] };
    const [allContainers, allNetworks, allVolumes] = await Promise.all([ctx.site.docker.listContainers(labelled), ctx.site.docker.listNetworks(), ctx.site.docker.listVolumes(labelled)]);
    const owned = (l: Record<string, string> | null): boolean => ownedByThisHome(state, home, l ?? {});
    const homeless = (l: Record<string, string> | null): boolean => l?.[LABELS.managed] === 'true' && l[LABELS.home] === undefined && !claimedByState(state, l);
    const containers = allContainers.filter((c) => owned(c.Labels));
    const networks = allNetworks.filter((n) => n.Labels?.[LABELS.managed] !== 'true' || owned(n.Labels));
    const volumes = allVolumes.filter((v) => owned(v.Labels));
    const local = Object.values(state.environments).filter((e) => sameSite(e, ctx.site)).sort((a, b) => compareNames(a.name, b.name));
    const busy = await busyEnvironments(ctx, local);
    for (const env of local) checkEnvironment(ctx, env, containers, networks, f, busy);
    checkOrphans(ctx, state, containers, networks, volumes, f);
    await checkDuplicateNetworks(ctx, state, networks, f);
    checkShared(ctx, state, containers, f);
    await checkSharedLeftovers(ctx, f);
    checkUnclaimed(ctx, { containers: allContainers.filter((c) => homeless(c.Labels)), networks: allNetworks.filter((n) => homeless(n.Labels)), volumes: allVolumes.filter((v) => homeless(v.Labels)) }, f);
    for (const d of await checkDatasets(ctx, state)) f.add({ kind: d.kind, severity: 'warning', subject: d.subject, message: d.message, fix: d.fix }, d.repair, d.destructive);
    for (const sn of checkSnapshots(ctx)) f.add({ kind: sn.kind, severity: 'error', subject: sn.subject, message: sn.message, fix: sn.fix }, sn.repair);
    await checkAddressPools(ctx, state, allNetworks, f);
    for (const r of await checkRouter(ctx, state)) f.add({ kind: r.kind, severity: r.severity, subject: r.subject, message: r.message, fix: r.fix }, r.repair);
  }
  await checkHosts(ctx, state, f);

  for (const item of f.items) {
    const finding = item.finding;
    if (input.fix && item.repair) {
      if (item.destructive && !input.force) {
        finding.needs_force = true;
      } else {
        try {
          await item.repair();
          finding.fixed = true;
        } catch (e) {
          finding.fix_error = e instanceof Error ? e.message : String(e);
        }
      }
    } else if (item.destructive) finding.needs_force = true;
    if (!item.repair) delete finding.fix;
    report.findings.push(finding);
  }
  report.ok = report.findings.every((x) => x.fixed === true);
  return report;
}
