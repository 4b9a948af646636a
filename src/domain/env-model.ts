/**
 * Pure rules that turn a project's resolved compose model into an environment's model:
 * no published ports but cilo's loopback ones, every service on the environment network with a fixed IP and DNS
 * aliases, shared services taken out, cilo labels on everything. No I/O here.
 */
import type { ComposeModel, ComposeService } from './compose-model.js';
import { publishedPorts } from './host-ports.js';
import { composeProjectName, envLabels, LABELS } from './names.js';

export const ENV_NETWORK_KEY = 'cilo_env';

export interface RenderInput {
  model: ComposeModel;
  project: string;
  env: string;
  suffix: string;
  networkName: string;
  ips: Record<string, string>;
  shared: string[];
  ingress: string | null;
  hostnames: string[];
  /** `cilo.hostnames` of services other than the ingress, served for that service. */
  serviceHostnames?: Record<string, string[]> | undefined;
  /** Id of the CILO_HOME, labelled on everything (see LABELS.home). */
  homeId: string;
  /** Each service's non-HTTP ports to publish on 127.0.0.1 (container port -> loopback port, issue #25). */
  hostPorts?: Record<string, Record<string, number>> | undefined;
}

/** Network modes that take a service off bridge networking; cilo leaves those services alone. */
function keepsOwnNetworkMode(svc: ComposeService): boolean {
  const mode = svc.network_mode;
  return mode !== undefined && mode !== 'bridge' && mode !== 'default';
}

/** How many containers compose runs for a service: `deploy.replicas`, else `scale`, else one. */
export function replicaCount(svc: ComposeService): number {
  const replicas = (svc.deploy as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas === 'number') return replicas;
  return typeof svc.scale === 'number' ? svc.scale : 1;
}

function onEnvNetwork(model: ComposeModel, shared: string[], service: string): boolean {
  const svc = model.services[service] as ComposeService;
  return !shared.includes(service) && !keepsOwnNetworkMode(svc) && replicaCount(svc) > 0;
}

/**
 * Services that get a fixed IP on the environment network: one container each. A service
 * scaled to zero runs nothing, so it gets no address and no name.
 */
export function networkedServices(model: ComposeModel, shared: string[]): string[] {
  return Object.keys(model.services)
    .filter((s) => onEnvNetwork(model, shared, s) && replicaCount(model.services[s] as ComposeService) === 1)
    .sort();
}

/**
 * Services with several replicas. Compose gives every replica of a service the same
 * `ipv4_address` (the second one then fails with "Address already in use"), so the engine
 * assigns their addresses from the network's dynamic range and cilo records what it assigned.
 */
export function replicatedServices(model: ComposeModel, shared: string[]): string[] {
  return Object.keys(model.services)
    .filter((s) => onEnvNetwork(model, shared, s) && replicaCount(model.services[s] as ComposeService) > 1)
    .sort();
}

export function isExternal(net: Record<string, unknown> | undefined): boolean {
  return net !== undefined && (net.external === true || (typeof net.external === 'object' && net.external !== null));
}

/** Top-level volumes with cilo's labels added, except external ones (cilo does not create those). */
export function labelVolumes(volumes: ComposeModel['volumes'], labels: Record<string, string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, vol] of Object.entries(volumes ?? {})) {
    const v = vol ?? {};
    out[name] = isExternal(v) ? v : { ...v, labels: { ...((v.labels as Record<string, string> | undefined) ?? {}), ...labels } };
  }
  return out;
}

/**
 * Volumes the environment's own services mount (volumes only a shared service uses belong to
 * that service), with a fixed `name:` made the environment's own: two copies of the project
 * must never write into one volume, nor block each other's `destroy`. External volumes are
 * the user's, left as they are.
 */
export function environmentVolumes(model: ComposeModel, services: Record<string, ComposeService>, composeProject: string): Record<string, Record<string, unknown>> {
  const used = new Set(
    Object.values(services).flatMap((svc) => ((svc.volumes as { type?: string; source?: string }[] | undefined) ?? []).filter((m) => m.type === 'volume' && m.source).map((m) => m.source as string)),
  );
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, vol] of Object.entries(model.volumes ?? {})) {
    if (!used.has(key)) continue;
    const v = { ...(vol ?? {}) };
    if (!isExternal(v) && typeof v.name === 'string' && v.name !== `${composeProject}_${key}`) v.name = `${composeProject}_${v.name}`;
    out[key] = v;
  }
  return out;
}

export function serviceAliases(service: string, input: Pick<RenderInput, 'env' | 'suffix' | 'project' | 'ingress' | 'hostnames' | 'serviceHostnames'>): string[] {
  const fq = (n: string): string => `${n}.${input.env}${input.suffix}`;
  const aliases = [service, fq(service)];
  if (service === input.ingress) {
    aliases.push(fq(input.project));
    for (const h of input.hostnames) aliases.push(fq(h));
  }
  for (const h of input.serviceHostnames?.[service] ?? []) aliases.push(fq(h));
  return aliases;
}

export function renderEnvironmentModel(input: RenderInput): ComposeModel {
  const { model } = input;
  const labels = envLabels(input.project, input.env, input.homeId);
  const userNetworks = model.networks ?? {};
  const externalNetworks = Object.fromEntries(Object.entries(userNetworks).filter(([, n]) => isExternal(n)));

  const composeProject = composeProjectName(input.project, input.env);
  // The environment's own services. Shared ones are served by their shared container, which is
  // ready (and reachable by the service's name) before this model starts.
  const own = new Set(Object.keys(model.services).filter((s) => !input.shared.includes(s)));

  const services: Record<string, ComposeService> = {};
  for (const [name, original] of Object.entries(model.services)) {
    if (!own.has(name)) continue;
    const svc: ComposeService = { ...original };
    // The user's published host ports are what makes two copies of a project collide: only the
    // loopback ports cilo chose for this environment are published (host-ports.ts).
    delete svc.ports;
    const hostPorts = input.hostPorts?.[name];
    if (hostPorts && Object.keys(hostPorts).length > 0) svc.ports = publishedPorts(hostPorts);
    // A fixed container name would collide between environments; compose names them per project.
    delete svc.container_name;
    // The resolved model holds exactly the active services (profiles from --profile and from the
    // project's .env applied); the generated file is run without them, so every service in it runs.
    delete svc.profiles;
    svc.labels = { ...(original.labels ?? {}), ...labels, [LABELS.service]: name };
    // Dependencies on shared services, and optional ones (`required: false`) on services that are
    // not active, name services this model does not define.
    const deps = Object.entries(original.depends_on ?? {}).filter(([dep]) => own.has(dep));
    if (deps.length > 0) svc.depends_on = Object.fromEntries(deps);
    else delete svc.depends_on;
    const links = ((original.links as string[] | undefined) ?? []).filter((l) => own.has(linkTarget(l)));
    if (links.length > 0) svc.links = links;
    else delete svc.links;
    if (keepsOwnNetworkMode(original)) {
      services[name] = svc;
      continue;
    }
    delete svc.network_mode;
    const extraAliases = new Set<string>();
    const nets: NonNullable<ComposeService['networks']> = {};
    for (const [net, cfg] of Object.entries(original.networks ?? {})) {
      for (const a of cfg?.aliases ?? []) extraAliases.add(a);
      if (net in externalNetworks) nets[net] = cfg?.aliases ? { aliases: cfg.aliases } : null;
    }
    // Replicas get their addresses from the engine: one fixed address cannot serve two containers.
    const ip = replicaCount(original) > 1 ? undefined : input.ips[name];
    nets[ENV_NETWORK_KEY] = {
      ...(ip ? { ipv4_address: ip } : {}),
      aliases: [...new Set([...serviceAliases(name, input), ...extraAliases])],
    };
    svc.networks = nets;
    services[name] = svc;
  }

  const volumes = labelVolumes(environmentVolumes(model, services, composeProject), labels);

  const out: ComposeModel = {
    ...model,
    name: composeProject,
    services,
    networks: { ...externalNetworks, [ENV_NETWORK_KEY]: { name: input.networkName, external: true } },
  };
  if (Object.keys(volumes).length > 0) out.volumes = volumes;
  else delete out.volumes;
  return out;
}

/** The service a `links` entry (`db` or `db:alias`) points to. */
export function linkTarget(link: string): string {
  return link.split(':')[0] ?? link;
}

/** The port a service's URL should name: its first container port, else its first exposed one. */
export function servicePort(svc: ComposeService): number | undefined {
  const fromPorts = svc.ports?.find((p) => typeof p.target === 'number')?.target;
  if (fromPorts !== undefined) return fromPorts;
  const exp = svc.expose?.[0];
  if (exp === undefined) return undefined;
  const n = parseInt(String(exp), 10);
  return Number.isFinite(n) ? n : undefined;
}

export function serviceUrl(service: string, env: string, suffix: string, port: number | undefined): string {
  const host = `${service}.${env}${suffix}`;
  return port === undefined || port === 80 ? `http://${host}` : `http://${host}:${port}`;
}

const INGRESS_NAMES = ['nginx', 'web', 'app', 'frontend'];

/**
 * The ingress: labelled `cilo.ingress: "true"`, else the configured default, else the first of
 * nginx/web/app/frontend present, else the first service with `cilo.hostnames`. Ties are
 * broken by name, so the choice never depends on map order.
 */
export function chooseIngress(model: ComposeModel, configured: string | undefined): string | null {
  const names = Object.keys(model.services).sort();
  const label = (s: string, k: string): string | undefined => model.services[s]?.labels?.[k];
  const labelled = names.find((s) => label(s, 'cilo.ingress') === 'true');
  if (labelled) return labelled;
  if (configured && names.includes(configured)) return configured;
  const known = INGRESS_NAMES.find((n) => names.includes(n));
  if (known) return known;
  return names.find((s) => label(s, 'cilo.hostnames') !== undefined) ?? null;
}

/**
 * `cilo.hostnames` of every service but the ingress (whose names are the environment's, see
 * labelHostnames): as in the original cilo, such a service answers those names itself.
 */
export function serviceLabelHostnames(model: ComposeModel, ingress: string | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const service of Object.keys(model.services).sort()) {
    const names = service === ingress ? [] : labelHostnames(model, service);
    if (names.length > 0) out[service] = names;
  }
  return out;
}

/** Hostnames of a service (the ingress, usually) from its `cilo.hostnames` label (comma or space separated). */
export function labelHostnames(model: ComposeModel, ingress: string | null): string[] {
  if (!ingress) return [];
  const raw = model.services[ingress]?.labels?.['cilo.hostnames'] ?? '';
  return raw
    .split(/[\s,]+/)
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}
