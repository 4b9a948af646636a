/**
 * Stand-ins for core's ports (src/core/ports.ts), for unit tests of core's rules without an
 * engine: an in-memory Docker engine that keeps containers (labels, state, networks), networks
 * and volumes and records every call that changes them; a compose that makes containers from
 * the model file it is given, as far as cilo's generated models go; a settable clock; remote
 * hosts that answer, fail or stay silent; and `standInContext`, a CoreContext over a fresh
 * temporary CILO_HOME whose state is the real state file, through the real state module.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CoreContext } from '../../src/core/context.js';
import type { Clock, Compose, ComposeUpOptions, ContainerExec, Engine, EnginePorts, HostKey, HostLink, RemoteHosts, VolumeData } from '../../src/core/ports.js';
import type { Site } from '../../src/core/sites/site.js';
import type { ComposeModel, ComposeTarget } from '../../src/domain/compose-model.js';
import type { ContainerInspect, ContainerStats, ContainerSummary, Filters, NetworkInspect, VolumeInfo, VolumeInspect } from '../../src/domain/engine.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE } from '../../src/domain/names.js';
import type { EnvironmentState, HostState } from '../../src/domain/state.js';
import type { UserKnownEntries } from '../../src/domain/hosts.js';
import { CiloError, DockerApiError } from '../../src/errors.js';
import { ciloPaths, workspacePath } from '../../src/state/paths.js';
import { fileActivity } from '../../src/state/activity.js';
import { withStateLock } from '../../src/state/store.js';

/** A wall clock that moves only when told. */
export class StandInClock implements Clock {
  constructor(public ms = Date.parse('2030-01-01T00:00:00.000Z')) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export type BoxState = 'created' | 'running' | 'paused' | 'exited';

/** A container of the stand-in engine. */
export interface Box {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  state: BoxState;
  /** By network name. */
  networks: Map<string, { ip: string; aliases: string[] }>;
}

interface Net {
  id: string;
  name: string;
  labels: Record<string, string>;
  subnet?: string | undefined;
  gateway?: string | undefined;
}

let serial = 0;
const nextId = (kind: string): string => `${kind}${String(++serial).padStart(12, '0')}`;

function matchesLabels(labels: Record<string, string> | null, wanted: string[] | undefined): boolean {
  return (wanted ?? []).every((f) => {
    const i = f.indexOf('=');
    return i < 0 ? (labels ?? {})[f] !== undefined : (labels ?? {})[f.slice(0, i)] === f.slice(i + 1);
  });
}

/**
 * The Engine API in memory. Answers as the real engine does where core reads the answer: null
 * for a missing container, network or volume on inspect, 404 for acting on a missing one, 409
 * for removing a running container without force, a network with endpoints, or a volume in use.
 */
export class StandInEngine implements Engine {
  readonly containers = new Map<string, Box>();
  readonly networks = new Map<string, Net>();
  readonly volumes = new Map<string, VolumeInfo>();
  /** What was done to it, one line each (`stop <name>`, `remove <name>`, `network-rm <name>`...). */
  readonly calls: string[] = [];
  readonly id = nextId('engine');

  /** Puts a container on the engine as compose would have made it. */
  addContainer(c: { name: string; image?: string; labels?: Record<string, string>; state?: BoxState; networks?: Record<string, { ip: string; aliases?: string[] }> }): Box {
    if (this.byName(c.name)) throw new Error(`stand-in: container ${c.name} exists`);
    const box: Box = {
      id: nextId('c'),
      name: c.name,
      image: c.image ?? 'busybox',
      labels: { ...(c.labels ?? {}) },
      state: c.state ?? 'running',
      networks: new Map(Object.entries(c.networks ?? {}).map(([n, v]) => [n, { ip: v.ip, aliases: v.aliases ?? [] }])),
    };
    this.containers.set(box.id, box);
    return box;
  }

  addNetwork(name: string, labels: Record<string, string> = {}, subnet?: string): Net {
    const net: Net = { id: nextId('n'), name, labels, subnet };
    this.networks.set(net.id, net);
    return net;
  }

  addVolume(name: string, labels: Record<string, string> = {}): void {
    this.volumes.set(name, { Name: name, Labels: labels });
  }

  byName(idOrName: string): Box | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((b) => b.name === idOrName || b.name === idOrName.replace(/^\//, ''));
  }

  private mustBox(idOrName: string, method: string): Box {
    const box = this.byName(idOrName);
    if (!box) throw new DockerApiError(method, `/containers/${idOrName}`, 404, `No such container: ${idOrName}`);
    return box;
  }

  private net(nameOrId: string): Net | undefined {
    return this.networks.get(nameOrId) ?? [...this.networks.values()].find((n) => n.name === nameOrId);
  }

  async ping(): Promise<string> {
    return '1.41';
  }

  async info(): Promise<{ ServerVersion: string; ID?: string | undefined; Name?: string | undefined }> {
    return { ServerVersion: 'stand-in', ID: this.id, Name: 'stand-in' };
  }

  private netInspect(n: Net): NetworkInspect {
    const attached = [...this.containers.values()].filter((b) => b.networks.has(n.name));
    return {
      Id: n.id,
      Name: n.name,
      Labels: n.labels,
      IPAM: { Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.gateway }] : [] },
      Containers: Object.fromEntries(attached.map((b) => [b.id, { Name: b.name, IPv4Address: `${b.networks.get(n.name)?.ip ?? ''}/24` }])),
    };
  }

  async listNetworks(filters?: Filters): Promise<NetworkInspect[]> {
    return [...this.networks.values()].filter((n) => matchesLabels(n.labels, filters?.label) && (!filters?.name || filters.name.some((x) => n.name.includes(x)))).map((n) => ({ ...this.netInspect(n), Containers: {} }));
  }

  async inspectNetwork(name: string): Promise<NetworkInspect | null> {
    const n = this.net(name);
    return n ? this.netInspect(n) : null;
  }

  async createNetwork(name: string, labels: Record<string, string>, ipam?: { subnet: string; gateway: string; ipRange?: string }): Promise<string> {
    this.calls.push(`network-create ${name}`);
    if (this.net(name)) throw new DockerApiError('POST', '/networks/create', 409, `network with name ${name} already exists`);
    const n = this.addNetwork(name, labels, ipam?.subnet);
    n.gateway = ipam?.gateway;
    return n.id;
  }

  async removeNetwork(name: string): Promise<boolean> {
    this.calls.push(`network-rm ${name}`);
    const n = this.net(name);
    if (!n) return false;
    if ([...this.containers.values()].some((b) => b.networks.has(n.name))) throw new DockerApiError('DELETE', `/networks/${name}`, 409, `error while removing network: network ${name} has active endpoints`);
    this.networks.delete(n.id);
    return true;
  }

  async connectNetwork(network: string, container: string, ip: string | undefined, aliases: string[]): Promise<void> {
    const n = this.net(network);
    if (!n) throw new DockerApiError('POST', `/networks/${network}/connect`, 404, `network ${network} not found`);
    const box = this.mustBox(container, 'POST');
    if (box.networks.has(n.name)) throw new DockerApiError('POST', `/networks/${network}/connect`, 403, `endpoint with name ${box.name} already exists in network ${n.name}`);
    this.calls.push(`connect ${n.name} ${box.name}`);
    box.networks.set(n.name, { ip: ip ?? '', aliases });
  }

  async disconnectNetwork(network: string, container: string): Promise<void> {
    const n = this.net(network);
    const box = this.mustBox(container, 'POST');
    if (!n || !box.networks.has(n.name)) throw new DockerApiError('POST', `/networks/${network}/disconnect`, 404, `container ${container} is not connected to network ${network}`);
    this.calls.push(`disconnect ${n.name} ${box.name}`);
    box.networks.delete(n.name);
  }

  private summary(b: Box): ContainerSummary {
    // Running containers report healthy: waits judge them ready at once, without a settle time.
    const status = b.state === 'running' ? 'Up 1 minute (healthy)' : b.state === 'paused' ? 'Up 1 minute (Paused)' : b.state === 'exited' ? 'Exited (0) 1 minute ago' : 'Created';
    return {
      Id: b.id,
      Names: [`/${b.name}`],
      Image: b.image,
      State: b.state,
      Status: status,
      Labels: { ...b.labels },
      NetworkSettings: { Networks: Object.fromEntries([...b.networks].map(([n, v]) => [n, { IPAddress: v.ip, NetworkID: this.net(n)?.id ?? '' }])) },
    };
  }

  async listContainers(filters?: Filters, all?: boolean): Promise<ContainerSummary[]> {
    return [...this.containers.values()]
      .filter((b) => (all || filters?.status ? true : b.state === 'running' || b.state === 'paused'))
      .filter((b) => !filters?.status || filters.status.includes(b.state))
      .filter((b) => matchesLabels(b.labels, filters?.label))
      .filter((b) => !filters?.id || filters.id.some((id) => b.id.startsWith(id)))
      .filter((b) => !filters?.name || filters.name.some((n) => b.name.includes(n.replace(/^\//, ''))))
      .map((b) => this.summary(b));
  }

  async inspectContainer(idOrName: string): Promise<ContainerInspect | null> {
    const b = this.byName(idOrName);
    if (!b) return null;
    return {
      Id: b.id,
      Name: `/${b.name}`,
      State: { Status: b.state, Running: b.state === 'running' || b.state === 'paused', ExitCode: 0, StartedAt: '2030-01-01T00:00:00.000Z', Health: { Status: 'healthy' } },
      Config: { Labels: { ...b.labels }, Image: b.image, Env: [] },
      HostConfig: { RestartPolicy: { Name: '' } },
      NetworkSettings: { Networks: Object.fromEntries([...b.networks].map(([n, v]) => [n, { IPAddress: v.ip, Aliases: v.aliases, NetworkID: this.net(n)?.id ?? '' }])) },
      RestartCount: 0,
    };
  }

  /** What `containerStats` answers for a running container, by container name (a test sets it). */
  readonly stats = new Map<string, ContainerStats>();

  async containerStats(id: string): Promise<ContainerStats | null> {
    const b = this.byName(id) ?? this.containers.get(id);
    if (!b || (b.state !== 'running' && b.state !== 'paused')) return null;
    return this.stats.get(b.name) ?? null;
  }

  async startContainer(id: string): Promise<void> {
    const b = this.mustBox(id, 'POST');
    this.calls.push(`start ${b.name}`);
    if (b.state === 'created' || b.state === 'exited') b.state = 'running';
  }

  async stopContainer(id: string): Promise<void> {
    const b = this.mustBox(id, 'POST');
    this.calls.push(`stop ${b.name}`);
    b.state = 'exited';
  }

  async pauseContainer(id: string): Promise<void> {
    const b = this.mustBox(id, 'POST');
    if (b.state !== 'running') throw new DockerApiError('POST', `/containers/${id}/pause`, 409, `container ${id} is not running`);
    this.calls.push(`pause ${b.name}`);
    b.state = 'paused';
  }

  async unpauseContainer(id: string): Promise<void> {
    const b = this.mustBox(id, 'POST');
    if (b.state !== 'paused') throw new DockerApiError('POST', `/containers/${id}/unpause`, 409, `container ${id} is not paused`);
    this.calls.push(`unpause ${b.name}`);
    b.state = 'running';
  }

  async removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void> {
    const b = this.mustBox(id, 'DELETE');
    if ((b.state === 'running' || b.state === 'paused') && !opts?.force) throw new DockerApiError('DELETE', `/containers/${id}`, 409, `cannot remove a running container ${id}`);
    this.calls.push(`remove ${b.name}`);
    this.containers.delete(b.id);
  }

  async containerLogs(): Promise<string> {
    return '';
  }

  async streamLogs(): Promise<void> {
    return undefined;
  }

  async watchEvents(): Promise<void> {
    return undefined;
  }

  async listVolumes(filters?: Filters): Promise<VolumeInfo[]> {
    return [...this.volumes.values()].filter((v) => matchesLabels(v.Labels, filters?.label)).map((v) => ({ ...v }));
  }

  async inspectVolume(name: string): Promise<VolumeInspect | null> {
    const v = this.volumes.get(name);
    return v ? { ...v, Driver: 'local', Mountpoint: `/stand-in/volumes/${name}/_data`, Options: null } : null;
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<VolumeInspect> {
    if (!this.volumes.has(name)) {
      this.calls.push(`volume-create ${name}`);
      this.addVolume(name, labels);
    }
    return (await this.inspectVolume(name)) as VolumeInspect;
  }

  async removeVolume(name: string): Promise<void> {
    if (!this.volumes.has(name)) throw new DockerApiError('DELETE', `/volumes/${name}`, 404, `get ${name}: no such volume`);
    this.calls.push(`volume-rm ${name}`);
    this.volumes.delete(name);
  }
}

/** One `compose up` as the stand-in compose saw it. */
export interface ComposeUpCall {
  projectName: string;
  files: string[];
  opts: ComposeUpOptions;
}

/**
 * The compose tool over a stand-in engine. `resolveModel` answers `model` (set it per test);
 * `up` reads the model file it is given (cilo's generated models: fixed container names, labels,
 * networks with fixed addresses, named volumes) and makes or starts its containers, recreating
 * one whose image or labels changed, as compose's config hash would.
 */
export class StandInCompose implements Compose {
  model: ComposeModel = { services: {} };
  readonly resolved: ComposeTarget[] = [];
  readonly ups: ComposeUpCall[] = [];
  readonly stops: string[] = [];

  constructor(private readonly engine: StandInEngine) {}

  async resolveModel(target: ComposeTarget): Promise<ComposeModel> {
    this.resolved.push(target);
    return structuredClone(this.model);
  }

  async up(target: ComposeTarget, opts: ComposeUpOptions = {}): Promise<void> {
    this.ups.push({ projectName: target.projectName, files: target.files, opts });
    const model = parseYaml(readFileSync(target.files[0] ?? '', 'utf8')) as ComposeModel;
    for (const [name, def] of Object.entries(model.volumes ?? {})) {
      const v = def ?? {};
      if (v.external === true) continue;
      const volume = typeof v.name === 'string' ? v.name : `${target.projectName}_${name}`;
      await this.engine.createVolume(volume, { ...((v.labels as Record<string, string> | undefined) ?? {}), [COMPOSE_PROJECT]: target.projectName });
    }
    for (const [service, svc] of Object.entries(model.services)) {
      if (opts.only && !opts.only.includes(service)) continue;
      const name = svc.container_name ?? `${target.projectName}-${service}-1`;
      const labels = { ...(svc.labels ?? {}), [COMPOSE_PROJECT]: target.projectName, [COMPOSE_SERVICE]: service };
      const image = svc.image ?? 'built';
      const existing = this.engine.byName(name);
      if (existing && !opts.forceRecreate && existing.image === image && JSON.stringify(existing.labels) === JSON.stringify(labels)) {
        if (existing.state !== 'running') await this.engine.startContainer(existing.id);
        continue;
      }
      if (existing) await this.engine.removeContainer(existing.id, { force: true });
      const networks: Record<string, { ip: string; aliases?: string[] }> = {};
      for (const [key, cfg] of Object.entries(svc.networks ?? {})) {
        const top = model.networks?.[key];
        const net = typeof top?.name === 'string' ? top.name : `${target.projectName}_${key}`;
        networks[net] = { ip: cfg?.ipv4_address ?? '', aliases: cfg?.aliases ?? [] };
      }
      for (const net of Object.keys(networks)) {
        if (!(await this.engine.inspectNetwork(net))) throw new DockerApiError('POST', '/containers/create', 404, `network ${net} not found`);
      }
      this.engine.addContainer({ name, image, labels, networks });
    }
  }

  async stop(target: ComposeTarget): Promise<void> {
    this.stops.push(target.projectName);
    for (const c of await this.engine.listContainers({ label: [`${COMPOSE_PROJECT}=${target.projectName}`] })) await this.engine.stopContainer(c.Id);
  }

  async passthrough(): Promise<number> {
    return 0;
  }

  async version(): Promise<string | undefined> {
    return '2.26.0';
  }

  async captureLimited(): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean; droppedBytes: number }> {
    return { code: 0, stdout: '', stderr: '', timedOut: false, droppedBytes: 0 };
  }
}

/** An engine with its compose, exec and volume data: what `ctx.local` or a host's connection gives. */
export interface StandInPorts extends EnginePorts {
  docker: StandInEngine;
  compose: StandInCompose;
  /** Commands run in containers, as `container: argv...`. */
  execs: string[];
  /** Volume copies and emptyings, one line each. */
  volumeOps: string[];
}

export function standInPorts(engine = new StandInEngine()): StandInPorts {
  const execs: string[] = [];
  const volumeOps: string[] = [];
  const exec: ContainerExec = {
    run: async (container, argv) => {
      execs.push(`${container}: ${argv.join(' ')}`);
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  const volumes: VolumeData = {
    copy: async (from, to) => {
      volumeOps.push(`copy ${JSON.stringify(from)} ${JSON.stringify(to)}`);
      return { method: 'copy' };
    },
    empty: async (tree) => {
      volumeOps.push(`empty ${JSON.stringify(tree)}`);
    },
  };
  return { docker: engine, compose: new StandInCompose(engine), exec, volumes, routes: { routeSubnets: async () => [], connect: async () => ({ ok: true }) }, execs, volumeOps };
}

/**
 * A site over stand-in ports, for core functions that take a SiteContext: this machine's (no
 * host), or one that looks like a remote host's (its name set, its refusals thrown).
 */
export function standInSite(ports: StandInPorts, opts: { host?: string } = {}): Site {
  const host = opts.host;
  return {
    ...ports,
    host,
    label: host ? `host ${host}` : 'this machine',
    copiesWorkspace: host !== undefined,
    syncWorkspace: async () => undefined,
    bindModel: (_env, model) => model,
    removeWorkspace: async () => undefined,
    refuse: (what) => {
      if (host) throw new CiloError('REMOTE_UNSUPPORTED', `stand-in host ${host} refuses ${what.kind}`);
    },
    forwardLoopback: async () => undefined,
    cancelLoopback: async () => undefined,
    forget: async () => undefined,
  };
}

/** How a stand-in host answers `connect`. */
export type HostBehaviour =
  | { kind: 'answers'; ports: StandInPorts }
  /** connect never resolves. */
  | { kind: 'silent' }
  /** connect resolves, the engine's ping never does. */
  | { kind: 'silent-engine'; ports: StandInPorts }
  /** connect fails with this error. */
  | { kind: 'fails'; error: Error };

/** Remote hosts by name; records connects and disconnects. Only what reaching a host needs. */
export class StandInRemote implements RemoteHosts {
  readonly hosts = new Map<string, HostBehaviour>();
  readonly connects: string[] = [];
  readonly disconnects: string[] = [];

  async connect(host: HostLink): Promise<{ docker: Engine; dockerHost: string; volumes: VolumeData }> {
    this.connects.push(host.name);
    const b = this.hosts.get(host.name);
    if (!b) throw new Error(`stand-in: no behaviour for host ${host.name}`);
    switch (b.kind) {
      case 'answers':
        return { docker: b.ports.docker, dockerHost: `unix:///stand-in/${host.name}.sock`, volumes: b.ports.volumes };
      case 'silent':
        return new Promise(() => undefined);
      case 'silent-engine': {
        const docker = Object.create(b.ports.docker) as StandInEngine;
        docker.ping = () => new Promise(() => undefined);
        return { docker, dockerHost: `unix:///stand-in/${host.name}.sock`, volumes: b.ports.volumes };
      }
      case 'fails':
        throw b.error;
    }
  }

  async disconnect(host: HostLink): Promise<void> {
    this.disconnects.push(host.name);
  }

  private unused(what: string): never {
    throw new Error(`stand-in remote: ${what} is not part of the stand-in`);
  }
  contextEndpoint(): Promise<string | undefined> {
    return this.unused('contextEndpoint');
  }
  scanHostKeys(_ssh: string): Promise<HostKey[]> {
    return this.unused('scanHostKeys');
  }
  freePort(): Promise<number> {
    return this.unused('freePort');
  }
  forwardPorts(): Promise<void> {
    return this.unused('forwardPorts');
  }
  cancelPorts(): Promise<void> {
    return this.unused('cancelPorts');
  }
  isKnown(): Promise<boolean> {
    return this.unused('isKnown');
  }
  userKnownEntries(_ssh: string): Promise<UserKnownEntries[]> {
    return this.unused('userKnownEntries');
  }
  trustHostKeys(_lines: string[]): Promise<string[]> {
    return this.unused('trustHostKeys');
  }
  untrustHostKeys(_lines: string[]): Promise<void> {
    return this.unused('untrustHostKeys');
  }
  forgetHostKeys(): Promise<void> {
    return this.unused('forgetHostKeys');
  }
  forgetHost(_host: HostLink): Promise<void> {
    return this.unused('forgetHost');
  }
  run(): Promise<string> {
    return this.unused('run');
  }
  sync(): Promise<void> {
    return this.unused('sync');
  }
  tunnelUp(): Promise<void> {
    return this.unused('tunnelUp');
  }
  tunnelDown(_host: HostState, _reachHost: boolean): Promise<void> {
    return this.unused('tunnelDown');
  }
  tunnelState(): Promise<{ up: boolean; handshake: number }> {
    return this.unused('tunnelState');
  }
}

export interface StandIn {
  ctx: CoreContext;
  /** This machine's engine, compose... (`ctx.local`). */
  local: StandInPorts;
  clock: StandInClock;
  remote: StandInRemote;
  /** Lines given to ctx.log and ctx.warn. */
  logs: string[];
  warnings: string[];
  /** The temporary CILO_HOME (state.json is the real state file). */
  home: string;
  /** Removes the home. */
  cleanup(): void;
}

function notHere(what: string): never {
  throw new Error(`stand-in context: ${what} is not part of the stand-in`);
}

/**
 * A core context over stand-ins and a fresh temporary CILO_HOME; call `cleanup` (or register it
 * with `t.after`) to remove the home. Anything not given is a stand-in that answers, or one that
 * throws saying it is not part of the stand-in (the DNS server's admin, the dashboard, git...).
 */
export function standInContext(opts: { clock?: StandInClock; local?: StandInPorts; remote?: StandInRemote } = {}): StandIn {
  const home = mkdtempSync(join(tmpdir(), 'cilo-unit-'));
  const paths = ciloPaths(home);
  const clock = opts.clock ?? new StandInClock();
  const local = opts.local ?? standInPorts();
  const remote = opts.remote ?? new StandInRemote();
  const logs: string[] = [];
  const warnings: string[] = [];
  const ctx: CoreContext = {
    paths,
    local,
    clock,
    remote,
    activity: fileActivity(paths),
    log: (l) => logs.push(l),
    warn: (l) => warnings.push(l),
    dns: {
      ensureRunning: async () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
      status: async () => ({ running: true, answering: true, port: 0 }),
      lookup: async () => [],
      portTaken: async () => false,
      systemResolves: async () => false,
    },
    dnsAdmin: new Proxy({} as CoreContext['dnsAdmin'], { get: (_t, k) => () => notHere(`dnsAdmin.${String(k)}`) }),
    dashboard: new Proxy({} as CoreContext['dashboard'], { get: (_t, k) => () => notHere(`dashboard.${String(k)}`) }),
    datasetEngines: { open: async () => notHere('datasetEngines.open') },
    ca: new Proxy({} as CoreContext['ca'], { get: (_t, k) => () => notHere(`ca.${String(k)}`) }),
    git: new Proxy({} as CoreContext['git'], { get: (_t, k) => () => notHere(`git.${String(k)}`) }),
    proc: new Proxy({} as CoreContext['proc'], { get: (_t, k) => () => notHere(`proc.${String(k)}`) }),
    workspaces: {
      copy: () => notHere('workspaces.copy'),
      remove: async (p) => rmSync(p, { recursive: true, force: true }),
    },
  };
  return { ctx, local, clock, remote, logs, warnings, home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/**
 * Records an environment in the context's state (the real state file, one transaction), as a
 * finished `create` leaves it: its workspace directory made, no services yet. `n` picks its /24.
 */
export async function seedEnvironment(ctx: CoreContext, name: string, opts: { project?: string; n?: number; status?: EnvironmentState['status']; host?: string } = {}): Promise<EnvironmentState> {
  const project = opts.project ?? 'app';
  const workspace = workspacePath(ctx.paths, project, name);
  mkdirSync(workspace, { recursive: true });
  const at = new Date(ctx.clock.now()).toISOString();
  const env: EnvironmentState = {
    name,
    project,
    source: join(ctx.paths.home, 'source', project),
    workspace,
    subnet: `10.224.${opts.n ?? 1}.0/24`,
    dns_suffix: '.test',
    status: opts.status ?? 'stopped',
    created_at: at,
    updated_at: at,
    services: {},
    ingress: null,
    hostnames: [],
    shared: [],
    ...(opts.host ? { host: opts.host } : {}),
  };
  await withStateLock((s) => {
    s.environments[name] = env;
  }, ctx.paths);
  return env;
}

/** Records a remote host (as `cilo host add` would) so that sites can be asked for it. */
export async function seedHost(ctx: CoreContext, name: string, n = 1): Promise<HostState> {
  const host: HostState = { name, ssh: `ssh://me@${name}`, remote_socket: '/var/run/docker.sock', remote_root: `/home/me/.cilo-remote/${name}`, engine_id: `engine-${name}`, subnet: `10.${225 + n}.0.0/18`, transport: 'ssh', added_at: new Date(ctx.clock.now()).toISOString() };
  await withStateLock((s) => {
    s.hosts = { ...s.hosts, [name]: host };
  }, ctx.paths);
  return host;
}
