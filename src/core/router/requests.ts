/**
 * Requests through the loopback router, as cilo's DNS server process learns of them (issue #26):
 * it follows each routing site's router container's log through the Engine API, where Caddy
 * writes one line as each request starts (domain/router-config.ts, ROUTER_REQUEST_LOGGER). A
 * request to an environment marks it used (its activity, at most once a second), and one to an
 * idle-paused environment wakes it: the request itself waits in the frozen container meanwhile
 * and is answered after the thaw.
 *
 * Driven by the server's once-a-second tick, which gives the state the zone was last built from:
 * the tick attaches to a router that appeared (or was made again) and catches up on a request
 * seen just before the environment's pause was recorded. Nothing here blocks the tick: attaching
 * and waking run in the background.
 */
import { isIdlePaused } from '../../domain/idle.js';
import { environmentOfHost, isRouted, parseRouterRequestLine, REQUEST_TOUCH_MS, requestWakes, routerContainerName } from '../../domain/router-config.js';
import { siteKey, sitesOf, type OnSite } from '../../domain/sites.js';
import type { EnvironmentState, State } from '../../domain/state.js';
import { homeId } from '../../state/paths.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { wakeEnvironment } from '../environments/idle.js';
import { atSite } from '../sites/reach.js';
import { routesThrough } from './router.js';

/** A site whose router could not be followed (a host out of reach) is tried again after this long. */
const RETRY_MS = 10_000;
/**
 * The first request after a quiet spell as long as the idle pause may have come as the supervisor
 * paused the environment: the state is read again this long after (else the next tick, up to a
 * second later, would be the first to see the pause).
 */
const RECHECK_MS = 250;

export interface RouterRequests {
  /** The server's tick: follows the routers the state asks for, wakes what a request seen earlier should. */
  tick(state: Readonly<State>, log: (line: string) => void): void;
  /** Stops following and waits for wakes under way. */
  stop(): Promise<void>;
}

interface Follow {
  running: Promise<void> | undefined;
  abort: AbortController | undefined;
  /** When its last stream ended (ms): the next one starts a little before, so no request between is missed. */
  endedAt: number | undefined;
  retryAt: number;
  failed: boolean;
}

/** Follows the routers' requests of this home; `tick` it once a second, `stop` it on exit. */
export function followRouterRequests(base: CoreContext): RouterRequests {
  const startedAt = base.clock.now();
  const follows = new Map<string, Follow>();
  /** The last request seen per environment: when (ms) and for which name. */
  const lastRequest = new Map<string, { at: number; host: string }>();
  const lastTouch = new Map<string, number>();
  /** The pause (its paused_at) each environment was last woken from: the state in hand may still show it. */
  const woken = new Map<string, string>();
  const waking = new Map<string, Promise<void>>();
  let envs: EnvironmentState[] = [];
  let log: (line: string) => void = base.log;
  let stopped = false;
  const rechecks = new Map<string, NodeJS.Timeout>();

  /** Whether `env` (as the state in hand has it) shows a pause already ended: it runs now, or is paused anew. */
  const alreadyWoken = (env: EnvironmentState): boolean => isIdlePaused(env) && woken.get(env.name) === (env.paused_at ?? '');

  const wake = (env: EnvironmentState, host: string): void => {
    const name = env.name;
    if (waking.has(name) || alreadyWoken(env)) return;
    const p = wakeEnvironment({ ...base, log }, name, `a request through the router for ${host}`)
      // Woken, or not idle-paused any more (woken by another, or by a DNS query): that pause is over either way.
      .then(() => void woken.set(name, env.paused_at ?? ''))
      .catch((e: unknown) => log(`router: could not wake ${name} for a request to ${host}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => waking.delete(name));
    waking.set(name, p);
  };

  /** Reads the state again shortly and wakes the environment if it was paused after all. */
  const recheck = (name: string, host: string, at: number): void => {
    if (rechecks.has(name) || stopped) return;
    const timer = setTimeout(() => {
      rechecks.delete(name);
      try {
        const fresh = readState(base.paths).environments[name];
        if (fresh && requestWakes(fresh, at)) wake(fresh, host);
      } catch (e) {
        log(`router: could not read the state for a request to ${host}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, RECHECK_MS);
    rechecks.set(name, timer);
  };

  const onLine = (line: string): void => {
    const r = parseRouterRequestLine(line);
    if (!r) return;
    const env = environmentOfHost(r.host, envs);
    if (!env) return;
    const now = base.clock.now();
    // Caddy's clock, never later than ours (a line read again after a new attach keeps its time).
    const at = Math.min(r.at, now);
    const quietSince = Math.max(lastRequest.get(env.name)?.at ?? 0, Date.parse(env.updated_at) || 0);
    if (at >= (lastRequest.get(env.name)?.at ?? 0)) lastRequest.set(env.name, { at, host: r.host });
    const limit = (env.idle_pause_seconds ?? 0) * 1000;
    const running = env.status === 'running' || alreadyWoken(env);
    if (running && limit > 0 && now - quietSince >= limit - REQUEST_TOUCH_MS) recheck(env.name, r.host, at);
    if (now - (lastTouch.get(env.name) ?? -Infinity) >= REQUEST_TOUCH_MS) {
      lastTouch.set(env.name, now);
      base.activity.touch(env.name);
    }
    if (requestWakes(env, at)) wake(env, r.host);
  };

  const follow = (site: OnSite): void => {
    const key = siteKey(site);
    let f = follows.get(key);
    if (!f) follows.set(key, (f = { running: undefined, abort: undefined, endedAt: undefined, retryAt: 0, failed: false }));
    const now = base.clock.now();
    if (f.running || now < f.retryAt) return;
    const abort = new AbortController();
    const it = f;
    it.abort = abort;
    it.running = (async () => {
      const ctx = await atSite(base, site);
      const info = await ctx.site.docker.inspectContainer(routerContainerName(homeId(base.paths)));
      if (!info?.State.Running || abort.signal.aborted) return;
      if (it.failed) log(`router: following the requests of the router on ${key || 'this machine'} again`);
      it.failed = false;
      const since = Math.max(0, ((it.endedAt ?? startedAt) - 1000) / 1000);
      await ctx.site.docker.streamLogs(info.Id, { follow: true, since }, onLine, abort.signal);
      it.endedAt = base.clock.now();
    })()
      .catch((e: unknown) => {
        it.endedAt = base.clock.now();
        it.retryAt = base.clock.now() + RETRY_MS;
        if (!it.failed) log(`router: cannot follow the requests of the router on ${key || 'this machine'} (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); trying again every ${RETRY_MS / 1000} s`);
        it.failed = true;
      })
      .finally(() => {
        it.running = undefined;
        it.abort = undefined;
      });
  };

  return {
    tick(state, tickLog) {
      if (stopped) return;
      log = tickLog;
      envs = Object.values(state.environments);
      const routed = envs.filter(isRouted);
      for (const site of sitesOf(routed)) if (routesThrough(state, site)) follow(site);
      // A request seen when the state in hand did not say paused yet (it came as the pause was made).
      for (const env of routed) {
        const last = lastRequest.get(env.name);
        if (last !== undefined && isIdlePaused(env) && requestWakes(env, last.at)) wake(env, last.host);
      }
    },
    async stop() {
      stopped = true;
      for (const timer of rechecks.values()) clearTimeout(timer);
      for (const f of follows.values()) f.abort?.abort();
      await Promise.all([...follows.values()].map((f) => f.running));
      await Promise.all(waking.values());
    },
  };
}
