/**
 * The state file's schema: the adapter's check that what it reads has the shape of
 * domain/state.ts. The compile-time checks at the end keep the two the same.
 */
import * as v from 'valibot';
import { ROUTING_MODES, type RoutingSettings } from '../domain/routing.js';
import { ENGINE_KINDS, ISOLATION_KINDS } from '../domain/dataset-kinds.js';
import { DATASET_STATUSES, DEFAULT_BASE_SUBNET, DEFAULT_DNS_PORT, ENV_STATUSES, HOST_TRANSPORTS, STATE_VERSION, type DatasetState, type EnvironmentState, type HostState, type ProjectState, type EnvStatus, type ServiceState, type SharedServiceState, type State } from '../domain/state.js';

const ServiceStateSchema = v.object({
  ip: v.string(),
  type: v.picklist(['isolated', 'shared']),
  /** The container port a URL should name (first `ports` target, else first `expose`). */
  port: v.optional(v.number()),
  /** A service with several replicas: each replica's address, as the engine assigned it at the last `up`. */
  replicas: v.optional(v.array(v.string())),
  /** The service's own `cilo.hostnames` (not the ingress's: those are the environment's `hostnames`), served as `<name>.<env><suffix>`. */
  hostnames: v.optional(v.array(v.string())),
  /** Its non-HTTP ports published on 127.0.0.1: container port (`5432`, `53/udp`) to loopback port. */
  host_ports: v.optional(v.record(v.string(), v.number())),
});

const EnvStatusSchema = v.picklist(ENV_STATUSES);

const DatasetStateSchema = v.object({
  engine: v.picklist(ENGINE_KINDS),
  kind: v.picklist(ISOLATION_KINDS),
  name: v.string(),
  template: v.nullable(v.string()),
  status: v.picklist(DATASET_STATUSES),
  keep: v.optional(v.boolean()),
  rewrites: v.optional(v.array(v.object({ service: v.string(), variable: v.string(), from: v.string(), to: v.string() }))),
  seen_in: v.optional(v.string()),
  created_at: v.string(),
});

/** One environment's record (also checked where a copy of it is kept: a snapshot's file). */
export const EnvironmentStateSchema = v.object({
  name: v.string(),
  project: v.string(),
  source: v.string(),
  workspace: v.string(),
  subnet: v.string(),
  dns_suffix: v.string(),
  status: EnvStatusSchema,
  created_at: v.string(),
  updated_at: v.string(),
  /** IPs assigned to services on this environment's network; kept across down/up. */
  services: v.record(v.string(), ServiceStateSchema),
  ingress: v.nullable(v.string()),
  hostnames: v.array(v.string()),
  /** Hostnames added with `cilo hostnames` (kept by `up`, which recomputes `hostnames` as config + labels + these). */
  custom_hostnames: v.optional(v.array(v.string())),
  /** Shared services (by service name) this environment holds a reference to. */
  shared: v.array(v.string()),
  last_error: v.optional(v.string()),
  /** --shared / --isolate of the last up that gave them; later ups without flags reuse them. */
  share_flags: v.optional(v.object({ shared: v.array(v.string()), isolate: v.array(v.string()) })),
  /** --profile of the last up that gave it; later ups without it reuse them (as --shared). */
  profiles: v.optional(v.array(v.string())),
  /** Private datasets in shared engines, by shared service. */
  datasets: v.optional(v.record(v.string(), DatasetStateSchema)),
  /** Set while a fork makes it (status `creating`): whose containers to thaw if it was killed. */
  fork: v.optional(v.object({ from: v.string(), snapshot: v.optional(v.string()) })),
  /** `in-place`: the workspace is the source directory itself (issue #28). */
  workspace_mode: v.optional(v.picklist(['copy', 'in-place'])),
  /** The remote host (`cilo host add`) whose engine runs it; absent: this machine's engine. */
  host: v.optional(v.string()),
  /** Memory last measured, and the estimate it was admitted with (issue #26). */
  memory_bytes: v.optional(v.number()),
  memory_admitted: v.optional(v.number()),
  /** Idle pause in seconds, who paused it and when (issue #26). */
  idle_pause_seconds: v.optional(v.number()),
  idle_pause_flag: v.optional(v.number()),
  paused_by: v.optional(v.picklist(['idle', 'user'])),
  paused_at: v.optional(v.string()),
});

const MemoryReservationSchema = v.object({ env: v.string(), pid: v.number(), bytes: v.number(), host: v.optional(v.string()), at: v.string() });

const HostStateSchema = v.object({
  name: v.string(),
  ssh: v.string(),
  context: v.optional(v.string()),
  identity: v.optional(v.string()),
  remote_socket: v.string(),
  remote_root: v.string(),
  engine_id: v.string(),
  subnet: v.string(),
  transport: v.picklist(HOST_TRANSPORTS),
  socks_port: v.optional(v.number()),
  added_at: v.string(),
});

const SharedServiceStateSchema = v.object({
  project: v.string(),
  service: v.string(),
  container: v.string(),
  config_hash: v.string(),
  /** The resolved definition, kept so a conflict can say what differs. */
  definition: v.optional(v.unknown()),
  users: v.array(v.string()),
  /** Its IP on each user environment's network. */
  ips: v.record(v.string(), v.string()),
  /** Its aliases on each user's network besides its name (declared `aliases:`, `links:`). */
  aliases: v.optional(v.array(v.string())),
  grace_seconds: v.number(),
  grace_until: v.nullable(v.string()),
  created_at: v.string(),
  /** The remote host whose engine runs it; absent: this machine's. */
  host: v.optional(v.string()),
  /** Its ports published on 127.0.0.1 (issue #25). */
  host_ports: v.optional(v.record(v.string(), v.number())),
});

const ProjectStateSchema = v.object({
  source: v.string(),
  claimed_at: v.string(),
});

const PortSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));

const RoutingSchema = v.object({
  mode: v.picklist(ROUTING_MODES),
  http_port: PortSchema,
  https_port: PortSchema,
  resolved: v.optional(v.record(v.string(), v.object({ mode: v.picklist(['direct', 'router'] as const), engine_id: v.string(), at: v.string(), why: v.string() }))),
});

const StateSchema = v.object({
  version: v.literal(STATE_VERSION),
  base_subnets: v.array(v.string()),
  dns_port: v.number(),
  environments: v.record(v.string(), EnvironmentStateSchema),
  shared_services: v.record(v.string(), SharedServiceStateSchema),
  hosts: v.optional(v.record(v.string(), HostStateSchema)),
  projects: v.optional(v.record(v.string(), ProjectStateSchema)),
  routing: v.optional(RoutingSchema),
  dns_suffix: v.optional(v.string()),
  memory_budget: v.optional(v.string()),
  image_memory: v.optional(v.record(v.string(), v.number())),
  memory_reservations: v.optional(v.record(v.string(), MemoryReservationSchema)),
  idle_pause_default: v.optional(v.number()),
});

/** True only when A and B are the same type: the schema may not drift from the domain's shape. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesDomain: [
  Same<v.InferOutput<typeof StateSchema>, State>,
  Same<v.InferOutput<typeof EnvironmentStateSchema>, EnvironmentState>,
  Same<v.InferOutput<typeof EnvStatusSchema>, EnvStatus>,
  Same<v.InferOutput<typeof ServiceStateSchema>, ServiceState>,
  Same<v.InferOutput<typeof SharedServiceStateSchema>, SharedServiceState>,
  Same<v.InferOutput<typeof DatasetStateSchema>, DatasetState>,
  Same<v.InferOutput<typeof HostStateSchema>, HostState>,
  Same<v.InferOutput<typeof ProjectStateSchema>, ProjectState>,
  Same<v.InferOutput<typeof RoutingSchema>, RoutingSettings>,
] = [true, true, true, true, true, true, true, true, true];
void schemaMatchesDomain;

/** The DNS port of a new state: CILO_DNS_PORT (used by tests and CI), else 5354. */
export function defaultDnsPort(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CILO_DNS_PORT);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : DEFAULT_DNS_PORT;
}

/** The base ranges of a new state: CILO_BASE_SUBNET (comma-separated CIDRs), else 10.224.0.0/16. */
function defaultBaseSubnets(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env.CILO_BASE_SUBNET ?? '').split(',').map((s) => s.trim()).filter((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
  return list.length > 0 ? list : [DEFAULT_BASE_SUBNET];
}

export function emptyState(): State {
  return {
    version: STATE_VERSION,
    base_subnets: defaultBaseSubnets(),
    dns_port: defaultDnsPort(),
    environments: {},
    shared_services: {},
  };
}

/** Returns the parsed state, or a short description of the first problem found. */
export function parseState(data: unknown): { ok: true; state: State } | { ok: false; problem: string } {
  const r = v.safeParse(StateSchema, data);
  if (r.success) return { ok: true, state: r.output };
  const issue = r.issues[0];
  const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  return { ok: false, problem: `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}` };
}
