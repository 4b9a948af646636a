/**
 * `cilo dns ...`: cilo's DNS server as a person manages it. The process, its log and the system
 * resolver's files are reached through `ctx.dnsAdmin` (core/ports.ts); the server run in the
 * foreground (`cilo dns serve`, what `dns start` runs in the background) also supervises shared
 * services once a second.
 */
import type { DnsStartResult, DnsStatus, DnsStopResult } from '../../dns/daemon.js';
import type { SetupInput, SetupResult, UninstallResult } from '../../dns/resolver.js';
import type { CoreContext } from '../context.js';
import type { State } from '../../domain/state.js';
import { wakeEnvironment, type SeenActivity } from '../environments/idle.js';
import { superviseTick } from '../environments/supervise.js';
import { followRouterRequests } from '../router/requests.js';

/** Starts the server unless this home's server already answers on the configured port. */
export function startDnsServer(ctx: CoreContext): Promise<DnsStartResult> {
  return ctx.dnsAdmin.start();
}

export function stopDnsServer(ctx: CoreContext): Promise<DnsStopResult> {
  return ctx.dnsAdmin.stop();
}

export function dnsServerStatus(ctx: CoreContext): Promise<DnsStatus> {
  return ctx.dnsAdmin.status();
}

/** The server's log, or its last `lines` lines, with the byte offset where it ends. */
export function dnsServerLog(ctx: CoreContext, lines?: number): Promise<{ text: string; end: number }> {
  return ctx.dnsAdmin.log(lines);
}

/** Calls `write` with what the log gets after `from`, until the process ends. */
export function followDnsServerLog(ctx: CoreContext, from: number, write: (chunk: string) => void): Promise<never> {
  return ctx.dnsAdmin.followLog(from, write);
}

/** Points the system resolver at the server for cilo's suffixes (or, with printManual, says how). */
export function setupSystemResolver(ctx: CoreContext, input: SetupInput): Promise<SetupResult> {
  return ctx.dnsAdmin.setupResolver(input);
}

export function uninstallSystemResolver(ctx: CoreContext): Promise<UninstallResult> {
  return ctx.dnsAdmin.uninstallResolver();
}

/**
 * Runs the server in this process until SIGTERM/SIGINT, supervising shared services every
 * second (removing those whose grace period ended) and idle environments. A query for a name
 * of an idle-paused environment wakes it before it is answered; every answered query counts as
 * a use of its environment (issue #26). It also follows the loopback router's requests (each
 * marks its environment used and wakes it if idle-paused).
 */
export async function serveDnsServer(ctx: CoreContext, opts: { token?: string | undefined }): Promise<void> {
  const recordQueried = queriedActivityWriter(ctx);
  const router = followRouterRequests(ctx);
  try {
    await ctx.dnsAdmin.serve({
      token: opts.token,
      onWake: (env, why) => wakeEnvironment(ctx, env, why),
      onTick: (state, log, seen) => {
        recordQueried(state, seen);
        router.tick(state, log);
        return superviseTick(() => ctx, state, log, seen);
      },
    });
  } finally {
    await router.stop();
  }
}

/** How often at most an environment's activity file is written for the queries the server saw. */
const QUERIED_WRITE_EVERY_MS = 5000;

/**
 * Writes the activity of the environments whose names the server answered (ctx.activity), at
 * most once every few seconds each, so that other processes (`status`, `top`) see the use while
 * the server writes no file per query. The supervisor itself reads `seen` directly.
 */
export function queriedActivityWriter(ctx: Pick<CoreContext, 'clock' | 'activity'>): (state: Readonly<State>, seen: SeenActivity) => void {
  const written = new Map<string, number>();
  return (state, seen) => {
    const now = ctx.clock.now();
    for (const name of Object.keys(state.environments)) {
      const at = seen(name);
      const last = written.get(name) ?? 0;
      if (at === null || at === undefined || at <= last || now - last < QUERIED_WRITE_EVERY_MS) continue;
      ctx.activity.touch(name);
      written.set(name, now);
    }
  };
}
