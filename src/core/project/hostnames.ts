/**
 * Custom hostnames of an environment's ingress, kept in state (`custom_hostnames`) and merged
 * into `hostnames`, which the DNS server reads on every change: a name added here resolves at
 * once, and `up` keeps it (it recomputes `hostnames` as config + labels + custom).
 */
import { readFileSync } from 'node:fs';
import { effectiveHostnames, normalizeHostname, parseHostnameList } from '../../domain/hostnames.js';
import { CiloError } from '../../errors.js';
import type { EnvironmentState } from '../../domain/state.js';
import { readState, withStateLock } from '../../state/store.js';
import { isoNow, type CoreContext } from '../context.js';
import { findEnv } from '../environments/lookup.js';
import { isRouted } from '../../domain/router-config.js';
import { routesThrough, syncRouterAt } from '../router/router.js';

export interface HostnameView {
  name: string;
  fqdn: string;
  /** `custom`: added with `cilo hostnames`; `project`: from .cilo/config.yml or the ingress's cilo.hostnames label. */
  source: 'custom' | 'project';
}

export interface HostnamesResult {
  env: string;
  ingress: string | null;
  hostnames: HostnameView[];
  /** What this call changed (add/remove/set). */
  added: string[];
  removed: string[];
}

function view(env: EnvironmentState, added: string[] = [], removed: string[] = []): HostnamesResult {
  const custom = new Set(env.custom_hostnames ?? []);
  return {
    env: env.name,
    ingress: env.ingress,
    hostnames: env.hostnames.map((h) => ({ name: h, fqdn: `${h}.${env.name}${env.dns_suffix}`, source: custom.has(h) ? 'custom' : 'project' })),
    added,
    removed,
  };
}

export function listHostnames(ctx: CoreContext, envName: string, project?: string): HostnamesResult {
  return view(findEnv(readState(ctx.paths), envName, project));
}

function validate(env: EnvironmentState, names: string[]): string[] {
  const out = names.map((n) => normalizeHostname(n, env.name, env.dns_suffix));
  for (const h of out) {
    // The DNS zone answers a service's own name first: such a hostname would never reach the ingress.
    if (h in env.services || h === env.project) {
      throw new CiloError('USAGE', `Hostname "${h}" is already the name of ${h === env.project ? 'the project (the apex name)' : `service "${h}"`} in environment "${env.name}".`, {
        hint: 'Choose another hostname.',
        exitCode: 2,
      });
    }
  }
  return [...new Set(out)];
}

/** The names project config and labels give: the effective list without the custom ones. */
function projectHostnames(env: EnvironmentState): string[] {
  const custom = new Set(env.custom_hostnames ?? []);
  return env.hostnames.filter((h) => !custom.has(h));
}

async function change(ctx: CoreContext, envName: string, project: string | undefined, fn: (env: EnvironmentState) => { added: string[]; removed: string[] }): Promise<HostnamesResult> {
  const r = await withStateLock((state) => {
    const env = findEnv(state, envName, project);
    const fromProject = projectHostnames(env);
    const r = fn(env);
    env.hostnames = effectiveHostnames(fromProject, env.custom_hostnames);
    env.updated_at = isoNow(ctx);
    return { view: view(env, r.added, r.removed), at: { host: env.host }, routed: isRouted(env) && routesThrough(state, env) };
  }, ctx.paths);
  // The router serves the names at once, as the DNS server does.
  if (r.routed) await syncRouterAt(ctx, r.at);
  return r.view;
}

export async function addHostnames(ctx: CoreContext, envName: string, names: string[], project?: string): Promise<HostnamesResult> {
  if (names.length === 0) throw new CiloError('USAGE', 'No hostname given.', { hint: 'Usage: cilo hostnames add <env> <hostname>...', exitCode: 2 });
  return change(ctx, envName, project, (env) => {
    const wanted = validate(env, names);
    const current = env.custom_hostnames ?? [];
    const added = wanted.filter((h) => !current.includes(h) && !env.hostnames.includes(h));
    env.custom_hostnames = [...current, ...wanted.filter((h) => !current.includes(h))];
    return { added, removed: [] };
  });
}

export async function removeHostnames(ctx: CoreContext, envName: string, names: string[], project?: string): Promise<HostnamesResult> {
  if (names.length === 0) throw new CiloError('USAGE', 'No hostname given.', { hint: 'Usage: cilo hostnames remove <env> <hostname>...', exitCode: 2 });
  return change(ctx, envName, project, (env) => {
    const gone = names.map((n) => normalizeHostname(n, env.name, env.dns_suffix));
    const custom = env.custom_hostnames ?? [];
    for (const h of gone) {
      if (custom.includes(h)) continue;
      if (env.hostnames.includes(h)) {
        throw new CiloError('USAGE', `Hostname "${h}" of environment "${env.name}" comes from the project (.cilo/config.yml hostnames or the ingress's cilo.hostnames label), not from \`cilo hostnames\`.`, {
          hint: 'Remove it from the project configuration, then run `cilo up` again.',
          exitCode: 2,
        });
      }
      throw new CiloError('USAGE', `Environment "${env.name}" has no hostname "${h}".`, { hint: `Run \`cilo hostnames list ${env.name}\` to see them.`, exitCode: 2 });
    }
    env.custom_hostnames = custom.filter((h) => !gone.includes(h));
    return { added: [], removed: [...new Set(gone)] };
  });
}

/** Replaces the custom hostnames with the names given and those of `file` (one per line, `#` comments). */
export async function setHostnames(ctx: CoreContext, envName: string, input: { names?: string[] | undefined; file?: string | undefined }, project?: string): Promise<HostnamesResult> {
  let fromFile: string[] = [];
  if (input.file !== undefined) {
    let text: string;
    try {
      text = input.file === '-' ? readFileSync(0, 'utf8') : readFileSync(input.file, 'utf8');
    } catch (e) {
      throw new CiloError('USAGE', `Cannot read the hostnames file ${input.file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message}.`, { hint: 'Give a file with one hostname per line.', exitCode: 2 });
    }
    fromFile = parseHostnameList(text);
  }
  const names = [...(input.names ?? []), ...fromFile];
  if (input.file === undefined && (input.names ?? []).length === 0) {
    throw new CiloError('USAGE', 'No hostnames given: pass --file FILE (one hostname per line) or names.', { hint: 'An empty file clears the custom hostnames.', exitCode: 2 });
  }
  return change(ctx, envName, project, (env) => {
    const wanted = validate(env, names);
    const before = env.custom_hostnames ?? [];
    env.custom_hostnames = wanted;
    return { added: wanted.filter((h) => !before.includes(h)), removed: before.filter((h) => !wanted.includes(h)) };
  });
}
