/**
 * What the host is given to reach an environment, by routing mode (issue #25): the address
 * cilo's DNS server answers for its names, and the URLs `status`, `list`, the manifest and the
 * dashboard print. Direct: container addresses and `http://<name>[:container port]`, as before.
 * Router: 127.0.0.1 and `http(s)://<name>[:router port]`. Pure; the mode itself is
 * domain/routing.ts's (effectiveRouting). Inside containers nothing changes: Docker's embedded
 * DNS answers the same names with container addresses (network aliases).
 */
import { serviceUrl } from './env-model.js';
import { effectiveRouting, routerUrl, routingSettings, type EffectiveRouting, type RoutingSettings } from './routing.js';
import { baseUrl } from './run-vars.js';
import { siteKey, type OnSite } from './sites.js';
import type { EnvironmentState, ServiceState } from './state.js';

/** Where the router listens, and so what cilo's DNS answers for a router-mode environment's names. */
export const ROUTER_ADDRESS = '127.0.0.1';

/** The routing of one environment's site with the router's ports: what URLs are made from. */
export interface UrlPlan {
  mode: EffectiveRouting;
  http_port: number;
  https_port: number;
}

export function urlPlan(state: { routing?: RoutingSettings | undefined }, env: OnSite): UrlPlan {
  const s = routingSettings(state);
  return { mode: effectiveRouting(state, siteKey(env)), http_port: s.http_port, https_port: s.https_port };
}

/** A plan for code that has no state at hand (unit tests, older callers): direct, as before #25. */
export const DIRECT_PLAN: UrlPlan = { mode: 'direct', http_port: 80, https_port: 443 };

/** Whether the host's queries for this environment's names are answered with the router's address. */
export function answersWithRouter(state: { routing?: RoutingSettings | undefined }, env: OnSite): boolean {
  return effectiveRouting(state, siteKey(env)) === 'router';
}

/**
 * Both URLs of a name; `https` is null in direct mode (only the router terminates TLS), and both
 * are null for a name the router does not serve.
 */
export interface Urls {
  http: string | null;
  https: string | null;
}

/**
 * Whether the router serves a service by name over HTTP: the port its URL names (80 when it
 * names none) is not one of the ports published on loopback as non-HTTP (`host_ports`, where a
 * database's port goes). Without host_ports, every service is served.
 */
export function servedOverHttp(s: Pick<ServiceState, 'port' | 'host_ports'>): boolean {
  return s.host_ports?.[String(s.port ?? 80)] === undefined;
}

function routed(host: string, plan: UrlPlan): { url: string; urls: Urls } {
  const urls = { http: routerUrl('http', host, plan.http_port), https: routerUrl('https', host, plan.https_port) };
  return { url: urls.http, urls };
}

/**
 * A service's URL and URLs. Router mode, a service it serves: through the router. Otherwise
 * the name with the container port (what containers use; a non-HTTP service's host ports are
 * in `host_ports`).
 */
export function serviceUrls(env: Pick<EnvironmentState, 'name' | 'dns_suffix'>, name: string, s: Pick<ServiceState, 'port' | 'host_ports'>, plan: UrlPlan): { url: string; urls: Urls } {
  const direct = serviceUrl(name, env.name, env.dns_suffix, s.port);
  if (plan.mode === 'direct') return { url: direct, urls: { http: direct, https: null } };
  if (!servedOverHttp(s)) return { url: direct, urls: { http: null, https: null } };
  return routed(`${name}.${env.name}${env.dns_suffix}`, plan);
}

/** The environment's URL (its apex, `<project>.<env><suffix>`, served by the ingress); null without an ingress. */
export function environmentUrls(env: Pick<EnvironmentState, 'project' | 'name' | 'dns_suffix' | 'ingress'>, plan: UrlPlan): { url: string | null; urls: Urls } {
  if (!env.ingress) return { url: null, urls: { http: null, https: null } };
  if (plan.mode === 'direct') {
    const url = baseUrl({ project: env.project, env: env.name, suffix: env.dns_suffix });
    return { url, urls: { http: url, https: null } };
  }
  return routed(`${env.project}.${env.name}${env.dns_suffix}`, plan);
}
