import { removeSnapshot } from '../../core/copies/snapshots.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

export default async function snapshotRm(name: string, opts: { json?: boolean }): Promise<void> {
  const s = await removeSnapshot(cliContext(), name);
  if (opts.json) printResult({ removed: s.name });
  else out(`Snapshot ${s.name} removed.`);
}
