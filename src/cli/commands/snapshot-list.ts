import { listSnapshots } from '../../core/copies/snapshots.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printTable } from '../output/print.js';

export default function snapshotList(opts: { env?: string; json?: boolean }): Promise<void> {
  const ctx = cliContext();
  const all = listSnapshots(ctx.paths, ctx.warn).filter((s) => opts.env === undefined || s.env === opts.env);
  if (opts.json) printJson({ snapshots: all });
  else if (all.length === 0) out('No snapshots. Take one with `cilo snapshot create <env>`.');
  else printTable(['NAME', 'ENV', 'PROJECT', 'CREATED', 'VOLUMES', 'DATASETS', 'STATUS'], all.map((s) => [s.name, s.env, s.project, s.created_at, s.volumes.map((v) => v.key).join(',') || '-', s.datasets.map((d) => d.service).join(',') || '-', s.status]));
  return Promise.resolve();
}
