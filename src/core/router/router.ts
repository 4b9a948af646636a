/**
 * The loopback router's lifecycle on one site (issue #25): one Caddy container per engine and
 * CILO_HOME, made with the first environment that needs it and removed when none does; connected
 * to each routed environment's network at the address no service is ever given
 * (routerAddressOf). An environment's coming and going is a network connect or disconnect, not a
 * config change: Caddy finds each name's container by Docker's DNS at request time (see
 * domain/router-config.ts). The config (ports per name, explicit routes for live hostnames and
 * names two ports claim) is recomputed from state and pushed through Caddy's admin API from
 * inside the container only when it differs (`caddy reload` does nothing for the running config;
 * a load in Caddy 2.6 resets a connection or so, which is why environments are not in it).
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPOSE_PROJECT, composeProjectName, networkName } from '../../domain/names.js';
import { caddyConfig, DEFAULT_ROUTER_IMAGE, isRouted, needsRequestLog, renderRouterModel, ROUTER_CA_DIR, ROUTER_HASH_LABEL, ROUTER_INTERMEDIATE_CERT, ROUTER_INTERMEDIATE_KEY, ROUTER_LEGACY_CA_FILES, ROUTER_LABEL, routerContainerName, routerNetworkName, routerPlan, routerRoutes, type CaddyConfig, type RouterPlan, type RouterRoute } from '../../domain/router-config.js';
import { effectiveRouting, routingSettings } from '../../domain/routing.js';
import { sameSite, siteKey, type OnSite } from '../../domain/sites.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { routerAddressOf } from '../../domain/subnet.js';
import { CiloError, DockerApiError } from '../../errors.js';
import { homeId, type CiloPaths } from '../../state/paths.js';
import { readState, withNamedLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { writeModelFile } from '../project/env-compose.js';
import { attach } from '../shared/shared.js';
import { atSite } from '../sites/reach.js';
import { routedAliases } from './aliases.js';
import type { SiteContext } from '../sites/site.js';

/** The router's image: CILO_ROUTER_IMAGE (tests, mirrors), else Caddy's official Alpine image. */
export function routerImage(): string {
  return process.env.CILO_ROUTER_IMAGE?.trim() || DEFAULT_ROUTER_IMAGE;
}

/** What a sync left: whether a router serves this site, and its routes. */
export interface RouterSync {
  router: boolean;
  routes: RouterRoute[];
}

function lockName(site: OnSite): string {
  return `router${site.host ? `@${site.host}` : ''}`;
}

/** The environments of the site whose names are served now. */
export function routedEnvironments(state: State, site: OnSite): EnvironmentState[] {
  return Object.values(state.environments).filter((e) => sameSite(e, site) && isRouted(e));
}

/** Whether the site runs in router mode now (chosen, or found by `auto`). */
export function routesThrough(state: State, site: OnSite): boolean {
  return effectiveRouting(state, siteKey(site)) === 'router';
}

/**
 * Makes the router what state asks for on this site: absent when no environment there needs it,
 * else made (if need be), connected to every routed environment's network, its config pushed,
 * and disconnected from networks of environments no longer routed. Serialized per site.
 */
export async function syncRouter(ctx: SiteContext): Promise<RouterSync> {
  const site: OnSite = { host: ctx.site.host };
  return withNamedLock(ctx.paths, lockName(site), async () => {
    const state = readState(ctx.paths);
    const envs = routedEnvironments(state, site);
    // Per-environment certificates were kept here before Caddy issued them on demand.
    const legacy = join(ctx.paths.home, 'router', 'certs');
    if (existsSync(legacy)) rmSync(legacy, { recursive: true, force: true });
    if (!routesThrough(state, site) || envs.length === 0) {
      await removeRouter(ctx);
      return { router: false, routes: [] };
    }
    const routes = await serveRoutes(ctx, state, envs);
    const { http_port, https_port } = routingSettings(state);
    await ctx.site.forwardLoopback([http_port, https_port]);
    return { router: true, routes };
  });
}

/**
 * The router serving these environments (made, connected, config pushed, stale networks
 * disconnected); the caller holds the site's router lock. Returns the routes pushed.
 */
async function serveRoutes(ctx: SiteContext, state: State, envs: EnvironmentState[]): Promise<RouterRoute[]> {
  const routes = routerRoutes(envs);
  const plan = await routerPlanOf(ctx, envs, routes);
  const authority = await routerCa(ctx, plan.suffixes.map((s) => s.suffix));
  // A CA made anew: the certificates Caddy issued and keeps came from the old one; a new router has none.
  if (authority?.newRoot) await removeRouter(ctx);
  const name = await ensureRouterContainer(ctx, state);
  for (const env of envs) await attach(ctx.site.docker, name, networkName(env.project, env.name), routerAddressOf(env.subnet), []);
  const ca = authority ? await installCa(ctx, name, authority) : 'none';
  await pushConfig(ctx, name, caddyConfig({ plan, https: ca !== 'none', tellCilo: needsRequestLog(envs) }), ca === 'written');
  await detachStale(ctx, name, envs);
  return routes;
}

/**
 * The plan of the config for these environments' names, with the aliases their containers have
 * on their networks now: a custom hostname is served through Docker's DNS once its container has
 * it as an alias (from the `up` after `cilo hostnames add`), and an alias whose hostname was
 * removed is answered 404 until the next `up` drops it.
 */
export async function routerPlanOf(ctx: SiteContext, envs: readonly EnvironmentState[], routes: readonly RouterRoute[] = routerRoutes(envs)): Promise<RouterPlan> {
  return routerPlan(routes, await routedAliases(ctx, envs));
}

type RouterCa = Awaited<ReturnType<SiteContext['ca']['routerCa']>>;

/**
 * The router's intermediate CA for these suffixes (see LocalCa.routerCa); undefined when there is
 * no CA (the router serves HTTP only, with a warning). A CA made anew is said.
 */
async function routerCa(ctx: SiteContext, suffixes: readonly string[]): Promise<RouterCa | undefined> {
  try {
    const ca = await ctx.ca.routerCa(suffixes);
    if (ca.newRoot) ctx.warn(`cilo's CA was made anew: the one an older cilo made could not sign the router's name-constrained intermediate CA. Run \`cilo trust\` again so browsers accept the router's certificates.`);
    return ca;
  } catch (e) {
    ctx.warn(`no HTTPS through the loopback router: cilo's CA could not be made (${e instanceof Error ? e.message : String(e)}).`);
    return undefined;
  }
}

/**
 * Copies the router's intermediate CA (certificate and its own key) into the router container,
 * from which Caddy issues each name's certificate at its first handshake. It may sign only for
 * the routed `suffixes`; cilo's root key never leaves CILO_HOME (whoever read it in the container
 * could sign for any site this machine trusts). Kept when the container has this intermediate
 * and none of the root's files an older cilo copied there; otherwise written, and those removed.
 * A new set of suffixes, or an intermediate ending within 30 days, brings a new intermediate.
 */
async function installCa(ctx: SiteContext, container: string, ca: RouterCa): Promise<'kept' | 'written'> {
  // Fixed command strings (never built from input).
  const legacy = ROUTER_LEGACY_CA_FILES.join(' ');
  const current = await ctx.site.exec.run(container, ['sh', '-c', `cat ${ROUTER_INTERMEDIATE_CERT} && for f in ${legacy}; do test ! -e "$f" || exit 3; done`]).catch(() => undefined);
  if (current?.code === 0 && current.stdout === ca.cert) return 'kept';
  // The key is readable by root in the container only; the root's old files go once their replacement is there.
  for (const [cmd, pem] of [
    [`umask 077; mkdir -p ${ROUTER_CA_DIR}; cat > ${ROUTER_INTERMEDIATE_KEY}`, ca.key],
    [`umask 077; mkdir -p ${ROUTER_CA_DIR}; cat > ${ROUTER_INTERMEDIATE_CERT} && rm -f ${legacy}`, ca.cert],
  ] as const) {
    const r = await ctx.site.exec.run(container, ['sh', '-c', cmd], { stdin: pem });
    if (r.code !== 0) throw new CiloError('ROUTER_FAILED', `cilo's CA could not be copied into the loopback router (exit ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-1).join('')}`, { hint: 'Run `cilo doctor` to check the router.' });
  }
  return 'written';
}

/**
 * The router serving `envs` plus the routed environments of the site, whatever the mode: for
 * `auto`'s probe, which connects to it. Returns the container's name.
 */
export async function withRouterServing<T>(ctx: SiteContext, also: EnvironmentState, fn: (container: string) => Promise<T>): Promise<T> {
  const site: OnSite = { host: ctx.site.host };
  return withNamedLock(ctx.paths, lockName(site), async () => {
    const state = readState(ctx.paths);
    const envs = [...routedEnvironments(state, site).filter((e) => e.name !== also.name), also];
    await serveRoutes(ctx, state, envs);
    return fn(routerContainerName(homeId(ctx.paths)));
  });
}

/** `syncRouter`, a failure a warning: the environment command itself succeeded. */
export async function syncRouterOrWarn(ctx: SiteContext): Promise<void> {
  try {
    await syncRouter(ctx);
  } catch (e) {
    ctx.warn(routerWarning(e));
  }
}

/** `syncRouterOrWarn` on a record's site (commands that change state only, such as `cilo hostnames`). */
export async function syncRouterAt(base: CoreContext, at: OnSite): Promise<void> {
  try {
    await syncRouter(await atSite(base, at));
  } catch (e) {
    base.warn(routerWarning(e));
  }
}

export function routerWarning(e: unknown): string {
  return `the loopback router could not be updated (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); names served through it may be out of date. \`cilo router status\` and \`cilo doctor\` tell more.`;
}

function routerFile(paths: CiloPaths, site: OnSite): string {
  return join(paths.generatedDir, '_router', site.host ? `router@${site.host}.yml` : 'router.yml');
}

/** The router container, made by compose when absent or made from another model (ports, image), started when stopped. */
async function ensureRouterContainer(ctx: SiteContext, state: State): Promise<string> {
  const { http_port, https_port } = routingSettings(state);
  const model = renderRouterModel({ homeId: homeId(ctx.paths), image: routerImage(), httpPort: http_port, httpsPort: https_port });
  const name = routerContainerName(homeId(ctx.paths));
  const info = await ctx.site.docker.inspectContainer(name);
  const hash = model.services.router?.labels?.[ROUTER_HASH_LABEL];
  if (info && info.Config.Labels?.[ROUTER_HASH_LABEL] === hash) {
    if (!info.State.Running) await ctx.site.docker.startContainer(info.Id);
    return name;
  }
  if (info) {
    ctx.log(`Making the loopback router again (its ports, image or settings changed)`);
    await ctx.site.docker.removeContainer(info.Id, { force: true, volumes: true });
  } else ctx.log(`Starting the loopback router on 127.0.0.1:${http_port} and :${https_port}`);
  const file = routerFile(ctx.paths, { host: ctx.site.host });
  writeModelFile(file, 'the loopback router', model);
  try {
    await ctx.site.compose.up({ projectName: model.name ?? name, files: [file], cwd: dirname(file) });
  } catch (e) {
    // Nothing half-made: a container that could not start (its port taken) is removed again.
    await removeRouter(ctx).catch(() => undefined);
    throw new CiloError('ROUTER_FAILED', `The loopback router (${routerImage()}) could not be started on 127.0.0.1:${http_port} and :${https_port}: ${e instanceof Error ? e.message.split('\n').slice(-3).join(' ') : String(e)}`, {
      hint: 'Free those ports or choose others (`cilo init --router-http-port N --router-https-port N`); with no registry, set CILO_ROUTER_IMAGE to a Caddy 2 image the engine has.',
      cause: e,
    });
  }
  return name;
}

/** Removes the router container (and its anonymous volumes) if there is one. */
export async function removeRouter(ctx: SiteContext): Promise<boolean> {
  const found = await ctx.site.docker.listContainers({ label: [`${ROUTER_LABEL}=true`, `cilo.home=${homeId(ctx.paths)}`] }, true);
  for (const c of found) await ctx.site.docker.removeContainer(c.Id, { force: true, volumes: true });
  // Its own network goes with it (absent: nothing to do).
  await ctx.site.docker.removeNetwork(routerNetworkName(homeId(ctx.paths)));
  return found.length > 0;
}

/**
 * Loads the whole config into the running Caddy through its admin API, from inside the
 * container (the admin endpoint listens on the container's loopback only). `caddy reload` does
 * nothing when the config is the one running; `force` (the CA was copied anew) loads it anyway.
 */
async function pushConfig(ctx: SiteContext, container: string, config: CaddyConfig, force: boolean): Promise<void> {
  const r = await ctx.site.exec.run(container, ['caddy', 'reload', '--config', '/dev/stdin', '--address', config.admin.listen, ...(force ? ['--force'] : [])], { stdin: JSON.stringify(config) });
  if (r.code !== 0) {
    throw new CiloError('ROUTER_FAILED', `The loopback router refused its config (caddy reload exited ${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`, {
      hint: 'Run `cilo doctor` to check the router; `docker logs ' + container + '` shows what Caddy said.',
    });
  }
}

/** Disconnects the router from networks of environments no longer routed (and from any other: its own stays). */
async function detachStale(ctx: SiteContext, container: string, envs: EnvironmentState[]): Promise<void> {
  const info = await ctx.site.docker.inspectContainer(container);
  const wanted = new Set([...envs.map((e) => networkName(e.project, e.name)), routerNetworkName(homeId(ctx.paths))]);
  for (const net of Object.keys(info?.NetworkSettings.Networks ?? {})) {
    if (wanted.has(net)) continue;
    try {
      await ctx.site.docker.disconnectNetwork(net, container, true);
    } catch (e) {
      // Gone meanwhile (removed with its environment): nothing to disconnect.
      if (!(e instanceof DockerApiError && e.status === 404)) throw e;
    }
  }
}
