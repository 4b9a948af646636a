/**
 * Shared services: one container per project and service, made by compose from the service's
 * project-level definition, attached to each user environment's network with a fixed IP,
 * reference counted in state, and removed after a grace period once nobody uses it.
 */
import { sameSite } from '../../domain/sites.js';
import { atSite, askEachSite } from '../sites/reach.js';
import { join } from 'node:path';
import type { SiteContext } from '../sites/site.js';
import type { Engine } from '../ports.js';
import { networkName, sharedAliases, sharedComposeProject, sharedContainerName, sharedLabels } from '../../domain/names.js';
import { diffDefinitions, HASH_LABEL, HOST_PORTS_LABEL, renderSharedModel, type SharedDefinition } from '../../domain/shared.js';
import { hostPortsLabel, takenHostPorts } from '../../domain/host-ports.js';
import { chooseHostPorts } from '../network/host-ports.js';
import { CiloError, DockerApiError } from '../../errors.js';
import { homeId, type CiloPaths } from '../../state/paths.js';
import { sharedKey, type EnvironmentState, type SharedServiceState, type State } from '../../domain/state.js';
import { readState, withNamedLock, withStateLock } from '../../state/store.js';
import { graceExpired } from '../../state/grace.js';
import { storedSharedDefinition } from '../../state/shared-definition.js';
import { isoNow, type CoreContext } from '../context.js';
import { writeModelFile } from '../project/env-compose.js';
import { waitForServices } from '../environments/wait.js';
import { serviceReporter } from '../progress.js';
import { composePhase } from '../../domain/progress.js';

export function sharedFile(paths: CiloPaths, project: string, service: string, host: string | undefined): string {
  return join(paths.generatedDir, project, host ? `_shared@${host}` : '_shared', `${service}.yml`);
}

/** One lock per shared container, so per engine: a host's and this machine's never wait for each other. */
export function lockName(project: string, service: string, host: string | undefined): string {
  return `shared-${project}-${service}${host ? `@${host}` : ''}`;
}

/** The named volumes this home made for a project's shared service (labelled by renderSharedModel). */
export async function sharedVolumes(ctx: SiteContext, project: string, service: string): Promise<string[]> {
  const labels = sharedLabels(project, service, homeId(ctx.paths));
  const list = await ctx.site.docker.listVolumes({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) });
  return list.map((v) => v.Name).sort();
}

/** Connects a container to a network with a fixed IP and aliases; a no-op when already so. */
export async function attach(docker: Engine, container: string, network: string, ip: string, aliases: string[]): Promise<void> {
  const info = await docker.inspectContainer(container);
  if (!info) throw new CiloError('SERVICE_NOT_FOUND', `The shared container ${container} disappeared while being attached.`, { hint: 'Run the same command again.' });
  const current = info.NetworkSettings.Networks[network];
  if (current?.IPAddress === ip && aliases.every((a) => current.Aliases?.includes(a))) return;
  if (current) await docker.disconnectNetwork(network, container);
  await docker.connectNetwork(network, container, ip, aliases);
}

/** Disconnects a container from a network if it is on it; returns whether the container exists. */
async function detach(docker: Engine, container: string, network: string): Promise<boolean> {
  const info = await docker.inspectContainer(container);
  if (info?.NetworkSettings.Networks[network]) await docker.disconnectNetwork(network, container);
  return info !== null;
}

export interface EnsureSharedInput {
  project: string;
  service: string;
  def: SharedDefinition;
  hash: string;
  graceSeconds: number;
  env: EnvironmentState;
  /** The shared container's IP on this environment's network. */
  ip: string;
  /**
   * Aliases besides its name: those it declares on the project's networks (`aliases:
   * [database]`) and those the environment's services link to it by (`links: ["db:database"]`).
   */
  extraAliases?: string[] | undefined;
  recreate: boolean;
  timeoutMs: number;
  build?: boolean | undefined;
  /** Its non-HTTP container ports (`5432`), published once on 127.0.0.1 for every user (issue #25). */
  ports?: string[] | undefined;
}

export interface EnsureSharedResult {
  container: string;
  action: 'created' | 'reused' | 'started' | 'recreated';
  /** Other environments whose shared container was recreated under them. */
  affected: string[];
}

/**
 * Other environments using a shared service need it as it runs: a hint never proposes to
 * replace it under them (`--recreate`), only to leave it alone (`--isolate`) or to wait.
 */
function conflictError(input: EnsureSharedInput, rec: SharedServiceState | undefined, others: string[]): CiloError {
  const differs = diffDefinitions(storedSharedDefinition(rec), input.def);
  const users = others.length > 0 ? ` (used by ${others.join(', ')})` : '';
  const isolate = `\`cilo up ${input.env.name} --isolate ${input.service}\``;
  return new CiloError('SHARED_CONFLICT', `Shared service "${input.service}" of project "${input.project}" is running with a different definition${users}; it differs in: ${differs.join(', ')}.`, {
    hint:
      others.length > 0
        ? `Give this environment its own with ${isolate}, or wait until ${others.join(', ')} no longer use${others.length > 1 ? '' : 's'} it (after their \`cilo down\` or \`cilo destroy\`) and run up again.`
        : `No other environment uses it: run \`cilo up ${input.env.name} --recreate\` to recreate it, or ${isolate} to give this environment its own.`,
  });
}

/** The environments other than `env` that hold a reference to the shared service (users no longer in state hold nothing). */
function otherUsers(state: State, rec: SharedServiceState | undefined, env: EnvironmentState): string[] {
  return (rec?.users ?? []).filter((u) => u !== env.name && state.environments[u]?.project === env.project);
}

/** Refuses, as ensureShared would, a definition that differs from the running shared container's (unless recreating). */
export async function checkSharedDefinition(ctx: SiteContext, input: EnsureSharedInput): Promise<void> {
  if (input.recreate) return;
  const container = await ctx.site.docker.inspectContainer(sharedContainerName(input.project, input.service));
  if (container && container.Config.Labels?.[HASH_LABEL] !== input.hash) {
    const state = readState(ctx.paths);
    const rec = state.shared_services[sharedKey(input.project, input.service, input.env.host)];
    throw conflictError(input, rec, otherUsers(state, rec, input.env));
  }
}

/**
 * Records the environment's reference, then makes sure the shared container exists, runs, is
 * ready, and is attached to the environment. Serialized per service, so two `up`s at once
 * never duplicate it.
 */
export async function ensureShared(ctx: SiteContext, input: EnsureSharedInput): Promise<EnsureSharedResult> {
  const { project, service, env } = input;
  const name = sharedContainerName(project, service);
  const key = sharedKey(project, service, env.host);
  const aliasesOn = (e: { name: string; dns_suffix: string }): string[] => [...sharedAliases(service, e), ...(input.extraAliases ?? [])];
  return withNamedLock(ctx.paths, lockName(project, service, env.host), async () => {
    const before = readState(ctx.paths);
    const rec = before.shared_services[key];
    const others = otherUsers(before, rec, env);
    let container = await ctx.site.docker.inspectContainer(name);
    let action: EnsureSharedResult['action'] | undefined;
    let affected: string[] = [];
    if (container && container.Config.Labels?.[HASH_LABEL] !== input.hash) {
      if (!input.recreate) throw conflictError(input, rec, others);
      affected = others;
      ctx.warn(`Recreating shared service ${service}${affected.length ? ` (also used by ${affected.join(', ')})` : ''}`);
      await ctx.site.docker.removeContainer(container.Id, { force: true });
      container = null;
      action = 'recreated';
    }
    // The reference is recorded before the container is made or waited for: whatever fails
    // after this, the environment's rollback (or `down`/`destroy`) releases it, and a container
    // nobody holds gets its grace period instead of running forever.
    const hostPorts = await recordReference(ctx, input, { fresh: !container });
    // Published ports are not part of the definition (every environment computes the same one):
    // a container made before cilo published them, or with others, is made again with these.
    if (container && (container.Config.Labels?.[HOST_PORTS_LABEL] ?? '') !== hostPortsLabel(hostPorts)) {
      affected = [...new Set([...affected, ...others])];
      ctx.log(`Recreating shared service ${service} to publish its ports on 127.0.0.1`);
      await ctx.site.docker.removeContainer(container.Id, { force: true });
      container = null;
      action = 'recreated';
    }
    const onService = serviceReporter(ctx, true);
    const create = async (): Promise<void> => {
      const file = sharedFile(ctx.paths, project, service, env.host);
      const model = renderSharedModel({ project, service, def: input.def, hash: input.hash, network: networkName(env.project, env.name), ip: input.ip, aliases: aliasesOn(env), homeId: homeId(ctx.paths), hostPorts });
      writeModelFile(file, `shared service "${service}" of project "${project}"`, model);
      // With progress events, up's step for the service says it.
      if (!ctx.progress) ctx.log(`Starting shared service ${service}`);
      // Compose's lines here are about this one container (its name is cilo's, not compose's).
      const onContainer = onService ? (_container: string, word: string): void => {
        const phase = composePhase(word);
        if (phase) onService(service, phase);
      } : undefined;
      await ctx.site.compose.up({ projectName: sharedComposeProject(project), files: [file], cwd: env.source }, { only: [service], build: input.build, onContainer });
    };
    // Volumes there were before this call makes or starts the container: those it makes are
    // removed again if the container cannot serve (a one-shot job), so a refusal leaves nothing.
    const volumesBefore = container?.State.Running ? undefined : await sharedVolumes(ctx, project, service);
    try {
      if (!container) {
        await create();
        action ??= 'created';
      } else if (!container.State.Running) {
        action = (await startOrRemake(ctx, container.Id, create)) ? 'started' : 'created';
      } else action = 'reused';
      // One that was running already serves its other users (or a paused one): no settle time.
      await waitForServices(ctx.site.docker, { composeProject: sharedComposeProject(project), services: { [service]: { oneShotOk: false } }, timeoutMs: input.timeoutMs, envName: env.name, onService, ...(action === 'reused' ? { settleMs: 0 } : {}) });
      await attach(ctx.site.docker, name, networkName(env.project, env.name), input.ip, aliasesOn(env));
    } catch (e) {
      throw await failedToServe(ctx, { name, project, service, env: env.name, inUse: others.length > 0, volumesBefore }, e);
    }

    const state = readState(ctx.paths);
    for (const user of affected) {
      const u = state.environments[user];
      const ip = rec?.ips[user];
      if (u && ip) await attach(ctx.site.docker, name, networkName(u.project, u.name), ip, aliasesOn(u));
    }
    return { container: name, action, affected };
  });
}

/** Records that the environment uses the shared service (both sides, one transaction) and ends any grace period. */
async function recordReference(ctx: CoreContext, input: EnsureSharedInput, how: { fresh: boolean }): Promise<Record<string, number>> {
  const { project, service, env } = input;
  return withStateLock(async (s) => {
    const key = sharedKey(project, service, env.host);
    const cur: SharedServiceState = s.shared_services[key] ?? {
      project,
      service,
      container: sharedContainerName(project, service),
      config_hash: input.hash,
      users: [],
      ips: {},
      grace_seconds: input.graceSeconds,
      grace_until: null,
      created_at: isoNow(ctx),
      ...(env.host ? { host: env.host } : {}),
    };
    cur.container = sharedContainerName(project, service);
    cur.config_hash = input.hash;
    cur.definition = input.def;
    cur.grace_seconds = input.graceSeconds;
    cur.grace_until = null;
    cur.users = [...new Set([...cur.users, env.name])].sort();
    cur.ips[env.name] = input.ip;
    // Kept so that `doctor --fix` attaches it again under every name it had.
    if (input.extraAliases?.length) cur.aliases = input.extraAliases;
    else delete cur.aliases;
    if (how.fresh) cur.created_at = isoNow(ctx);
    // Chosen per shared service: ports one environment asks for and another does not stay published.
    const wanted = [...new Set([...Object.keys(cur.host_ports ?? {}), ...(input.ports ?? [])])];
    // A shared service reaped after its grace comes back on the ports its users knew, if still free.
    const hostPorts = await chooseHostPorts(ctx, cur.host_ports, wanted, takenHostPorts(s), s.environments[env.name]?.services[service]?.host_ports);
    if (Object.keys(hostPorts).length > 0) cur.host_ports = hostPorts;
    else delete cur.host_ports;
    s.shared_services[key] = cur;
    // Recorded on both sides in one transaction, so a reference is never held by half.
    const e = s.environments[env.name];
    if (e && !e.shared.includes(service)) e.shared = [...e.shared, service].sort();
    const svc = e?.services[service];
    if (svc) {
      if (cur.host_ports) svc.host_ports = { ...cur.host_ports };
      else delete svc.host_ports;
    }
    return hostPorts;
  }, ctx.paths);
}

/**
 * Starts a stopped shared container; one whose network went away with the environment it was
 * made on (the engine answers 404) is removed and made again. Returns whether it was started.
 */
async function startOrRemake(ctx: SiteContext, id: string, create: () => Promise<void>): Promise<boolean> {
  try {
    await ctx.site.docker.startContainer(id);
    return true;
  } catch (e) {
    if (!(e instanceof DockerApiError && e.status === 404)) throw e;
    await ctx.site.docker.removeContainer(id, { force: true });
    await create();
    return false;
  }
}

/**
 * A shared container that did not become ready is never left behind for nobody (it would sit
 * on a network that goes away, unknown to state); one that exited was a job, and a job cannot
 * be shared.
 */
async function failedToServe(ctx: SiteContext, c: { name: string; project: string; service: string; env: string; inUse: boolean; volumesBefore: string[] | undefined }, e: unknown): Promise<unknown> {
  const info = await ctx.site.docker.inspectContainer(c.name).catch(() => null);
  if (info && !c.inUse) await ctx.site.docker.removeContainer(info.Id, { force: true }).catch(() => undefined);
  if (!c.inUse && c.volumesBefore) {
    const made = (await sharedVolumes(ctx, c.project, c.service).catch(() => [])).filter((v) => !c.volumesBefore?.includes(v));
    for (const v of made) await ctx.site.docker.removeVolume(v).catch(() => undefined);
  }
  if (info?.State.Status !== 'exited') return e;
  // Killed (SIGKILL 137, SIGTERM 143, or the kernel's OOM killer) is not a job that finished:
  // saying "only a service that keeps running can be shared" would send the user the wrong way.
  const code = info.State.ExitCode;
  if (info.State.OOMKilled === true || code === 137 || code === 143) {
    const why = info.State.OOMKilled === true ? 'killed by the kernel for lack of memory' : `killed by ${code === 137 ? 'SIGKILL' : 'SIGTERM'} (exit code ${code}) from outside cilo`;
    return new CiloError('SERVICE_FAILED', `Shared service "${c.service}" was ${why} while cilo waited for it to be ready, so environment ${c.env} did not start${e instanceof Error ? ` (${e.message.split('\n')[0]})` : ''}.`, {
      details: e instanceof CiloError ? e.details : undefined,
      hint: info.State.OOMKilled === true ? 'Give the engine more memory or the service a smaller footprint, then run `cilo up` again.' : `Check what stopped it (\`docker events --filter container=${c.name}\`), then run \`cilo up ${c.env}\` again.`,
    });
  }
  return new CiloError('SHARED_UNSUPPORTED', `Shared service "${c.service}" exited (code ${info.State.ExitCode}) right after it started: only a service that keeps running can be shared.`, {
    details: e instanceof CiloError ? e.details : undefined,
    hint: `Give each environment its own with \`cilo up ${c.env} --isolate ${c.service}\`, or remove its cilo.share label.`,
  });
}

/**
 * Drops an environment's references to the given shared services and detaches them from its
 * network; a service left with no users starts its grace period.
 */
export async function releaseShared(ctx: SiteContext, env: Pick<EnvironmentState, 'name' | 'project' | 'host'>, services: string[]): Promise<void> {
  for (const service of services) {
    await withNamedLock(ctx.paths, lockName(env.project, service, env.host), async () => {
      const exists = await detach(ctx.site.docker, sharedContainerName(env.project, service), networkName(env.project, env.name));
      await withStateLock((s) => {
        const key = sharedKey(env.project, service, env.host);
        const rec = s.shared_services[key];
        const e = s.environments[env.name];
        if (e?.project === env.project) e.shared = e.shared.filter((x) => x !== service);
        if (!rec) return;
        rec.users = rec.users.filter((u) => u !== env.name);
        delete rec.ips[env.name];
        if (rec.users.length > 0) return;
        // Nobody uses it and there is no container (it never started): nothing to wait for.
        if (!exists) delete s.shared_services[key];
        else if (rec.grace_until === null) rec.grace_until = new Date(ctx.clock.now() + rec.grace_seconds * 1000).toISOString();
      }, ctx.paths);
    });
  }
  // Only the environment's engine's shared services are reaped with it.
  if (services.length > 0) await reapOn(ctx);
}


/**
 * Stops and removes shared containers whose grace period is over (their volumes stay), each on
 * its own engine; a host that does not answer keeps its own until a later round. Run by the
 * DNS server's supervisor every second and by cilo commands. Returns the keys reaped.
 */
export async function reapExpiredShared(ctx: CoreContext, now: number = ctx.clock.now()): Promise<string[]> {
  const candidates = expiredShared(ctx, now);
  if (candidates.length === 0) return [];
  const answers = await askEachSite(ctx, candidates.map(([, r]) => r), (site) => reapOn({ ...ctx, site }, now), { askMs: REAP_MS });
  return [...answers.values()].flatMap((a) => (a.ok ? a.value : []));
}

/** How long one engine's reap may take (each container is given 10 s to stop) before its host counts as silent. */
const REAP_MS = 60_000;

function expiredShared(ctx: CoreContext, now: number): [string, SharedServiceState][] {
  return Object.entries(readState(ctx.paths).shared_services).filter(([, r]) => graceExpired(r, now));
}

/** Reaps the expired shared containers of one engine only: shared containers on two engines have the same name. */
export async function reapOn(ctx: SiteContext, now: number = ctx.clock.now()): Promise<string[]> {
  const reaped: string[] = [];
  for (const [key, rec] of expiredShared(ctx, now).filter(([, r]) => sameSite(r, ctx.site))) {
    await withNamedLock(ctx.paths, lockName(rec.project, rec.service, rec.host), async () => {
      // Re-checked under the lock: an `up` may have taken it back meanwhile.
      const cur = readState(ctx.paths).shared_services[key];
      if (!cur || !graceExpired(cur, ctx.clock.now())) return;
      const c = await ctx.site.docker.inspectContainer(cur.container);
      if (c) {
        await ctx.site.docker.stopContainer(c.Id, 10);
        await ctx.site.docker.removeContainer(c.Id, { force: true });
      }
      await withStateLock((s) => {
        const r = s.shared_services[key];
        if (r && graceExpired(r, ctx.clock.now())) delete s.shared_services[key];
      }, ctx.paths);
      reaped.push(key);
    });
  }
  return reaped;
}

export interface StopSharedInput {
  service: string;
  project: string;
  force?: boolean | undefined;
  /** The remote host whose shared container it is; absent: this machine's. */
  host?: string | undefined;
}

/** Removes a shared container now; refuses while environments use it unless forced. */
export async function stopShared(base: CoreContext, input: StopSharedInput): Promise<{ key: string; detached: string[] }> {
  const key = sharedKey(input.project, input.service, input.host);
  const ctx = await atSite(base, input);
  return withNamedLock(ctx.paths, lockName(input.project, input.service, input.host), async () => {
    const state = readState(ctx.paths);
    const rec = state.shared_services[key];
    const container = sharedContainerName(input.project, input.service);
    const live = await ctx.site.docker.inspectContainer(container);
    if (!rec && !live) {
      throw new CiloError('SERVICE_NOT_FOUND', `There is no shared service "${input.service}" in project "${input.project}".`, { hint: 'Run `cilo shared list` to see them.' });
    }
    // A user that is no longer an environment (a failed first `up` of an older cilo) holds nothing.
    const users = (rec?.users ?? []).filter((u) => state.environments[u]?.project === input.project);
    if (users.length > 0 && !input.force) {
      throw new CiloError('SHARED_CONFLICT', `Shared service "${input.service}" is in use by ${users.join(', ')}.`, {
        hint: `Run \`cilo down\` (or \`cilo destroy\`) of ${users.join(', ')} first: a shared service nobody uses stops by itself after its grace period.`,
      });
    }
    if (live) {
      await ctx.site.docker.stopContainer(live.Id, 10);
      await ctx.site.docker.removeContainer(live.Id, { force: true });
    }
    await withStateLock((s) => {
      delete s.shared_services[key];
      for (const u of users) {
        const e = s.environments[u];
        if (e) e.shared = e.shared.filter((x) => x !== input.service);
      }
    }, ctx.paths);
    return { key, detached: users };
  });
}
