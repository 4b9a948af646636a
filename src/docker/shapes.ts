/**
 * The checks of the Engine's answers before cilo trusts them: the fields cilo reads must have
 * the types domain/engine.ts gives them; anything else the Engine sends passes through.
 */
import * as v from 'valibot';
import type { ContainerInspect, ContainerStats, ContainerSummary, NetworkInspect, VolumeInfo, VolumeInspect } from '../domain/engine.js';

const StringMap = v.record(v.string(), v.string());

export const ContainerSummarySchema = v.looseObject({
  Id: v.string(),
  Names: v.array(v.string()),
  Image: v.string(),
  State: v.string(),
  Status: v.string(),
  // The Engine sends null for a container without labels.
  Labels: v.pipe(v.nullable(StringMap), v.transform((l) => l ?? {})),
  NetworkSettings: v.optional(v.looseObject({ Networks: v.optional(v.record(v.string(), v.looseObject({ IPAddress: v.optional(v.string()), NetworkID: v.optional(v.string()), EndpointID: v.optional(v.string()) }))) })),
  Ports: v.optional(v.array(v.looseObject({ IP: v.optional(v.string()), PrivatePort: v.number(), PublicPort: v.optional(v.number()), Type: v.string() }))),
});

export const ContainerInspectSchema = v.looseObject({
  Id: v.string(),
  Name: v.string(),
  State: v.looseObject({
    Status: v.string(),
    Running: v.boolean(),
    ExitCode: v.number(),
    OOMKilled: v.optional(v.boolean()),
    StartedAt: v.optional(v.string()),
    Health: v.optional(v.looseObject({ Status: v.string(), Log: v.optional(v.nullable(v.array(v.looseObject({ Output: v.string() })))) })),
  }),
  Config: v.looseObject({ Labels: v.nullable(StringMap), Image: v.string(), Env: v.optional(v.nullable(v.array(v.string()))) }),
  HostConfig: v.optional(v.looseObject({ RestartPolicy: v.optional(v.looseObject({ Name: v.optional(v.string()) })) })),
  NetworkSettings: v.looseObject({
    Networks: v.pipe(
      v.nullable(v.record(v.string(), v.looseObject({ IPAddress: v.string(), Aliases: v.nullable(v.array(v.string())), NetworkID: v.string() }))),
      v.transform((n) => n ?? {}),
    ),
  }),
  RestartCount: v.optional(v.number()),
});

export const NetworkInspectSchema = v.looseObject({
  Id: v.string(),
  Name: v.string(),
  Labels: v.nullable(StringMap),
  IPAM: v.looseObject({ Config: v.nullable(v.array(v.looseObject({ Subnet: v.optional(v.string()), Gateway: v.optional(v.string()) }))) }),
  Containers: v.optional(v.record(v.string(), v.looseObject({ Name: v.string(), IPv4Address: v.string() }))),
});

export const VolumeListSchema = v.looseObject({
  Volumes: v.pipe(v.nullable(v.array(v.looseObject({ Name: v.string(), Labels: v.nullable(StringMap) }))), v.transform((l) => l ?? [])),
});

export const InfoSchema = v.looseObject({ ServerVersion: v.string(), ID: v.optional(v.string()), Name: v.optional(v.string()), SecurityOptions: v.optional(v.nullable(v.array(v.string()))), MemTotal: v.optional(v.number()), NCPU: v.optional(v.number()) });
export const IdSchema = v.looseObject({ Id: v.string() });
export const VolumeInspectSchema = v.looseObject({
  Name: v.string(),
  Labels: v.nullable(StringMap),
  Driver: v.string(),
  Mountpoint: v.string(),
  Options: v.optional(v.nullable(StringMap)),
});
export const StatsSchema = v.looseObject({
  read: v.string(),
  cpu_stats: v.looseObject({
    cpu_usage: v.looseObject({ total_usage: v.number() }),
    system_cpu_usage: v.optional(v.number()),
    online_cpus: v.optional(v.number()),
  }),
  memory_stats: v.looseObject({ usage: v.optional(v.number()), limit: v.optional(v.number()), stats: v.optional(v.record(v.string(), v.number())) }),
  blkio_stats: v.optional(v.looseObject({ io_service_bytes_recursive: v.optional(v.nullable(v.array(v.looseObject({ op: v.string(), value: v.number() })))) })),
  networks: v.optional(v.record(v.string(), v.looseObject({ rx_bytes: v.number(), tx_bytes: v.number() }))),
});
export const WaitSchema = v.looseObject({ StatusCode: v.number() });

// What the schemas let through is what the domain types promise.
type Fits<A, B> = [A] extends [B] ? true : false;
const outputsFit: [
  Fits<v.InferOutput<typeof ContainerSummarySchema>, ContainerSummary>,
  Fits<v.InferOutput<typeof ContainerInspectSchema>, ContainerInspect>,
  Fits<v.InferOutput<typeof NetworkInspectSchema>, NetworkInspect>,
  Fits<v.InferOutput<typeof VolumeListSchema>['Volumes'][number], VolumeInfo>,
  Fits<v.InferOutput<typeof VolumeInspectSchema>, VolumeInspect>,
  Fits<v.InferOutput<typeof StatsSchema>, ContainerStats>,
] = [true, true, true, true, true, true];
void outputsFit;
