/**
 * Pure rules that turn a project's resolved compose model into an environment's model:
 * no published ports, every service on the environment network with a fixed IP and DNS
 * aliases, shared services taken out, cilo labels on everything. No I/O here.
 */
import type { ComposeModel, ComposeService } from './compose-model.js';
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
}

/** Network modes that take a service off bridge networking; cilo leaves those services alone. */
export function keepsOwnNetworkMode(svc: ComposeService): boolean {
  const mode = svc.network_mode;
  return mode !== undefined && mode !== 'bridge' && mode !== 'default';
}

/** Services that get an IP on the environment network. */
export function networkedServices(model: ComposeModel, shared: string[]): string[] {
  return Object.keys(model.services)
    .filter((s) => !shared.includes(s) && !keepsOwnNetworkMode(model.services[s] as ComposeService))
    .sort();
}

function isExternal(net: Record<string, unknown> | undefined): boolean {
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

  const services: Record<string, ComposeService> = {};
  for (const [name, original] of Object.entries(model.services)) {
    if (input.shared.includes(name)) continue;
    const svc: ComposeService = { ...original };
    // Published host ports are what makes two copies of a project collide.
    delete svc.ports;
    // A fixed container name would collide between environments; compose names them per project.
    delete svc.container_name;
    svc.labels = { ...(original.labels ?? {}), ...labels, [LABELS.service]: name };
    if (original.depends_on) {
      const deps = Object.fromEntries(Object.entries(original.depends_on).filter(([dep]) => !input.shared.includes(dep)));
      if (Object.keys(deps).length > 0) svc.depends_on = deps;
      else delete svc.depends_on;
    }
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
    const ip = input.ips[name];
    nets[ENV_NETWORK_KEY] = {
      ...(ip ? { ipv4_address: ip } : {}),
      aliases: [...new Set([...serviceAliases(name, input), ...extraAliases])],
    };
    svc.networks = nets;
    services[name] = svc;
  }

  const volumes = labelVolumes(model.volumes, labels);

  const out: ComposeModel = {
    ...model,
    name: composeProjectName(input.project, input.env),
    services,
    networks: { ...externalNetworks, [ENV_NETWORK_KEY]: { name: input.networkName, external: true } },
  };
  if (Object.keys(volumes).length > 0) out.volumes = volumes;
  else delete out.volumes;
  return out;
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
