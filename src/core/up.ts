import { existsSync } from 'node:fs';
import type { ComposeModel } from '../domain/compose-model.js';
import { loadProjectConfig } from '../config/load.js';
import type { ProjectConfig } from '../domain/project-config.js';
import { chooseIngress, labelHostnames, networkedServices, renderEnvironmentModel, servicePort } from '../domain/env-model.js';
import { composeProjectName, networkName, toValidName } from '../domain/names.js';
import { definitionHash, graceSeconds, sharedDefinition, sharedServices, splitList, startOrder } from '../domain/shared.js';
import { assignIps } from '../domain/subnet.js';
import { CiloError } from '../errors.js';
import { homeId } from '../state/paths.js';
import type { EnvironmentState, ServiceState } from '../domain/state.js';
import { readState, withStateLock } from '../state/store.js';
import type { CoreContext } from './context.js';
import { createEnvironment } from './create.js';
import { destroyEnvironment } from './destroy.js';
import { generatedTarget, sourceTarget, writeGenerated } from './env-compose.js';
import { effectiveHostnames } from '../domain/hostnames.js';
import { prepareEnvFiles } from './env-files.js';
import { findEnv } from './lookup.js';
import { ensureNetworkOrMove } from './network.js';
import { resumeContainers } from './pause.js';
import { ensureShared, releaseShared, sharedComposeProject } from './shared.js';
import { awaitHealthAfterThaw, servicesReadyNow, waitForServices } from './wait.js';

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
}

export interface UpResult {
  env: EnvironmentState;
  created: boolean;
}

async function loadOrCreate(ctx: CoreContext, input: UpInput): Promise<{ env: EnvironmentState; created: boolean }> {
  const name = toValidName(input.env, 'environment');
  const state = readState(ctx.paths);
  const existing = state.environments[name];
  if (!existing) {
    ctx.log(`Creating environment ${name}`);
    // upEnvironment makes the network while compose resolves the model.
    const r = await createEnvironment(ctx, { env: name, from: input.from, project: input.project, deferNetwork: true });
    return { env: r.env, created: true };
  }
  const env = findEnv(state, name, input.project);
  if (env.status === 'creating') {
    ctx.log(`Finishing the interrupted creation of ${name}`);
    const r = await createEnvironment(ctx, { env: name, from: env.source, project: env.project, deferNetwork: true });
    return { env: r.env, created: true };
  }
  if (env.status === 'destroying') {
    throw new CiloError('ENV_NOT_FOUND', `Environment "${name}" is being destroyed.`, { hint: `Run \`cilo destroy ${name} --force\` to finish, then create it again.` });
  }
  if (!existsSync(env.workspace)) {
    throw new CiloError('WORKSPACE', `The workspace of environment "${name}" (${env.workspace}) is missing.`, {
      hint: `Destroy it with \`cilo destroy ${name} --force\` and create it again.`,
    });
  }
  return { env, created: false };
}

/** Services compose may leave finished: no restart policy means a one-shot job may exit 0. */
function waitSpecServices(model: ComposeModel): Record<string, { oneShotOk: boolean }> {
  const out: Record<string, { oneShotOk: boolean }> = {};
  for (const [name, svc] of Object.entries(model.services)) {
    const deploy = svc.deploy as { replicas?: number } | undefined;
    if (deploy?.replicas === 0 || svc.scale === 0) continue;
    out[name] = { oneShotOk: svc.restart === undefined || svc.restart === 'no' };
  }
  return out;
}

/**
 * Starts an environment: resolves the compose model with compose itself, assigns stable IPs,
 * ensures the network, writes the generated file, runs compose up, waits for readiness and
 * records the result. A failure leaves the environment in status `error` with the reason.
 */
export async function upEnvironment(ctx: CoreContext, input: UpInput): Promise<UpResult> {
  await ctx.docker.ping();
  const { env: current, created } = await loadOrCreate(ctx, input);
  let config: ProjectConfig;
  let model: ComposeModel;
  let ingress: string | null;
  let hostnames: string[];
  let shareFlags: { shared: string[]; isolate: string[] };
  let shared: string[];
  // The network depends only on the recorded subnet: make it while compose resolves the model.
  const networkReady = ensureNetworkOrMove(ctx, current);
  networkReady.catch(() => undefined); // awaited below; this only avoids an unhandled rejection
  try {
    config = loadProjectConfig(current.workspace);
    // Env files (init_hook, render rules) before the model, so .env values reach interpolation.
    await prepareEnvFiles(ctx, current, config);
    model = await ctx.compose.resolveModel(sourceTarget(current, config));
    ingress = chooseIngress(model, config.default_ingress_service);
    hostnames = [...new Set([...(config.hostnames ?? []), ...labelHostnames(model, ingress)])];
    // Flags given now replace the remembered ones; without flags, the environment keeps its choice.
    const flagsGiven = input.shared !== undefined || input.isolate !== undefined;
    shareFlags = flagsGiven ? { shared: splitList(input.shared), isolate: splitList(input.isolate) } : (current.share_flags ?? { shared: [], isolate: [] });
    shared = sharedServices(model, shareFlags.shared, shareFlags.isolate);
    // Before IPs are assigned: a conflict may have moved the environment to another subnet.
    await networkReady;
  } catch (e) {
    await networkReady.catch(() => undefined);
    // Nothing was started: an environment this very call created is rolled back.
    if (created) await destroyEnvironment(ctx, current);
    throw e;
  }
  const wanted = networkedServices(model, []);
  const timeoutMs = (input.timeoutSeconds ?? 180) * 1000;

  const env = await withStateLock((state) => {
    const rec = state.environments[current.name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${current.name}" was destroyed while starting.`);
    const existingIps = Object.fromEntries(Object.entries(rec.services).map(([k, s]) => [k, s.ip]));
    const ips = assignIps(rec.subnet, existingIps, wanted);
    const services: Record<string, ServiceState> = {};
    for (const [name, ip] of Object.entries(ips)) {
      const port = servicePort(model.services[name] ?? {});
      const type = shared.includes(name) ? 'shared' : 'isolated';
      services[name] = port === undefined ? { ip, type } : { ip, type, port };
    }
    rec.services = services;
    rec.ingress = ingress;
    rec.share_flags = shareFlags;
    rec.hostnames = effectiveHostnames(hostnames, rec.custom_hostnames);
    rec.status = 'starting';
    rec.updated_at = new Date().toISOString();
    delete rec.last_error;
    return rec;
  }, ctx.paths);

  try {
    const noLonger = env.shared.filter((s) => !shared.includes(s));
    if (noLonger.length > 0) await releaseShared(ctx, env, noLonger);
    for (const service of startOrder(model, shared)) {
      const def = sharedDefinition({
        model,
        service,
        resolvedAs: composeProjectName(env.project, env.name),
        sharedProject: sharedComposeProject(env.project),
        workspace: env.workspace,
        source: env.source,
      });
      const ip = env.services[service]?.ip;
      if (!ip) throw new CiloError('SERVICE_NOT_FOUND', `Shared service "${service}" has no address on ${env.name}'s network (it sets network_mode).`, { hint: `Remove network_mode from "${service}" or isolate it with --isolate ${service}.` });
      const r = await ensureShared(ctx, {
        project: env.project,
        service,
        def,
        hash: definitionHash(def),
        graceSeconds: graceSeconds(model, service, config.shared_grace_period),
        env,
        ip,
        recreate: input.recreate === true,
        timeoutMs,
        build: input.build,
      });
      if (r.affected.length > 0) ctx.warn(`Shared service ${service} was recreated; environments ${r.affected.join(', ')} now use the new container.`);
    }
    const ips = Object.fromEntries(Object.entries(env.services).map(([k, s]) => [k, s.ip]));
    const generated = renderEnvironmentModel({
      model,
      project: env.project,
      env: env.name,
      suffix: env.dns_suffix,
      networkName: networkName(env.project, env.name),
      ips,
      shared,
      ingress,
      hostnames: env.hostnames,
      homeId: homeId(ctx.paths),
    });
    const { changed } = writeGenerated(ctx.paths, env, generated);
    const waitSpec = {
      composeProject: composeProjectName(env.project, env.name),
      services: waitSpecServices(generated),
      timeoutMs,
      envName: env.name,
    };
    // Paused (by `down --pause`, or by hand): thawed, they go on where they were; compose
    // cannot start a paused container.
    const resumed = created ? [] : await resumeContainers(ctx, env);
    let composeNeeded = true;
    if (resumed.length > 0) {
      ctx.log(`Resumed ${resumed.length} paused container(s) of ${env.name}`);
      // Paused by cilo with the model the containers were made from, and all ready again:
      // nothing for compose to do (it would even refuse: a thawed container reports
      // unhealthy until its next probe, which fails `depends_on: service_healthy`).
      const unchanged = current.status === 'paused' && !changed && !input.build && !input.recreate;
      composeNeeded = !(unchanged && (await servicesReadyNow(ctx.docker, { ...waitSpec, resumed: new Set(resumed) })));
      if (composeNeeded) await awaitHealthAfterThaw(ctx.docker, resumed, Date.now() + timeoutMs);
    }
    if (composeNeeded) {
      ctx.log(`Starting ${Object.keys(generated.services).length} service(s) of ${env.name}`);
      await ctx.compose.up(generatedTarget(ctx.paths, env), { build: input.build, forceRecreate: input.recreate, onStderr: input.onComposeOutput });
      await waitForServices(ctx.docker, { ...waitSpec, resumed: new Set(resumed) });
    }
  } catch (e) {
    if (created) {
      // Nothing half-created: an environment this very call made is removed again.
      await destroyEnvironment(ctx, env).catch(() => undefined);
      throw e;
    }
    await withStateLock((state) => {
      const rec = state.environments[env.name];
      if (rec) {
        rec.status = 'error';
        rec.last_error = e instanceof Error ? e.message : String(e);
        rec.updated_at = new Date().toISOString();
      }
    }, ctx.paths);
    throw e;
  }

  const done = await withStateLock((state) => {
    const rec = state.environments[env.name];
    if (!rec) throw new CiloError('ENV_NOT_FOUND', `Environment "${env.name}" was destroyed while starting.`);
    rec.status = 'running';
    rec.updated_at = new Date().toISOString();
    return rec;
  }, ctx.paths);
  try {
    await ctx.dns.ensureRunning();
  } catch (e) {
    // The environment is up; only name resolution from the host is missing.
    ctx.warn(`the DNS server is not running (${e instanceof Error ? e.message : String(e)}); names will not resolve from the host. \`cilo dns status\` tells more.`);
  }
  return { env: done, created };
}
