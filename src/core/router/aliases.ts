/**
 * The network aliases of the routed environments' containers, which the router's plan needs (a
 * custom hostname is served by name once its container has it as an alias; one removed live is
 * answered 404). The Engine's container list does not carry aliases, so each container had to be
 * inspected at every sync: with 64 environments, an `up` inspected some 130 containers. An alias
 * never changes within one network endpoint (a container reconnected, or made again, has a new
 * endpoint ID, which the list does carry), so what was read is kept per endpoint in
 * `$CILO_HOME/router/aliases-<site>.json` and only new endpoints are inspected.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_PROJECT, composeProjectName, LABELS, networkName } from '../../domain/names.js';
import { siteKey } from '../../domain/sites.js';
import type { EnvironmentState } from '../../domain/state.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { homeId } from '../../state/paths.js';
import type { SiteContext } from '../sites/site.js';

/** Aliases (lower case) by `<container id>/<endpoint id>`. */
type AliasCache = Record<string, string[]>;

function cacheFile(ctx: SiteContext): string {
  const key = siteKey({ host: ctx.site.host });
  return join(ctx.paths.home, 'router', key === '' ? 'aliases-local.json' : `aliases-host-${key.replace(/[^a-zA-Z0-9_.-]/g, '_')}.json`);
}

function readCache(file: string): AliasCache {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const out: AliasCache = {};
    for (const [key, value] of Object.entries(parsed)) {
      if (Array.isArray(value) && value.every((a) => typeof a === 'string')) out[key] = value as string[];
    }
    return out;
  } catch {
    return {}; // none yet, or unreadable: everything is inspected once more
  }
}

/** Every alias the routed environments' containers have on their own networks now. */
export async function routedAliases(ctx: SiteContext, envs: readonly EnvironmentState[]): Promise<Set<string>> {
  const networkOf = new Map(envs.map((e) => [composeProjectName(e.project, e.name), networkName(e.project, e.name)]));
  // One list for all of them (it was one per environment).
  const found = await ctx.site.docker.listContainers({ label: [`${LABELS.home}=${homeId(ctx.paths)}`] }, false);
  const file = cacheFile(ctx);
  const before = readCache(file);
  const kept: AliasCache = {};
  const aliases = new Set<string>();
  await Promise.all(
    found.map(async (c) => {
      const net = networkOf.get(c.Labels[COMPOSE_PROJECT] ?? '');
      if (net === undefined) return;
      const endpoint = c.NetworkSettings?.Networks?.[net]?.EndpointID;
      const key = endpoint ? `${c.Id}/${endpoint}` : undefined;
      let list = key !== undefined ? before[key] : undefined;
      if (list === undefined) {
        const info = await ctx.site.docker.inspectContainer(c.Id);
        list = (info?.NetworkSettings.Networks[net]?.Aliases ?? []).map((a) => a.toLowerCase());
      }
      if (key !== undefined) kept[key] = list;
      for (const a of list) aliases.add(a);
    }),
  );
  if (JSON.stringify(kept) !== JSON.stringify(before)) {
    try {
      mkdirSync(join(ctx.paths.home, 'router'), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, JSON.stringify(kept));
    } catch {
      // Only speed depends on it: the next sync inspects again.
    }
  }
  return aliases;
}
