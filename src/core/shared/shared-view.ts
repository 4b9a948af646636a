import { sameSite, siteKey } from '../../domain/sites.js';
import { askEachSite } from '../sites/reach.js';
import { compareNames } from '../../domain/names.js';
import { CiloError } from '../../errors.js';
import { readState } from '../../state/store.js';
import type { CoreContext } from '../context.js';
import { listDatasets, type DatasetView } from '../datasets/datasets.js';
import type { SharedServiceState } from '../../domain/state.js';

export interface SharedView {
  project: string;
  service: string;
  container: string;
  /** Live container state, or `missing`. */
  state: string;
  users: string[];
  ips: Record<string, string>;
  grace_seconds: number;
  grace_until: string | null;
  config_hash: string;
  created_at: string;
  /** Environments' private datasets in it (cilo.share.isolate), with live sizes (the dashboard's: the last known, and when they were measured). */
  datasets: SharedDataset[];
  /** The remote host whose engine runs it (absent: this machine's). */
  host?: string;
}

export interface SharedDataset {
  env: string;
  name: string;
  size: number | null;
  unit: 'bytes' | 'keys';
  /** When `size` was measured (the dashboard keeps sizes and measures them on its own clock); absent where it was measured just now. */
  measured_at?: string | null;
}

/** A dataset as listShared places it: in the shared service of its project, on its engine. */
export type PlacedDataset = Pick<DatasetView, 'env' | 'project' | 'service' | 'name' | 'size' | 'unit' | 'host'> & { measured_at?: string | null };

/** `cilo shared list`: the shared services with their live state and datasets' live sizes. */
export async function listShared(ctx: CoreContext, project?: string): Promise<SharedView[]> {
  if (sharedRecords(ctx, project).length === 0) return [];
  return sharedViews(ctx, project, await listDatasets(ctx, { project }));
}

function sharedRecords(ctx: CoreContext, project: string | undefined): SharedServiceState[] {
  return Object.values(readState(ctx.paths).shared_services)
    .filter((r) => project === undefined || r.project === project)
    .sort((a, b) => compareNames(a.project, b.project) || compareNames(a.service, b.service));
}

/** The shared services with their live state, and `datasets` (with sizes as the caller has them) placed in theirs. */
export async function sharedViews(ctx: CoreContext, project: string | undefined, datasets: PlacedDataset[]): Promise<SharedView[]> {
  const recs = sharedRecords(ctx, project);
  if (recs.length === 0) return [];
  // Each engine asked once; one that does not answer shows its shared containers `unknown`.
  const live = await askEachSite(ctx, recs, (site) => site.docker.listContainers({ label: ['cilo.shared=true'] }), { tolerateLocal: true });
  return recs.map((r) => {
    const answer = live.get(siteKey(r));
    const containers = answer?.ok ? answer.value : undefined;
    const c = containers?.find((x) => x.Names.includes(`/${r.container}`));
    return {
      ...(r.host ? { host: r.host } : {}),
      project: r.project,
      service: r.service,
      container: r.container,
      state: containers === undefined ? 'unknown' : c ? c.State : 'missing',
      users: r.users,
      ips: r.ips,
      grace_seconds: r.grace_seconds,
      grace_until: r.grace_until,
      config_hash: r.config_hash,
      created_at: r.created_at,
      datasets: datasets
        .filter((d) => d.project === r.project && d.service === r.service && sameSite(d, r))
        .map((d) => ({ env: d.env, name: d.name, size: d.size, unit: d.unit, ...(d.measured_at !== undefined ? { measured_at: d.measured_at } : {}) })),
    };
  });
}

/** The project of a shared service named on the command line: explicit, else the only one that has it. */
export function sharedProjectOf(ctx: CoreContext, service: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  const projects = [...new Set(Object.values(readState(ctx.paths).shared_services).filter((r) => r.service === service).map((r) => r.project))];
  if (projects.length === 1 && projects[0]) return projects[0];
  if (projects.length === 0) {
    throw new CiloError('SERVICE_NOT_FOUND', `No project has a shared service "${service}".`, { hint: 'Run `cilo shared list` to see them.' });
  }
  throw new CiloError('USAGE', `Several projects share a service "${service}" (${projects.join(', ')}).`, { hint: 'Pass --project to choose one.', exitCode: 2 });
}

