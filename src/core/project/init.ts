import { existsSync } from 'node:fs';
import { checkPrivateRange, parseCidr, formatCidr } from '../../domain/subnet.js';
import { DEFAULT_DNS_SUFFIX, type State } from '../../domain/state.js';
import { isLoopbackSuffix, isValidSuffix, normalizeSuffix } from '../../domain/names.js';
import { effectiveRouting, routingSettings, type RoutingSettings } from '../../domain/routing.js';
import { applyRoutingChoice, choosesRouting, routerPortWarnings, type LoopbackPortState, type RoutingChoice } from '../../domain/routing-choice.js';
import { siteKey } from '../../domain/sites.js';
import { CiloError, usageError } from '../../errors.js';
import { readState, withStateLock } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { atLocalSite } from '../sites/reach.js';
import { memoryBudgetSetting } from '../environments/admission.js';
import { formatIdlePause, IDLE_PAUSE_OFF, parseIdlePause } from '../../domain/idle.js';

export interface InitInput {
  baseSubnets?: string[] | undefined;
  dnsPort?: number | undefined;
  /** Takes base ranges outside the private ones too. */
  force?: boolean | undefined;
  /** `--routing auto|direct|router` (checked here: a library caller may pass any string). */
  routing?: string | undefined;
  routerHttpPort?: number | undefined;
  routerHttpsPort?: number | undefined;
  /** The suffix of projects whose .cilo/config.yml names none (`.localhost`, `.test`). */
  dnsSuffix?: string | undefined;
  /** `--memory-budget 6g|60%|none` (issue #26): checked here, `none` removes it. */
  memoryBudget?: string | undefined;
  /** `--idle-pause 30m|0` (issue #26): the default idle pause of environments; absent: kept as it is. */
  idlePause?: string | undefined;
}

export interface InitResult {
  home: string;
  base_subnets: string[];
  dns_port: number;
  routing: RoutingSettings;
  /** The home's default DNS suffix (`.test` unless init was given another). */
  dns_suffix: string;
  /** The memory budget `up` admits environments under (`6g`, `60%`); null: none. */
  memory_budget: string | null;
  /** The home's default idle pause (`30m`); null: off. */
  idle_pause_default: string | null;
  /** Problems with the router's ports on this machine, and what a change means for running environments (also sent to ctx.warn). */
  warnings: string[];
  /**
   * Whether this machine's resolver sends cilo's names (`<service>.<env>.test`) to its DNS
   * server. `init` no longer sets it up (the original did): when false, run `cilo dns setup`.
   */
  system_resolver: boolean;
}

/** Creates CILO_HOME and its state; changes base subnets or DNS port only when given. Idempotent. */
export async function initHome(ctx: CoreContext, input: InitInput): Promise<InitResult> {
  const { paths } = ctx;
  const bases = input.baseSubnets?.map((b) => formatCidr(parseCidr(b)));
  for (const b of bases ?? []) checkPrivateRange(b, '--base-subnet', input.force);
  if (input.dnsPort !== undefined && (input.dnsPort < 1 || input.dnsPort > 65535)) {
    throw new CiloError('USAGE', `--dns-port ${input.dnsPort} is not a valid port.`, { hint: 'Use a port between 1 and 65535, for example 5354.', exitCode: 2 });
  }
  const choice: RoutingChoice = { mode: input.routing, httpPort: input.routerHttpPort, httpsPort: input.routerHttpsPort };
  const suffix = input.dnsSuffix === undefined ? undefined : homeSuffix(input.dnsSuffix);
  const budget = input.memoryBudget === undefined ? undefined : memoryBudgetSetting(input.memoryBudget);
  const idlePause = input.idlePause === undefined ? undefined : parseIdlePause(input.idlePause, '--idle-pause');
  const firstInit = !existsSync(paths.state);
  // Checked before the home is touched (again under the lock, against the state it changes).
  if (choosesRouting(choice)) applyRoutingChoice(routingSettings(readState(paths)), choice);
  let snapshot: State | undefined;
  let before: RoutingSettings | undefined;
  const result = await withStateLock((state) => {
    snapshot = state;
    before = routingSettings(state);
    // Checked before anything is written: a bad flag leaves the home as it was.
    const routing = applyRoutingChoice(before, choice);
    if (bases) {
      const envs = Object.values(state.environments);
      if (envs.length > 0 && bases.join() !== state.base_subnets.join()) {
        throw new CiloError('USAGE', `Cannot change the base subnet while ${envs.length} environment(s) exist.`, {
          hint: "Destroy them first (`cilo destroy --all --force`), then run init again.",
        });
      }
      state.base_subnets = bases;
    }
    if (input.dnsPort !== undefined) state.dns_port = input.dnsPort;
    if (choosesRouting(choice)) state.routing = routing;
    if (suffix !== undefined) state.dns_suffix = suffix;
    if (budget === null) delete state.memory_budget;
    else if (budget !== undefined) state.memory_budget = budget;
    if (idlePause === IDLE_PAUSE_OFF) delete state.idle_pause_default;
    else if (idlePause !== undefined) state.idle_pause_default = idlePause;
    const idleDefault = state.idle_pause_default ?? IDLE_PAUSE_OFF;
    return {
      home: paths.home, base_subnets: state.base_subnets, dns_port: state.dns_port, routing: routingSettings(state), dns_suffix: state.dns_suffix ?? DEFAULT_DNS_SUFFIX, memory_budget: state.memory_budget ?? null,
      idle_pause_default: idleDefault > 0 ? formatIdlePause(idleDefault) : null,
    };
  }, paths);
  const warnings = [
    ...(firstInit || choosesRouting(choice) ? await routerPortProblems(ctx, result.routing, choosesRouting(choice), heldByRouter(snapshot, before)) : []),
    ...routingChangeNote(snapshot, before, result.routing),
    ...localhostNote(result.routing, result.dns_suffix),
  ];
  for (const w of warnings) ctx.warn(w);
  // The DNS server answers as soon as environments exist; a taken port is reported here.
  await ctx.dns.ensureRunning();
  return { ...result, warnings, system_resolver: await systemResolverRoutes(ctx, snapshot, result.dns_suffix) };
}

/**
 * A suffix for the home, as stored (`.localhost`). Any valid suffix; `.localhost` needs no
 * resolver set-up at all (browsers and curl send it to loopback themselves).
 */
function homeSuffix(raw: string): string {
  const s = normalizeSuffix(raw);
  if (!isValidSuffix(s)) {
    throw usageError(`--dns-suffix "${raw}" is not a DNS suffix: it must be dot-separated labels of lowercase letters, digits and "-", such as .test or .localhost.`);
  }
  return s;
}

/** The router's ports while environments run through it: the router itself may hold them, which is no problem. */
function heldByRouter(state: State | undefined, before: RoutingSettings | undefined): number[] {
  if (!state || !before) return [];
  const routed = Object.values(state.environments).some((e) => (e.status === 'running' || e.status === 'paused') && effectiveRouting(state, siteKey(e)) === 'router');
  return routed ? [before.http_port, before.https_port] : [];
}

/**
 * What stands in the way of the router's ports on this machine: each port bound for a moment
 * on 127.0.0.1 (in use, or privileged for this user), and whether the engine runs rootless.
 * A first `init` in auto mode with no routing flags asks only the engine: on most machines auto
 * picks direct, and a web server on port 80 there is none of cilo's business.
 */
async function routerPortProblems(ctx: CoreContext, routing: RoutingSettings, chosen: boolean, skip: number[]): Promise<string[]> {
  if (routing.mode === 'direct') return [];
  const site = atLocalSite(ctx).site;
  const probe = chosen || routing.mode === 'router' ? site.routes.loopbackPort?.bind(site.routes) : undefined;
  const ask = async (port: number): Promise<LoopbackPortState | undefined> => (probe && !skip.includes(port) ? probe(port) : undefined);
  const [http, https, info] = await Promise.all([ask(routing.http_port), ask(routing.https_port), site.docker.info().catch(() => undefined)]);
  const rootless = (info?.SecurityOptions ?? []).some((o) => /(^|,)name=rootless(,|$)/.test(o));
  return routerPortWarnings(routing, { ports: { ...(http ? { http } : {}), ...(https ? { https } : {}) }, rootless });
}

/**
 * `.localhost` names go to 127.0.0.1 in browsers and curl whatever cilo's DNS says, so they reach
 * an environment only through the router: said when the mode may not use it.
 */
function localhostNote(routing: RoutingSettings, suffix: string): string[] {
  if (!isLoopbackSuffix(suffix) || routing.mode === 'router') return [];
  const how = routing.mode === 'direct' ? 'direct mode never starts it' : 'auto starts it only where this machine cannot reach container addresses';
  return [`Names under ${suffix} go to 127.0.0.1 in browsers and curl, where only the router answers, and ${how}: run \`cilo init --routing router\` to use it everywhere.`];
}

/** Routing changed while environments run: allowed; said, since their routes follow at their next `up`. */
function routingChangeNote(state: State | undefined, before: RoutingSettings | undefined, after: RoutingSettings): string[] {
  if (!state || !before) return [];
  if (before.mode === after.mode && before.http_port === after.http_port && before.https_port === after.https_port) return [];
  const running = Object.values(state.environments).filter((e) => e.status === 'running' || e.status === 'paused').map((e) => e.name).sort();
  if (running.length === 0) return [];
  return [`Routing is now ${after.mode} on ports ${after.http_port}/${after.https_port}; ${running.length} running environment(s) (${running.join(', ')}) get their routes and URLs that way at their next \`cilo up\`.`];
}

/**
 * Whether names will resolve outside cilo's own server: asked of the system resolver for a
 * name of a running environment (as `status` does), or, with none running, whether `cilo dns
 * setup` routed the default suffix.
 */
async function systemResolverRoutes(ctx: CoreContext, state: State | undefined, suffix: string): Promise<boolean> {
  const running = Object.values(state?.environments ?? {}).find((e) => e.status === 'running' && Object.keys(e.services).length > 0);
  const service = running ? Object.keys(running.services).sort()[0] : undefined;
  if (running && service !== undefined) return ctx.dns.systemResolves(`${service}.${running.name}${running.dns_suffix}`, 500).catch(() => false);
  return ctx.dnsAdmin.resolverRoutes(suffix).catch(() => false);
}
