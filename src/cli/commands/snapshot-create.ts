import { createSnapshot } from '../../core/copies/snapshots.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

export default async function snapshotCreate(env: string, opts: { name?: string; project?: string; json?: boolean }): Promise<void> {
  const s = await createSnapshot(cliContext(), { env, name: opts.name, project: opts.project });
  if (opts.json) printResult({ snapshot: s });
  else out(`Snapshot ${s.name} of ${s.env}: ${s.volumes.length} volume(s) (${s.method}, ${s.env} frozen ${(s.frozen_ms / 1000).toFixed(2)} s), ${s.datasets.length} dataset(s).`);
}
