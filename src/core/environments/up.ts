import { cleanupStep } from '../cleanup.js';
import { existsSync } from 'node:fs';
import type { SiteContext } from '../sites/site.js';
import { loadProjectConfig } from '../../config/load.js';
import type { ComposeModel } from '../../domain/compose-model.js';
import type { UpTimings } from '../../domain/manifest.js';
import { chooseIngress, labelHostnames, networkedServices, renderEnvironmentModel, replicaCount, replicatedServices, serviceLabelHostnames, servicePort } from '../../domain/env-model.js';
import { effectiveHostnames } from '../../domain/hostnames.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, composeProjectName, networkName, sharedComposeProject, toValidName } from '../../domain/names.js';
import type { ProjectConfig } from '../../domain/project-config.js';
import { effectiveIdlePause, parseIdlePause } from '../../domain/idle.js';
import { applyRewrites, applySeedMounts, chosenSharedServices, isolationSpecs, type IsolationSpec, type SeedMount } from '../../domain/datasets.js';
import { assertShareable, declaredAliases, definitionHash, graceSeconds, linkAliases, sharedDefinition, splitList, startOrder } from '../../domain/shared.js';
import type { EnvironmentState, ServiceState, ShareFlags } from '../../domain/state.js';
import { assignIps } from '../../domain/subnet.js';
import { allHostPorts, portsToPublish, sharedPortsToPublish, takenHostPorts } from '../../domain/host-ports.js';
import { chooseHostPorts } from '../network/host-ports.js';
import { CiloError } from '../../errors.js';
import { homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { abandonCreate, claimAutoNamed, claimEnvironment, envLockOptions, markCreated, planCreate, populateWorkspace } from './create.js';
import { withEnvironmentLock } from '../../state/env-lock.js';
import { checkDbFrom, ensureDatasets, isolatedSeeds } from '../datasets/datasets.js';
import { destroyEnvironment } from './destroy.js';
import { generatedTarget, projectEnvFiles, sourceTarget, writeGenerated } from '../project/env-compose.js';
import { prepareEnvFiles } from '../project/env-files.js';
import { hostForUp } from '../hosts/hosts.js';
import { atSite } from '../sites/reach.js';
import { checkProject } from './lookup.js';
import { releaseProjectName } from '../project/project.js';
import { checkRecordedMode } from '../project/workspace-mode.js';
import { isInPlace, type WorkspaceMode } from '../../domain/workspace-mode.js';
import { ensureNetworkOrMove } from '../network/network.js';
import { resumeContainers } from './pause.js';
import { replicaAddresses } from '../project/replicas.js';
import { checkSharedDefinition, ensureShared, releaseShared, type EnsureSharedInput } from '../shared/shared.js';
import { PhaseClock } from './phase-clock.js';
import { routeAfterUp } from '../router/probe.js';
import { serviceReporter, step } from '../progress.js';
import { composePhase, serviceOfContainer } from '../../domain/progress.js';
import { restartsAfterSuccess } from '../../domain/liveness.js';
import { admitUp, whileAdmitted } from './admission.js';
import { awaitHealthAfterThaw, servicesReadyNow, waitForServices, type WaitSpec } from './wait.js';

export interface UpInput {
  env: string;
  from?: string | undefined;
  project?: string | undefined;
  build?: boolean | undefined;
  recreate?: boolean | undefined;
  timeoutSeconds?: number | undefined;
  onComposeOutput?: ((chunk: string) => void) | undefined;
  /** Services to share in addition to those labelled `cilo.share: "true"`. */
  shared?: string[] | undefined;
  /** Services to keep isolated even if labelled shared. */
  isolate?: string[] | undefined;
  /** Compose profiles to enable (with COMPOSE_PROFILES of the project's `.env`); remembered by later ups. */
  profiles?: string[] | undefined;
  /** `<env>` is a prefix: take the first free `<env>-N` (see create.ts, autoName). */
  autoName?: boolean | undefined;
  /** Another environment whose private datasets a new environment's start as copies of. */
  dbFrom?: string | undefined;
  /** The remote host to create it on (`cilo host add`); an existing environment stays where it is. */
  host?: string | undefined;
  /** `--in-place` / `--copy` for a new environment (create.ts); an existing one keeps its mode. */
  workspace?: WorkspaceMode | undefined;
  /** `--wait-for-capacity`: seconds to wait for room under the memory budget (admission.ts); absent: refuse at once. */
  waitForCapacity?: number | undefined;
  /** `--idle-pause`: seconds, or a duration such as `10m` (checked before anything is made); absent: the project's `idle_pause`, else the home's default. */
  idlePause?: number | string | undefined;
}

export interface UpResult {
  env: EnvironmentState;
  created: boolean;
  /** Time spent in each phase (the manifest's `timings`). */
  timings: UpTimings;
}

/** The environment this `up` starts, and whether this very call is creating it. */
interface Target {
  env: EnvironmentState;
  /** Set when this call creates the environment: the copy still to make (while the network and model are made). */
  create?: Parameters<typeof populateWorkspace>[1];
}

/** What the project asks for, resolved once before anything is started. */
interface StartPlan {
  config: ProjectConfig;
  model: ComposeModel;
  ingress: string | null;
  hostnames: string[];
  /** Hostnames of services other than the ingress, served for that service. */
  serviceHostnames: Record<string, string[]>;
  shareFlags: ShareFlags;
  /** Services served by a shared container. */
  shared: string[];
  profiles: string[];
  /** Shared services that give each environment its own dataset. */
  datasets: IsolationSpec[];
  /** Seeds of shared services run isolated here (`--isolate`), mounted into their own containers. */
  isolatedSeeds: Record<string, SeedMount[]>;
  /** The idle pause of `--idle-pause` and of the project's `idle_pause:` (seconds; undefined when not given). */
  idlePause: { flag: number | undefined; config: number | undefined };
}

/**
 * Starts an environment (creating it first if needed), as a sequence of steps: find or claim
 * it; resolve what the project asks for while its network is made; assign stable IPs; ensure
 * its shared services; write the generated model; start and wait; record it running. A failure
 * removes an environment this very call created, and marks an existing one `error`.
 * One command at a time per name (env-lock.ts): a second `up` of the name waits for the first
 * and then starts what it made (`up` of a running environment changes nothing that runs).
 */
export async function upEnvironment(base: CoreContext, input: UpInput): Promise<UpResult> {
  const name = toValidName(input.env, 'environment');
  // A bad --idle-pause is refused before anything is claimed or made.
  if (input.idlePause !== undefined) input = { ...input, idlePause: parseIdlePause(input.idlePause, '--idle-pause') };
  const result = input.autoName ? await upAutoNamed(base, name, input) : await withEnvironmentLock(base.paths, name, () => upNamed(base, name, input), envLockOptions(base, name));
  await ensureDnsOrWarn(base, (result.env.idle_pause_seconds ?? 0) > 0);
  return result;
}

async function upNamed(base: CoreContext, name: string, input: UpInput): Promise<UpResult> {
  const clock = new PhaseClock();
  const host = hostForUp(base, name, input.host, false);
  const ctx = await atSite(base, { host });
  await ctx.site.docker.ping();
  // Before anything is claimed or made: over the memory budget nothing exists to undo.
  const admission = await admitUp(ctx, { ...input, env: name, waitSeconds: input.waitForCapacity });
  return whileAdmitted(admission, async () => upTarget(ctx, await findOrClaim(ctx, name, { ...input, host }), input, clock));
}

/** `up --auto-name`: claims the first free `<name>-N` with its lock, held until it runs. */
async function upAutoNamed(base: CoreContext, prefix: string, input: UpInput): Promise<UpResult> {
  const clock = new PhaseClock();
  const host = hostForUp(base, prefix, input.host, true);
  const ctx = await atSite(base, { host });
  await ctx.site.docker.ping();
  ctx.log(`Creating an environment named ${prefix}-N`);
  const planned = await planCreate(ctx, prefix, { env: prefix, from: input.from, project: input.project, autoName: true, host, workspace: input.workspace });
  configIdlePause(planned.project.config);
  // Checked against the prefix: the name is not chosen yet, and a new environment holds no datasets.
  if (input.dbFrom !== undefined) checkDbFrom(readState(ctx.paths), { name: prefix, project: planned.project.name, host, existing: undefined }, input.dbFrom);
  const admission = await admitUp(ctx, { ...input, env: `${prefix}-N`, waitSeconds: input.waitForCapacity });
  return whileAdmitted(admission, async () => {
    const { env, release } = await claimAutoNamed(ctx, planned);
    try {
      return await upTarget(ctx, { env, create: { ...planned, name: env.name, workspace: env.workspace } }, input, clock);
    } finally {
      await release();
    }
  });
}

async function upTarget(ctx: SiteContext, target: Target, input: UpInput, clock: PhaseClock): Promise<UpResult> {
  const created = target.create !== undefined;
  const { env: located, plan } = await undoCreateOnFailure(ctx, target, input, () => preparePlan(ctx, target, input, clock));
  const env = await recordStart(ctx, located, plan);
  await onStartFailure(ctx, env, created, async () => {
    await clock.time('shared', () => ensureSharedServices(ctx, env, plan, input));
    // Only a host's copy is work of the start: timing a local no-op here made `compose_up_ms` 1
    // under load for a resume that never ran compose.
    if (ctx.site.copiesWorkspace) await clock.time('compose_up', () => ctx.site.syncWorkspace(env));
    const rewrites = plan.datasets.length > 0 ? await clock.time('shared', () => ensureDatasets(ctx, env, { model: plan.model, specs: plan.datasets, dbFrom: input.dbFrom, timeoutMs: timeoutMs(input), resumed: target.env.status === 'paused' })) : [];
    const rendered = applySeedMounts(applyRewrites(renderModel(ctx, env, plan), rewrites), plan.isolatedSeeds);
    // A host's engine finds bind-mounted files in the workspace's copy there.
    const generated = ctx.site.bindModel(env, rendered);
    const { changed } = writeGenerated(ctx.paths, env, generated);
    await startContainers(ctx, env, generated, input, { created, unchanged: target.env.status === 'paused' && !changed, envFiles: projectEnvFiles(env, plan.config) }, clock);
  });
  const done = await markRunning(ctx, env.name, await replicaAddresses(ctx.site.docker, env, replicatedServices(plan.model, plan.shared)));
  await forwardHostPorts(ctx, target.env, done);
  await routeAfterUp(ctx, done);
  return { env: done, created, timings: clock.timings() };
}

/** The recorded environment, or a claim on a new one (an interrupted creation is resumed). */
async function findOrClaim(ctx: SiteContext, name: string, input: UpInput): Promise<Target> {
  const state = readState(ctx.paths);
  const existing = state.environments[name];
  if (!existing || existing.status === 'creating') {
    const from = existing ? { from: existing.source, project: existing.project } : { from: input.from, project: input.project };
    // An interrupted creation is finished in the mode it was begun in.
    const workspace = existing ? (existing.workspace_mode ?? 'copy') : input.workspace;
    const create = await planCreate(ctx, name, { env: name, ...from, host: existing ? existing.host : input.host, workspace });
    configIdlePause(create.project.config);
    if (input.dbFrom !== undefined) checkDbFrom(state, { name, project: create.project.name, host: existing ? existing.host : input.host, existing }, input.dbFrom);
    ctx.log(existing ? `Finishing the interrupted creation of ${name}` : `Creating environment ${name}`);
    return { env: await claimEnvironment(ctx, create), create };
  }
  const env = checkProject(existing, input.project);
  checkRecordedMode(env, input.workspace);
  if (input.dbFrom !== undefined) checkDbFrom(state, { name, project: env.project, host: env.host, existing: env }, input.dbFrom);
  if (env.status === 'destroying') {
    throw new CiloError('ENV_NOT_FOUND', `Environment "${name}" is being destroyed.`, { hint: `Run \`cilo destroy ${name} --force\` to finish, then create it again.` });
  }
  if (!existsSync(env.workspace)) {
    throw new CiloError('WORKSPACE', isInPlace(env) ? `The tree ${env.workspace} that environment "${name}" runs in place on is missing.` : `The workspace of environment "${name}" (${env.workspace}) is missing.`, {
      hint: `Destroy it with \`cilo destroy ${name} --force\` and create it again.`,
    });
  }
  return { env };
}

/** The shared services that bind-mount files (a host refuses them: only workspaces are synced there). */
function sharedBinds(model: ComposeModel, shared: string[]): string[] {
  return shared.filter((s) => ((model.services[s]?.volumes as { type?: string }[] | undefined) ?? []).some((v) => v.type === 'bind'));
}

/** Runs the steps before anything is started; an environment this call claimed is removed if one fails. */
async function undoCreateOnFailure<T>(ctx: SiteContext, target: Target, input: UpInput, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!target.create) throw e;
    await abandonCreate(ctx, target.env);
    throw e instanceof CiloError && e.code === 'HOOK_FAILED' ? hookFailedOnCreate(e, target.env, input) : e;
  }
}

/**
 * The init_hook failed while this `up` created the environment: its workspace is gone with it,
 * so the hint cannot send the user there; it gives the way to a workspace the hook has not run in.
 */
function hookFailedOnCreate(e: CiloError, env: EnvironmentState, input: UpInput): CiloError {
  const project = input.project !== undefined ? ` --project ${env.project}` : '';
  return new CiloError('HOOK_FAILED', `${e.message} Environment "${env.name}" was being created by this up, so it was removed again with its workspace.`, {
    hint: `To see what the hook does, make the workspace without starting anything (\`cilo create ${env.name}${project}\`; create does not run the hook), run the init_hook of .cilo/config.yml by hand in it (\`cd "$(cilo path ${env.name})"\`), then \`cilo up ${env.name}\`.`,
    exitCode: e.exitCode,
    cause: e,
  });
}

/**
 * Makes the network (which depends only on the recorded subnet) while the workspace is copied
 * (new environments) and compose resolves the model. Returns the environment as recorded after
 * the network was made (a conflict may have moved it to another subnet) and the plan.
 */
async function preparePlan(ctx: SiteContext, target: Target, input: UpInput, clock: PhaseClock): Promise<{ env: EnvironmentState; plan: StartPlan }> {
  const netName = networkName(target.env.project, target.env.name);
  const network = clock.time('network', () => step(ctx, { label: `Making network ${netName}`, done: () => `Network ${netName} ready` }, () => ensureNetworkOrMove(ctx, target.env)));
  network.catch(() => undefined); // awaited below; this only avoids an unhandled rejection
  try {
    const create = target.create;
    const plan = await clock.time('resolve', () =>
      step(
        ctx,
        create && create.mode.mode === 'copy'
          ? { label: `Copying the project and resolving its compose model`, done: (p: StartPlan) => `Project copied and compose model resolved: ${countServices(p)}` }
          : { label: `Resolving the compose model`, done: (p: StartPlan) => `Compose model resolved: ${countServices(p)}` },
        async (tick) => {
          if (create) await populateWorkspace(ctx, { ...create, input: { ...create.input, onProgress: (done, total) => tick({ done, total, unit: 'files' }) } });
          return resolvePlan(ctx, target.env, input);
        },
      ),
    );
    const env = await network;
    return { env: target.create ? await markCreated(ctx, env) : env, plan };
  } finally {
    await network.catch(() => undefined);
  }
}

function countServices(plan: StartPlan): string {
  const n = Object.keys(plan.model.services).length;
  return `${n} service${n === 1 ? '' : 's'}${plan.shared.length > 0 ? `, ${plan.shared.length} shared` : ''}`;
}

/** Env files first (init_hook, render rules: their values reach interpolation), then the model. */
async function resolvePlan(ctx: SiteContext, env: EnvironmentState, input: UpInput): Promise<StartPlan> {
  const config = loadProjectConfig(env.workspace, ctx.warn);
  await prepareEnvFiles(ctx, env, config);
  // Flags given now replace the remembered ones; without flags, the environment keeps its choice.
  const profiles = input.profiles !== undefined ? splitList(input.profiles) : (env.profiles ?? []);
  const model = await ctx.site.compose.resolveModel(sourceTarget(env, config, profiles));
  if (Object.keys(model.services).length === 0) {
    throw new CiloError('COMPOSE_INVALID', `The compose project of environment "${env.name}" has no services${profiles.length > 0 ? ` with the profiles ${profiles.join(', ')}` : ''}, so there is nothing to start.`, {
      hint: 'Add a service to the compose file (or enable its profile with --profile), then run `cilo up` again.',
    });
  }
  const ingress = chooseIngress(model, config.default_ingress_service);
  const hostnames = [...new Set([...(config.hostnames ?? []), ...labelHostnames(model, ingress)])];
  const flagsGiven = input.shared !== undefined || input.isolate !== undefined;
  const shareFlags = flagsGiven ? { shared: splitList(input.shared), isolate: splitList(input.isolate) } : (env.share_flags ?? { shared: [], isolate: [] });
  const shared = chosenSharedServices(model, shareFlags, config.services);
  assertShareable(model, shared, env.name);
  const binds = sharedBinds(model, shared);
  if (binds.length > 0) ctx.site.refuse({ kind: 'shared-binds', env: env.name, services: binds });
  // Services the project shares that this environment runs as its own: their seeds follow them.
  const isolated = chosenSharedServices(model, { shared: shareFlags.shared, isolate: [] }, config.services).filter((s) => !shared.includes(s));
  return {
    config, model, ingress, hostnames, serviceHostnames: serviceLabelHostnames(model, ingress), shareFlags, shared, profiles,
    datasets: isolationSpecs(model, shared, config.services),
    isolatedSeeds: isolatedSeeds(ctx, env, model, isolated, config.services),
    idlePause: { flag: input.idlePause === undefined ? undefined : parseIdlePause(input.idlePause, '--idle-pause'), config: configIdlePause(config) },
  };
}

/** The project's `idle_pause:` in seconds (undefined when absent); a bad value is one sentence naming the key. */
function configIdlePause(config: ProjectConfig): number | undefined {
  return config.idle_pause === undefined ? undefined : parseIdlePause(config.idle_pause, 'idle_pause in .cilo/config.yml');
}

/**
 * Assigns stable IPs (existing ones kept) and records the environment `starting`. Replicated
 * services keep the addresses the engine gave them last time until this up reads the new ones.
 */
function recordStart(ctx: CoreContext, env: EnvironmentState, plan: StartPlan): Promise<EnvironmentState> {
  const wanted = networkedServices(plan.model, []);
  const replicated = replicatedServices(plan.model, plan.shared);
  return withStateLock(async (state) => {
    const rec = state.environments[env.name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${env.name}" was destroyed while starting.`);
    // An engine-assigned address is never kept as a fixed one.
    const existingIps = Object.fromEntries(Object.entries(rec.services).filter(([, s]) => s.replicas === undefined).map(([k, s]) => [k, s.ip]));
    const ips = assignIps(rec.subnet, existingIps, wanted);
    // A stopped environment's containers hold none of its loopback ports: one that something
    // else on this machine took meanwhile is chosen again (the next free one) instead of making
    // compose fail on "address already in use"; the others are kept.
    const recheck = rec.host === undefined && (rec.status === 'stopped' || rec.status === 'created');
    const taken = takenHostPorts(state);
    const services: Record<string, ServiceState> = {};
    for (const [service, ip] of Object.entries(ips)) {
      const port = servicePort(plan.model.services[service] ?? {});
      const type = plan.shared.includes(service) ? 'shared' : 'isolated';
      const names = plan.serviceHostnames[service];
      // A shared service's loopback ports are its shared container's (recorded by ensureShared).
      const before = rec.services[service];
      const own = before?.type === 'isolated' ? before.host_ports : undefined;
      const hostPorts = type === 'shared' ? (before?.type === 'shared' ? before.host_ports : undefined) : await chooseHostPorts(ctx, recheck ? await stillFree(ctx, own) : own, portsToPublish(plan.model.services[service] ?? {}), taken);
      services[service] = { ip, type, ...(port === undefined ? {} : { port }), ...(names ? { hostnames: names } : {}), ...(hostPorts && Object.keys(hostPorts).length > 0 ? { host_ports: hostPorts } : {}) };
    }
    for (const service of replicated) {
      const port = servicePort(plan.model.services[service] ?? {});
      const replicas = rec.services[service]?.replicas ?? [];
      services[service] = { ip: replicas[0] ?? '', type: 'isolated', replicas, ...(port === undefined ? {} : { port }) };
    }
    rec.services = services;
    rec.ingress = plan.ingress;
    rec.share_flags = plan.shareFlags;
    rec.profiles = plan.profiles;
    rec.hostnames = effectiveHostnames(plan.hostnames, rec.custom_hostnames);
    rec.status = 'starting';
    rec.updated_at = isoNow(ctx);
    // `--idle-pause` is remembered, as --profile and --shared are: a later `up` without it keeps it.
    if (plan.idlePause.flag !== undefined) rec.idle_pause_flag = plan.idlePause.flag;
    rec.idle_pause_seconds = effectiveIdlePause({ flag: rec.idle_pause_flag, config: plan.idlePause.config, home: state.idle_pause_default });
    delete rec.last_error;
    delete rec.paused_by;
    delete rec.paused_at;
    return rec;
  }, ctx.paths);
}

/** The ports of `ports` that nothing on this machine listens on now (all of them where that cannot be told). */
async function stillFree(ctx: CoreContext, ports: Record<string, number> | undefined): Promise<Record<string, number> | undefined> {
  const check = ctx.local.routes.loopbackPortFree;
  if (!ports || !check) return ports;
  const kept = await Promise.all(Object.entries(ports).map(async ([key, port]) => ((await check(port)) ? [[key, port] as const] : [])));
  return Object.fromEntries(kept.flat());
}

/** Runs the starting steps; a failure removes an environment this call created, else records `error`. */
async function onStartFailure(ctx: CoreContext, env: EnvironmentState, created: boolean, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } catch (e) {
    if (created) {
      // Nothing half-created: an environment this very call made is removed again (so the
      // error must carry what the user needs: wait.ts puts the service's last log lines in it).
      await cleanupStep(ctx, `Removing ${env.name} again`, () => destroyEnvironment(ctx, env));
      await cleanupStep(ctx, `Freeing the project name ${env.project}`, () => withStateLock((state) => releaseProjectName(state, env.project, env.source), ctx.paths));
      const note = `Environment ${env.name} was removed again: this up created it and could not start it.`;
      throw e instanceof CiloError ? e.withDetail(note) : e;
    }
    await withStateLock((state) => {
      const rec = state.environments[env.name];
      if (rec) {
        rec.status = 'error';
        rec.last_error = e instanceof Error ? e.message : String(e);
        rec.updated_at = isoNow(ctx);
      }
    }, ctx.paths);
    throw e;
  }
}

/**
 * Releases shared services the environment no longer uses (their addresses become free for its
 * own containers); once no shared container refuses the definition asked for, removes its own
 * containers of services it now shares (they hold the addresses the shared containers take);
 * then ensures each shared one, in dependency order.
 */
async function ensureSharedServices(ctx: SiteContext, env: EnvironmentState, plan: StartPlan, input: UpInput): Promise<void> {
  const noLonger = env.shared.filter((s) => !plan.shared.includes(s));
  if (noLonger.length > 0) await releaseShared(ctx, env, noLonger);
  const wanted = startOrder(plan.model, plan.shared).map((service) => sharedInput(env, plan, input, service));
  // Checked before anything is removed: a refused switch leaves the environment as it was.
  for (const w of wanted) await checkSharedDefinition(ctx, w);
  await removeOwnContainers(ctx, env, plan.shared);
  for (const w of wanted) {
    const r = await step(ctx, { label: `Ensuring shared service ${w.service}`, done: (x) => `Shared service ${w.service} ${x.action === 'reused' ? 'ready' : `${x.action} and ready`}` }, () => ensureShared(ctx, w));
    if (r.affected.length > 0) ctx.warn(`Shared service ${w.service} was recreated; environments ${r.affected.join(', ')} now use the new container.`);
  }
}

function sharedInput(env: EnvironmentState, plan: StartPlan, input: UpInput, service: string): EnsureSharedInput {
  const def = sharedDefinition({
    model: plan.model,
    service,
    resolvedAs: composeProjectName(env.project, env.name),
    sharedProject: sharedComposeProject(env.project),
    workspace: env.workspace,
    source: env.source,
  });
  const ip = env.services[service]?.ip;
  if (!ip) throw new CiloError('SERVICE_NOT_FOUND', `Shared service "${service}" has no address on ${env.name}'s network (it sets network_mode).`, { hint: `Remove network_mode from "${service}" or isolate it with --isolate ${service}.` });
  return {
    project: env.project,
    service,
    def,
    hash: definitionHash(def),
    graceSeconds: graceSeconds(plan.model, service, plan.config.shared_grace_period),
    env,
    ip,
    extraAliases: [...new Set([...declaredAliases(plan.model, service), ...linkAliases(plan.model, service, plan.shared)])].sort(),
    recreate: input.recreate === true,
    timeoutMs: timeoutMs(input),
    build: input.build,
    ports: sharedPortsToPublish(plan.model.services[service] ?? {}, plan.datasets.find((d) => d.service === service)?.engine),
  };
}

/** Removes the environment's own containers of these services (switched from isolated to shared). */
async function removeOwnContainers(ctx: SiteContext, env: EnvironmentState, services: string[]): Promise<void> {
  if (services.length === 0) return;
  const own = await ctx.site.docker.listContainers({ label: [`${COMPOSE_PROJECT}=${composeProjectName(env.project, env.name)}`] }, true);
  for (const c of own.filter((x) => services.includes(x.Labels[COMPOSE_SERVICE] ?? ''))) {
    ctx.log(`Removing ${env.name}'s own ${c.Labels[COMPOSE_SERVICE]} container: the service is shared now`);
    await ctx.site.docker.removeContainer(c.Id, { force: true });
  }
}

function renderModel(ctx: CoreContext, env: EnvironmentState, plan: StartPlan): ComposeModel {
  return renderEnvironmentModel({
    model: plan.model,
    project: env.project,
    env: env.name,
    suffix: env.dns_suffix,
    networkName: networkName(env.project, env.name),
    ips: Object.fromEntries(Object.entries(env.services).map(([k, s]) => [k, s.ip])),
    shared: plan.shared,
    ingress: plan.ingress,
    hostnames: env.hostnames,
    serviceHostnames: plan.serviceHostnames,
    homeId: homeId(ctx.paths),
    hostPorts: Object.fromEntries(Object.entries(env.services).flatMap(([k, s]) => (s.type === 'isolated' && s.host_ports ? [[k, s.host_ports]] : []))),
  });
}

/**
 * Thaws paused containers (by `down --pause`, or by hand: compose cannot start a paused
 * container), then runs compose up and waits — unless the environment was paused by cilo from
 * this very model and is ready again as it is.
 */
async function startContainers(ctx: SiteContext, env: EnvironmentState, generated: ComposeModel, input: UpInput, how: { created: boolean; unchanged: boolean; envFiles: string[] }, clock: PhaseClock): Promise<void> {
  const resumed = how.created ? [] : await resumeContainers(ctx, env);
  const waitSpec: WaitSpec = {
    composeProject: composeProjectName(env.project, env.name),
    services: waitSpecServices(generated),
    timeoutMs: timeoutMs(input),
    envName: env.name,
    resumed: new Set(resumed),
  };
  if (resumed.length > 0) {
    ctx.log(`Resumed ${resumed.length} paused container(s) of ${env.name}`);
    // Nothing for compose to do (it would even refuse: a thawed container reports unhealthy
    // until its next probe, which fails `depends_on: service_healthy`).
    if (how.unchanged && !input.build && !input.recreate && (await clock.time('wait', () => servicesReadyNow(ctx.site.docker, waitSpec)))) return;
    await clock.time('wait', () => awaitHealthAfterThaw(ctx.site.docker, resumed, Date.now() + waitSpec.timeoutMs));
  }
  // Every service shared: the environment is its network, names and references, and compose
  // has nothing to start (it would fail with "no service selected").
  if (Object.keys(generated.services).length === 0) return;
  const count = Object.keys(generated.services).length;
  const onService = serviceReporter(ctx);
  const starting = `Starting ${count} service(s) of ${env.name}`;
  await clock.time('compose_up', () =>
    step(ctx, { label: starting, log: starting, done: () => `Containers of ${env.name} started: ${count} service${count === 1 ? '' : 's'}` }, () =>
      ctx.site.compose.up(
        { ...generatedTarget(ctx.paths, env), envFiles: how.envFiles },
        { build: input.build, forceRecreate: input.recreate, onStderr: input.onComposeOutput, onContainer: onService ? (container, word) => reportComposeLine(onService, serviceOfContainer(composeProjectName(env.project, env.name), container), word) : undefined },
      ),
    ),
  );
  const waiting = `Waiting for the services of ${env.name}`;
  await clock.time('wait', () => step(ctx, { label: waiting, log: waiting, done: () => `Services of ${env.name} ready` }, () => waitForServices(ctx.site.docker, { ...waitSpec, onService })));
}

/** A line of compose's output about a container, as that service's phase (words that say nothing of it, and containers of other projects, are left out). */
function reportComposeLine(onService: (service: string, phase: NonNullable<ReturnType<typeof composePhase>>) => void, service: string | undefined, word: string): void {
  const phase = composePhase(word);
  if (phase && service !== undefined) onService(service, phase);
}

/**
 * Services compose may leave finished: a one-shot job may exit 0 unless its restart policy
 * starts it again (`always`, `unless-stopped`); `on-failure` is how a migration retries until
 * its database is up, and `service_completed_successfully` waits for it as for one with none.
 */
export function waitSpecServices(model: ComposeModel): Record<string, { oneShotOk: boolean }> {
  const out: Record<string, { oneShotOk: boolean }> = {};
  for (const [name, svc] of Object.entries(model.services)) {
    if (replicaCount(svc) === 0) continue;
    out[name] = { oneShotOk: !restartsAfterSuccess(svc.restart ?? '') };
  }
  return out;
}

function timeoutMs(input: UpInput): number {
  return (input.timeoutSeconds ?? 180) * 1000;
}

/** Records the environment running, with the addresses the engine gave each replica. */
function markRunning(ctx: CoreContext, name: string, replicas: Record<string, string[]>): Promise<EnvironmentState> {
  return withStateLock((state) => {
    const rec = state.environments[name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${name}" was destroyed while starting.`);
    for (const [service, ips] of Object.entries(replicas)) {
      const s = rec.services[service];
      if (s) Object.assign(s, { ip: ips[0] ?? '', replicas: ips });
    }
    rec.status = 'running';
    rec.updated_at = isoNow(ctx);
    return rec;
  }, ctx.paths);
}

/** The environment is up either way; without the DNS server only name resolution from the host is missing. */
async function ensureDnsOrWarn(ctx: CoreContext, idlePause: boolean): Promise<void> {
  try {
    await ctx.dns.ensureRunning();
  } catch (e) {
    // The idle pause is the DNS server's supervisor's work: without the server nothing pauses.
    const idle = idlePause ? ' and the environment is never paused for being idle (the DNS server does that)' : '';
    ctx.warn(`the DNS server is not running (${e instanceof Error ? e.message : String(e)}); names will not resolve from the host${idle}. \`cilo dns status\` tells more.`);
  }
}

/**
 * Makes the environment's published loopback ports answer on this machine (a host's through its
 * SSH connection; nothing to do here) and ends the forwards of ports it no longer has. The
 * environment runs either way: a port that cannot be forwarded is said, not fatal.
 */
async function forwardHostPorts(ctx: SiteContext, before: EnvironmentState, after: EnvironmentState): Promise<void> {
  const now = allHostPorts(after);
  const gone = allHostPorts(before).filter((p) => !now.includes(p));
  try {
    if (gone.length > 0) await ctx.site.cancelLoopback(gone);
    if (now.length > 0) await ctx.site.forwardLoopback(now);
  } catch (e) {
    ctx.warn(`The ports of ${after.name} on ${ctx.site.label} are published there but not forwarded here (${e instanceof Error ? e.message : String(e)}); \`cilo up ${after.name}\` tries again.`);
  }
}
