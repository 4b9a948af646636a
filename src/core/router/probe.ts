/**
 * `auto` routing (issue #25): does this machine reach container addresses on the site's engine?
 * Asked once per engine (its id), at the first `up` there before any URL is given out, and
 * recorded in state.routing.resolved[siteKey]. A connect from this process: first to the
 * environment's services on their ports (one that connects settles it: direct; one with no
 * route or no answer settles it too: router); when every service refused or none has a port (a
 * refusal may be a closed port, or a firewall's reject), to the router's own :80, which listens
 * for sure: connected means direct, anything else router.
 */
import type { RoutingProbe } from '../../domain/routing.js';
import { routingSettings } from '../../domain/routing.js';
import { siteKey } from '../../domain/sites.js';
import type { EnvironmentState } from '../../domain/state.js';
import { routerAddressOf } from '../../domain/subnet.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow } from '../context.js';
import type { ConnectOutcome } from '../ports.js';
import type { SiteContext } from '../sites/site.js';
import { routerWarning, routesThrough, syncRouterOrWarn, withRouterServing } from './router.js';
import { routerRoutes } from '../../domain/router-config.js';
import { servedOverHttp } from '../../domain/host-reach.js';

/** How long one connect may take: a machine that reaches containers answers in microseconds. */
export const PROBE_TIMEOUT_MS = 1500;

/** Codes that mean "no way there" (as opposed to a port that refuses). */
const NO_ROUTE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

export interface ProbeAttempt {
  /** `ip:port`, and what it is (`service web`, `the router`). */
  target: string;
  what: string;
  outcome: ConnectOutcome;
}

export type ProbeDecision = { mode: 'direct' | 'router'; why: string } | { mode: 'ask-router'; why: string };

function said(a: ProbeAttempt): string {
  return `connect to ${a.what} at ${a.target}: ${a.outcome.ok ? 'connected' : a.outcome.code}`;
}

/** The decision from the services' connects: settled, or the router must be asked. Pure. */
export function decideFromServices(attempts: readonly ProbeAttempt[]): ProbeDecision {
  const ok = attempts.find((a) => a.outcome.ok);
  if (ok) return { mode: 'direct', why: said(ok) };
  const lost = attempts.find((a) => !a.outcome.ok && NO_ROUTE.has(a.outcome.code));
  if (lost) return { mode: 'router', why: said(lost) };
  return { mode: 'ask-router', why: attempts.length === 0 ? 'no service has a port to connect to' : attempts.map(said).join('; ') };
}

/** The decision from a connect to the router's :80, which listens: connected is direct, anything else router. Pure. */
export function decideFromRouter(attempt: ProbeAttempt): { mode: 'direct' | 'router'; why: string } {
  return { mode: attempt.outcome.ok ? 'direct' : 'router', why: said(attempt) };
}

/** Whether the site needs asking: mode auto and no answer for this very engine. */
export function needsProbe(state: Parameters<typeof routingSettings>[0], key: string, engineId: string): boolean {
  const s = routingSettings(state);
  if (s.mode !== 'auto') return false;
  const known = s.resolved?.[key];
  return known === undefined || known.engine_id !== engineId;
}

/**
 * Runs the probe for the site of a running environment when `auto` has no answer for its engine,
 * and records the answer. A router that cannot be made to ask leaves the question open (direct
 * until then), said in the log.
 */
export async function probeRouting(ctx: SiteContext, env: EnvironmentState): Promise<RoutingProbe | undefined> {
  const key = siteKey(env);
  const state = readState(ctx.paths);
  if (routingSettings(state).mode !== 'auto') return undefined;
  const engineId = (await ctx.site.docker.info()).ID ?? '';
  if (!needsProbe(state, key, engineId)) return undefined;
  const attempts = await Promise.all(
    Object.entries(env.services)
      .filter(([, s]) => s.port !== undefined && s.ip !== '')
      .map(async ([name, s]): Promise<ProbeAttempt> => ({ target: `${s.ip}:${s.port}`, what: `service ${name}`, outcome: await ctx.local.routes.connect(s.ip, s.port ?? 80, PROBE_TIMEOUT_MS) })),
  );
  let decision = decideFromServices(attempts);
  if (decision.mode === 'ask-router') {
    const ip = routerAddressOf(env.subnet);
    try {
      // Its warnings (no certificate yet) are nobody's concern while it only answers the probe.
      decision = await withRouterServing({ ...ctx, warn: ctx.log }, env, async () => decideFromRouter({ target: `${ip}:80`, what: 'the router', outcome: await ctx.local.routes.connect(ip, 80, PROBE_TIMEOUT_MS) }));
    } catch (e) {
      ctx.log(`Could not find out whether this machine reaches containers on ${ctx.site.label} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); names point at container addresses until it can.`);
      return undefined;
    }
  }
  const probe: RoutingProbe = { mode: decision.mode === 'router' ? 'router' : 'direct', engine_id: engineId, at: isoNow(ctx), why: decision.why };
  await withStateLock((s) => {
    const routing = routingSettings(s);
    s.routing = { ...routing, resolved: { ...(routing.resolved ?? {}), [key]: probe } };
  }, ctx.paths);
  ctx.log(`Routing on ${ctx.site.label}: ${probe.mode} (${probe.why})`);
  return probe;
}

/**
 * After an `up`: the `auto` probe where it is needed, then the router made to serve what state
 * says. Neither fails the `up`: a problem is a warning.
 */
export async function routeAfterUp(ctx: SiteContext, env: EnvironmentState): Promise<void> {
  try {
    await probeRouting(ctx, env);
  } catch (e) {
    ctx.warn(routerWarning(e));
  }
  await syncRouterOrWarn(ctx);
  await warmCertificates(ctx, env.name);
}

/** How many handshakes a name gets before `up` warns that its certificate could not be made. */
const WARM_ATTEMPTS = 3;

/**
 * Makes the router issue the HTTPS certificates of the environment's names now (a handshake each
 * through the router's port on 127.0.0.1), so the user's first `https://` request finds them made;
 * a name whose certificate still cannot be made after a few tries is a warning, never a failed `up`.
 */
async function warmCertificates(ctx: SiteContext, name: string): Promise<void> {
  const handshake = ctx.local.routes.tlsHandshake?.bind(ctx.local.routes);
  if (!handshake) return;
  const state = readState(ctx.paths);
  const env = state.environments[name];
  if (!env || !routesThrough(state, { host: ctx.site.host })) return;
  const { https_port: port } = routingSettings(state);
  const names = routerRoutes([env]).filter((r) => r.kind !== 'wildcard' && servedOverHttp(env.services[r.service] ?? {})).map((r) => r.host);
  const failed: string[] = [];
  await Promise.all(
    names.map(async (host) => {
      for (let attempt = 1; ; attempt++) {
        const r = await handshake(port, host, 10_000);
        if (r.ok) return;
        if (attempt === WARM_ATTEMPTS) return void failed.push(`${host} (${r.code})`);
        await new Promise((done) => setTimeout(done, 500 * attempt));
      }
    }),
  );
  if (failed.length > 0) ctx.warn(`the loopback router could not make the HTTPS certificates of ${failed.join(', ')}; https:// to those names may fail until it can. \`cilo router status\` and \`cilo doctor\` tell more.`);
}
