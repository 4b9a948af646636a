/**
 * Pure rules of shared services: which services are shared, the project-level definition a
 * shared container is made from and its compose model, its hash, what differs between two
 * definitions, the grace.
 */
import { createHash } from 'node:crypto';
import { CiloError } from '../errors.js';
import type { ComposeModel, ComposeService } from './compose-model.js';
import { ENV_NETWORK_KEY, isExternal, labelVolumes, linkTarget, replicaCount } from './env-model.js';
import { hostPortsLabel, publishedPorts } from './host-ports.js';
import { sharedComposeProject, sharedContainerName, sharedLabels } from './names.js';

const SHARE_LABEL = 'cilo.share';
const GRACE_LABEL = 'cilo.share.grace';
export const HASH_LABEL = 'cilo.config-hash';
/** The loopback ports a shared container publishes (hostPortsLabel): apart from the hash, which every environment computes alike. */
export const HOST_PORTS_LABEL = 'cilo.host-ports';
const DEFAULT_GRACE_SECONDS = 60;

/** Splits repeatable, comma- or space-separated flag values. */
export function splitList(values: string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== ''))];
}

/** Shared when labelled `cilo.share: "true"` or named in --shared, unless named in --isolate. */
export function sharedServices(model: ComposeModel, shared: string[], isolate: string[]): string[] {
  const names = Object.keys(model.services);
  for (const [flag, list] of [['--shared', shared], ['--isolate', isolate]] as const) {
    const unknown = list.filter((s) => !names.includes(s));
    if (unknown.length > 0) {
      throw new CiloError('SERVICE_NOT_FOUND', `${flag} names ${unknown.map((u) => `"${u}"`).join(', ')}, which the project does not define.`, {
        hint: `Services: ${names.sort().join(', ')}.`,
        exitCode: 2,
      });
    }
  }
  return names.filter((n) => (model.services[n]?.labels?.[SHARE_LABEL] === 'true' || shared.includes(n)) && !isolate.includes(n)).sort();
}

function refuse(service: string, why: string, env: string): CiloError {
  return new CiloError('SHARED_UNSUPPORTED', `Shared service "${service}" ${why}`, {
    hint: `Give each environment its own with \`cilo up ${env} --isolate ${service}\`, or change the service.`,
  });
}

/** `configs:`/`secrets:` of a service as compose prints them (objects with `source`), or strings. */
function refs(list: unknown): string[] {
  return ((list as (string | { source?: string })[] | undefined) ?? []).map((r) => (typeof r === 'string' ? r : (r.source ?? ''))).filter((r) => r !== '');
}

/**
 * Refuses, with one sentence, a shared service that cannot be one container made once for
 * every environment: several (or no) replicas, volumes taken from another service, configs or
 * secrets read from a variable of the environment's compose run.
 */
export function assertShareable(model: ComposeModel, shared: string[], env: string): void {
  for (const service of shared) {
    const svc = model.services[service] as ComposeService;
    const n = replicaCount(svc);
    if (n !== 1) throw refuse(service, `is set to run ${n} replicas; a shared service is exactly one container.`, env);
    const from = ((svc.volumes_from as string[] | undefined) ?? []).find((v) => !v.startsWith('container:'));
    if (from) throw refuse(service, `takes volumes from service "${from.split(':')[0]}" (volumes_from), which a shared container cannot reach.`, env);
    for (const kind of ['configs', 'secrets'] as const) {
      for (const key of refs(svc[kind])) {
        const variable = (model[kind] as Record<string, { environment?: string }> | undefined)?.[key]?.environment;
        if (variable) throw refuse(service, `reads its ${kind.slice(0, -1)} "${key}" from the variable ${variable} of each environment's compose run, which a shared container does not have.`, env);
      }
    }
  }
}

/** Aliases under which the environment's services link to a shared service (`links: ["db:database"]`). */
export function linkAliases(model: ComposeModel, service: string, shared: string[]): string[] {
  const out = new Set<string>();
  for (const [name, svc] of Object.entries(model.services)) {
    if (shared.includes(name)) continue;
    for (const link of (svc.links as string[] | undefined) ?? []) {
      const alias = link.split(':')[1];
      if (linkTarget(link) === service && alias && alias !== service) out.add(alias);
    }
  }
  return [...out].sort();
}

/**
 * Aliases the service declares itself (`networks: { default: { aliases: [database] } }`) on
 * the project's own networks, which cilo maps to the environment's network (as it does for an
 * isolated service); aliases on external networks stay there.
 */
export function declaredAliases(model: ComposeModel, service: string): string[] {
  const out = new Set<string>();
  for (const [net, cfg] of Object.entries(model.services[service]?.networks ?? {})) {
    if (isExternal(model.networks?.[net])) continue;
    for (const a of cfg?.aliases ?? []) if (a !== service) out.add(a);
  }
  return [...out].sort();
}

/** Orders shared services so that a shared service starts after the shared ones it depends on. */
export function startOrder(model: ComposeModel, shared: string[]): string[] {
  const out: string[] = [];
  const visit = (s: string, path: string[]): void => {
    if (out.includes(s) || path.includes(s)) return;
    for (const dep of Object.keys(model.services[s]?.depends_on ?? {}).sort()) if (shared.includes(dep)) visit(dep, [...path, s]);
    out.push(s);
  };
  for (const s of shared) visit(s, []);
  return out;
}

function rebase(path: string, from: string, to: string): string {
  return path === from || path.startsWith(`${from}/`) ? `${to}${path.slice(from.length)}` : path;
}

export interface SharedDefinitionInput {
  model: ComposeModel;
  service: string;
  /** The compose project name the model was resolved with (`cilo-<project>-<env>`). */
  resolvedAs: string;
  /** Shared compose project, owner of the shared service's named volumes. */
  sharedProject: string;
  workspace: string;
  source: string;
}

export interface SharedDefinition {
  service: ComposeService;
  volumes: Record<string, Record<string, unknown>>;
  /** Top-level `configs:` and `secrets:` the service uses (absent when it uses none). */
  configs?: Record<string, Record<string, unknown>>;
  secrets?: Record<string, Record<string, unknown>>;
}

/**
 * The top-level entries (`configs`, `secrets`) a shared service uses, as the project's: default
 * names belong to the shared project, files point into the project's own directory.
 */
function projectEntries(input: SharedDefinitionInput, kind: 'configs' | 'secrets', keys: string[]): Record<string, Record<string, unknown>> | undefined {
  if (keys.length === 0) return undefined;
  const top = (input.model[kind] as Record<string, Record<string, unknown>> | undefined) ?? {};
  return Object.fromEntries(
    keys.map((key) => {
      const e = { ...(top[key] ?? {}) };
      if (e.name === `${input.resolvedAs}_${key}`) e.name = `${input.sharedProject}_${key}`;
      if (typeof e.file === 'string') e.file = rebase(e.file, input.workspace, input.source);
      return [key, e];
    }),
  );
}

/**
 * The project-level definition of a shared service: the resolved service without ports,
 * networks, fixed name or dependencies; paths in the environment's workspace point to the
 * project's own directory and default volume names belong to the project, so every
 * environment of the project computes the same definition.
 */
export function sharedDefinition(input: SharedDefinitionInput): SharedDefinition {
  const original = input.model.services[input.service];
  if (!original) throw new Error(`no service ${input.service}`);
  const svc: ComposeService = JSON.parse(JSON.stringify(original)) as ComposeService;
  for (const k of ['ports', 'networks', 'network_mode', 'container_name', 'depends_on', 'links']) delete svc[k];
  if (svc.labels) {
    delete svc.labels[SHARE_LABEL];
    if (Object.keys(svc.labels).length === 0) delete svc.labels;
  }
  const volumes: Record<string, Record<string, unknown>> = {};
  const mounts = (svc.volumes as { type?: string; source?: string }[] | undefined) ?? [];
  for (const m of mounts) {
    if (m.type === 'bind' && m.source) m.source = rebase(m.source, input.workspace, input.source);
    if (m.type === 'volume' && m.source) {
      const top = { ...(input.model.volumes?.[m.source] ?? {}) };
      if (top.name === `${input.resolvedAs}_${m.source}`) top.name = `${input.sharedProject}_${m.source}`;
      volumes[m.source] = top;
    }
  }
  const build = svc.build as { context?: string } | undefined;
  if (build?.context) build.context = rebase(build.context, input.workspace, input.source);
  const def: SharedDefinition = { service: svc, volumes };
  // Only when used, so the hash of a definition without them is what it always was.
  const configs = projectEntries(input, 'configs', refs(svc.configs));
  const secrets = projectEntries(input, 'secrets', refs(svc.secrets));
  if (configs) def.configs = configs;
  if (secrets) def.secrets = secrets;
  return def;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function definitionHash(def: SharedDefinition): string {
  return createHash('sha256').update(JSON.stringify(canonical(def))).digest('hex').slice(0, 16);
}

/**
 * Names what differs between two definitions, by key only: environment values may be secrets
 * and are never shown.
 */
export function diffDefinitions(a: SharedDefinition | undefined, b: SharedDefinition): string[] {
  if (!a) return ['(the stored definition is unknown)'];
  const out: string[] = [];
  const sa = a.service as Record<string, unknown>;
  const sb = b.service as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(sa), ...Object.keys(sb)])].sort()) {
    if (JSON.stringify(canonical(sa[key])) === JSON.stringify(canonical(sb[key]))) continue;
    const va = sa[key];
    const vb = sb[key];
    if (key === 'environment' && va && vb && typeof va === 'object' && typeof vb === 'object') {
      const ea = va as Record<string, unknown>;
      const eb = vb as Record<string, unknown>;
      for (const k of [...new Set([...Object.keys(ea), ...Object.keys(eb)])].sort()) if (ea[k] !== eb[k]) out.push(`environment.${k}`);
    } else out.push(key);
  }
  for (const key of ['volumes', 'configs', 'secrets'] as const) {
    if (JSON.stringify(canonical(a[key])) !== JSON.stringify(canonical(b[key]))) out.push(`${key} (top-level)`);
  }
  return out;
}

/** Grace in seconds from `60`, `"90s"`, `"2m"`, `"1h"`; `undefined` when unset. */
export function parseGrace(raw: string | number | undefined, where: string): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return raw;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(String(raw));
  if (!m) {
    throw new CiloError('CONFIG_INVALID', `${where} must be a duration such as 60, "90s" or "2m", got "${raw}".`, { hint: 'Fix the value and retry.' });
  }
  const mult = m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return Number(m[1]) * mult;
}

export function graceSeconds(model: ComposeModel, service: string, configured: string | number | undefined): number {
  return (
    parseGrace(model.services[service]?.labels?.[GRACE_LABEL], `The label ${GRACE_LABEL} of service "${service}"`) ??
    parseGrace(configured, 'shared_grace_period in .cilo/config.yml') ??
    DEFAULT_GRACE_SECONDS
  );
}

export interface SharedModelInput {
  project: string;
  service: string;
  def: SharedDefinition;
  hash: string;
  /** The first user environment's network, the only one the container is created on. */
  network: string;
  ip: string;
  aliases: string[];
  homeId: string;
  /** Its ports published on 127.0.0.1 (container port -> loopback port), chosen per shared service. */
  hostPorts?: Record<string, number> | undefined;
}

/**
 * The compose model of one shared service: its project-level definition, its fixed container
 * name, cilo's labels (with the definition hash) on it and its volumes, created on the first
 * user's network only (never on Docker's default bridge).
 */
export function renderSharedModel(input: SharedModelInput): ComposeModel {
  const labels = sharedLabels(input.project, input.service, input.homeId);
  const volumes = labelVolumes(input.def.volumes, labels);
  const model: ComposeModel = {
    name: sharedComposeProject(input.project),
    services: {
      [input.service]: {
        ...input.def.service,
        container_name: sharedContainerName(input.project, input.service),
        labels: { ...(input.def.service.labels ?? {}), ...labels, [HASH_LABEL]: input.hash, [HOST_PORTS_LABEL]: hostPortsLabel(input.hostPorts ?? {}) },
        networks: { [ENV_NETWORK_KEY]: { ipv4_address: input.ip, aliases: input.aliases } },
        ...(input.hostPorts && Object.keys(input.hostPorts).length > 0 ? { ports: publishedPorts(input.hostPorts) } : {}),
      },
    },
    networks: { [ENV_NETWORK_KEY]: { name: input.network, external: true } },
  };
  if (Object.keys(volumes).length > 0) model.volumes = volumes;
  if (input.def.configs) model.configs = input.def.configs;
  if (input.def.secrets) model.secrets = input.def.secrets;
  return model;
}
