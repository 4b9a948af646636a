/**
 * What the loopback router is doing on this machine (`cilo router status`), and doctor's checks
 * of it: present when routed environments need it, its routes those of the environments, its
 * ports the ones chosen. The routes it runs are read from the config Caddy saved after the last
 * load (`/config/caddy/autosave.json`, XDG_CONFIG_HOME of Caddy's images), from inside it.
 */
import { caddyConfig, needsRequestLog, routerContainerName, routerNetworkName, routerRoutes, type CaddyRoute, type RouterPlan, type RouterRoute } from '../../domain/router-config.js';
import { effectiveRouting, routingSettings, type EffectiveRouting, type RoutingMode, type RoutingProbe } from '../../domain/routing.js';
import { siteKey } from '../../domain/sites.js';
import type { State } from '../../domain/state.js';
import { homeId } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { atLocalSite } from '../sites/reach.js';
import type { SiteContext } from '../sites/site.js';
import { routedEnvironments, routerImage, routerPlanOf, routesThrough, syncRouter } from './router.js';

const AUTOSAVE = '/config/caddy/autosave.json';

export interface RouterContainerView {
  name: string;
  /** The engine's word: running, exited, paused... */
  state: string;
  image: string;
  /** `127.0.0.1:8080->80/tcp`. */
  ports: string[];
  /** The environment networks it is on (its own left out). */
  networks: string[];
}

export interface RouterStatus {
  mode: RoutingMode;
  /** What this machine runs in now (auto: what the probe found, direct until it ran). */
  effective: EffectiveRouting;
  /** What `auto` found for this machine's engine, if it asked. */
  probe: RoutingProbe | null;
  http_port: number;
  https_port: number;
  image: string;
  container: RouterContainerView | null;
  /** The routes state asks for (served when the router runs). */
  routes: RouterRoute[];
  /** Whether the router runs exactly these routes; null without a running router. */
  in_sync: boolean | null;
}

/** The router of this machine's engine, as state and the engine say. */
export async function routerStatus(base: CoreContext): Promise<RouterStatus> {
  const ctx = atLocalSite(base);
  const state = readState(ctx.paths);
  const settings = routingSettings(state);
  const site = { host: undefined };
  const envs = routesThrough(state, site) ? routedEnvironments(state, site) : [];
  const wanted = routerRoutes(envs);
  const container = await routerContainer(ctx);
  return {
    mode: settings.mode,
    effective: effectiveRouting(state, siteKey(site)),
    probe: settings.resolved?.[siteKey(site)] ?? null,
    http_port: settings.http_port,
    https_port: settings.https_port,
    image: routerImage(),
    container,
    routes: wanted,
    in_sync: container?.state === 'running' ? await runsRoutes(ctx, container.name, await routerPlanOf(ctx, envs, wanted), needsRequestLog(envs)) : null,
  };
}

async function routerContainer(ctx: SiteContext): Promise<RouterContainerView | null> {
  const name = routerContainerName(homeId(ctx.paths));
  const [c] = await ctx.site.docker.listContainers({ name: [`^/${name}$`] }, true);
  if (!c) return null;
  return {
    name,
    state: c.State,
    image: c.Image,
    ports: (c.Ports ?? []).filter((p) => p.PublicPort !== undefined).map((p) => `${p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`).sort(),
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}).filter((n) => n !== routerNetworkName(homeId(ctx.paths))).sort(),
  };
}

/** Keys sorted at every level: Caddy saves the config with its own key order. */
function canonical(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(canonical);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
  return x;
}

/**
 * Whether the running Caddy's HTTP routes are those of the plan (its port maps and explicit
 * routes); false when its config cannot be read.
 */
async function runsRoutes(ctx: SiteContext, container: string, plan: RouterPlan, tellCilo: boolean): Promise<boolean> {
  const r = await ctx.site.exec.run(container, ['cat', AUTOSAVE]).catch(() => undefined);
  if (!r || r.code !== 0) return false;
  let running: CaddyRoute[] | undefined;
  try {
    running = (JSON.parse(r.stdout) as { apps?: { http?: { servers?: { http?: { routes?: CaddyRoute[] } } } } }).apps?.http?.servers?.http?.routes;
  } catch {
    return false;
  }
  const want = caddyConfig({ plan, https: false, tellCilo }).apps.http.servers.http?.routes ?? [];
  return JSON.stringify(canonical(running ?? [])) === JSON.stringify(canonical(want));
}

export interface RouterFinding {
  kind: 'router.missing' | 'router.routes' | 'router.ports' | 'router.unneeded';
  severity: 'error' | 'warning';
  subject: string;
  message: string;
  fix: string;
  repair: () => Promise<void>;
}

/** Doctor's checks of this machine's router; each is repaired by making the router what state says. */
export async function checkRouter(ctx: SiteContext, state: State): Promise<RouterFinding[]> {
  const site = { host: ctx.site.host };
  const needed = routesThrough(state, site) ? routedEnvironments(state, site) : [];
  const container = await routerContainer(ctx);
  const repair = async (): Promise<void> => {
    await syncRouter(ctx);
  };
  const subject = container?.name ?? routerContainerName(homeId(ctx.paths));
  if (needed.length === 0) {
    return container ? [{ kind: 'router.unneeded', severity: 'warning', subject, message: `The loopback router ${container.name} runs, but no environment here is routed through it.`, fix: 'remove it', repair }] : [];
  }
  const names = needed.map((e) => e.name).join(', ');
  if (container?.state !== 'running') {
    return [{ kind: 'router.missing', severity: 'error', subject, message: `The loopback router ${container ? `is ${container.state}` : 'is missing'}, so the names of ${names} do not answer on 127.0.0.1.`, fix: 'make and start it', repair }];
  }
  const out: RouterFinding[] = [];
  const { http_port, https_port } = routingSettings(state);
  const published = [`127.0.0.1:${http_port}->80/tcp`, `127.0.0.1:${https_port}->443/tcp`];
  const missing = published.filter((p) => !container.ports.includes(p));
  if (missing.length > 0) {
    out.push({ kind: 'router.ports', severity: 'error', subject, message: `The loopback router publishes ${container.ports.join(', ') || 'nothing'}, not ${missing.join(' and ')} as chosen.`, fix: 'make it again with the chosen ports', repair });
  }
  if (!(await runsRoutes(ctx, container.name, await routerPlanOf(ctx, needed), needsRequestLog(needed)))) {
    out.push({ kind: 'router.routes', severity: 'error', subject, message: `The loopback router's routes are not those of the routed environments (${names}).`, fix: 'push the routes again', repair });
  }
  return out;
}
