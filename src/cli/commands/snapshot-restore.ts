import { restoreSnapshot } from '../../core/snapshots.js';
import { cliContext } from '../output/context.js';
import { out, printJson } from '../output/print.js';

export default async function snapshotRestore(env: string, name: string, opts: { project?: string; json?: boolean }): Promise<void> {
  const r = await restoreSnapshot(cliContext(), { env, name, project: opts.project });
  if (opts.json) printJson(r);
  else out(`Environment ${r.env} is back to snapshot ${r.snapshot}: ${r.volumes.length} volume(s) (${r.method}), ${r.datasets.length} dataset(s).`);
}
