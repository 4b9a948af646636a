/**
 * Which site a record runs on, and the one rule for a host that does not answer: reaching it
 * (connect and ping) and asking it must each finish within a deadline; a host that cannot be
 * reached (HOST_UNREACHABLE, DOCKER_UNREACHABLE, HOST_NOT_FOUND, HOST_KEY_UNKNOWN, SSH_MISSING)
 * or is silent past the deadline is an answer naming the problem, and its connection is dropped
 * so the next command starts afresh. Any other failure is an error, never swallowed. This machine's engine is asked without a
 * deadline (its client has its own), and its failures are errors unless the caller tolerates them.
 */
import { sitesOf, siteKey, siteLabel, type OnSite } from '../../domain/sites.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { localSite, siteSilent } from './local.js';
import { remoteRefusal } from './refusals.js';
import type { Site, SiteContext, SiteRefusal } from './site.js';

/** How long a host may take to connect and answer, and to answer a question asked with the default. */
const SITE_ANSWER_MS = 5000;

const SILENCE = new Set(['HOST_UNREACHABLE', 'DOCKER_UNREACHABLE', 'HOST_NOT_FOUND', 'HOST_KEY_UNKNOWN', 'SSH_MISSING']);

/** A failure that means "that engine does not answer" rather than a refusal or a bug. */
function isSilence(e: unknown): e is CiloError {
  return e instanceof CiloError && SILENCE.has(e.code);
}

/** The site of a record: this machine's, or its host's (connected; an unreachable host fails within seconds). */
export async function siteOf(ctx: CoreContext, at: OnSite): Promise<Site> {
  if (!at.host) return localSite(ctx);
  // The remote hosts' code is loaded only when a record runs on one (`cilo list` of local ones never does).
  const [{ remoteSite }, { hostNotFound }] = await Promise.all([import('./remote.js'), import('../../domain/hosts.js')]);
  const host = readState(ctx.paths).hosts?.[at.host];
  if (!host) throw hostNotFound(at.host);
  return remoteSite(ctx, host);
}

/** The context of work on a record's site. */
export async function atSite(ctx: CoreContext, at: OnSite): Promise<SiteContext> {
  return { ...ctx, site: await siteOf(ctx, at) };
}

/** This machine's site (`cilo network`, the local DNS and doctor checks), said where it is meant. */
export function atLocalSite(ctx: CoreContext): SiteContext {
  return { ...ctx, site: localSite(ctx) };
}

export type SiteAnswer<T> = { ok: true; site: Site; value: T } | { ok: false; at: OnSite; label: string; problem: string; error: CiloError };

export interface AskOptions {
  /** Deadline for the question once the site is reached (default SITE_ANSWER_MS; Infinity for work that takes its time). */
  askMs?: number;
  /** This machine's engine not answering is an answer too, not an error (views that can show state alone). */
  tolerateLocal?: boolean;
  /** Deadline for reaching a host (connect and ping); default SITE_ANSWER_MS. */
  reachMs?: number;
}

/** Asks one site, under the rule above. */
export async function askSite<T>(ctx: CoreContext, at: OnSite, ask: (site: Site) => Promise<T>, opts: AskOptions = {}): Promise<SiteAnswer<T>> {
  const label = siteLabel(at);
  let site: Site | undefined;
  try {
    if (!at.host) {
      site = localSite(ctx);
      return { ok: true, site, value: await ask(site) };
    }
    const reached = await within(opts.reachMs ?? SITE_ANSWER_MS, label, async () => {
      const s = await siteOf(ctx, at);
      site = s;
      await s.docker.ping();
      return s;
    });
    return { ok: true, site: reached, value: await within(opts.askMs ?? SITE_ANSWER_MS, label, () => ask(reached)) };
  } catch (e) {
    if (!isSilence(e) || (!at.host && !opts.tolerateLocal)) throw e;
    await site?.forget();
    if (!site && at.host) await dropConnection(ctx, at.host);
    return { ok: false, at, label, problem: e.message, error: e };
  }
}

/** Asks each distinct site of the records at once; answers by `siteKey`. */
export async function askEachSite<T>(ctx: CoreContext, records: Iterable<OnSite>, ask: (site: Site) => Promise<T>, opts: AskOptions = {}): Promise<Map<string, SiteAnswer<T>>> {
  const sites = sitesOf(records);
  const answers = await Promise.all(sites.map((at) => askSite(ctx, at, ask, opts)));
  return new Map(sites.map((at, i) => [siteKey(at), answers[i] as SiteAnswer<T>]));
}

/** The remote hosts of the state as sites to ask (this machine not included). */
export function hostSites(ctx: CoreContext): OnSite[] {
  return Object.keys(readState(ctx.paths).hosts ?? {}).sort().map((host) => ({ host }));
}

async function dropConnection(ctx: CoreContext, name: string): Promise<void> {
  const host = readState(ctx.paths).hosts?.[name];
  if (host) await ctx.remote.disconnect(host).catch(() => undefined);
}

function within<T>(ms: number, label: string, step: () => Promise<T>): Promise<T> {
  if (!Number.isFinite(ms)) return step();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(siteSilent(label, ms)), ms);
  });
  return Promise.race([step(), late]).finally(() => clearTimeout(timer));
}

/** Refuses what the record's site cannot do (Site.refuse), before any connection is made. */
export function refuseOn(at: OnSite, what: SiteRefusal): void {
  if (at.host) throw remoteRefusal(at.host, what);
}
