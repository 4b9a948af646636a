/**
 * How the host reaches an environment's services (issue #25): `direct` to container addresses
 * (a root engine on Linux), or through the loopback `router` (one reverse-proxy container per
 * engine, publishing on 127.0.0.1 only). `auto` asks the engine once (a connect to a running
 * container's address from this machine) and records the answer per site. Pure rules, no I/O.
 */
export const ROUTING_MODES = ['auto', 'direct', 'router'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];
export type EffectiveRouting = Exclude<RoutingMode, 'auto'>;

/** The home-wide choice (`cilo init --routing`), kept in the state file. */
export interface RoutingSettings {
  mode: RoutingMode;
  /** The router's HTTP port on 127.0.0.1 (`--router-http-port`). */
  http_port: number;
  /** The router's HTTPS port on 127.0.0.1 (`--router-https-port`). */
  https_port: number;
  /** What `auto` found, by site key (domain/sites.ts: '' for this machine, the host's name else). */
  resolved?: Record<string, RoutingProbe> | undefined;
}

/** The answer of `auto`'s probe for one site. */
export interface RoutingProbe {
  mode: EffectiveRouting;
  /** The engine's id when probed: a different engine behind the same site probes again. */
  engine_id: string;
  at: string;
  /** One sentence on what was tried (`connect to 10.224.0.5:80: EHOSTUNREACH`). */
  why: string;
}

export const DEFAULT_ROUTING: RoutingSettings = { mode: 'auto', http_port: 80, https_port: 443 };

/** The settings of a state that has none (made before #25): auto, on 80 and 443. */
export function routingSettings(state: { routing?: RoutingSettings | undefined }): RoutingSettings {
  return state.routing ?? DEFAULT_ROUTING;
}

/**
 * The mode a site runs in: the chosen one, or what `auto` found for it (direct until probed:
 * the probe runs at the first `up` on that site, before any URL is handed out).
 */
export function effectiveRouting(state: { routing?: RoutingSettings | undefined }, siteKey: string): EffectiveRouting {
  const s = routingSettings(state);
  if (s.mode !== 'auto') return s.mode;
  return s.resolved?.[siteKey]?.mode ?? 'direct';
}

/** `http://name` or `http://name:8080`: the port is left out where it is the scheme's own. */
export function routerUrl(scheme: 'http' | 'https', host: string, port: number): string {
  const own = scheme === 'http' ? 80 : 443;
  return `${scheme}://${host}${port === own ? '' : `:${port}`}`;
}
