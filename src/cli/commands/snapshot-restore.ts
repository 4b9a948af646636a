import { restoreSnapshot, restoreTarget } from '../../core/copies/snapshots.js';
import { CiloError } from '../../errors.js';
import { confirm } from '../output/confirm.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface Options {
  project?: string;
  fromOther?: boolean;
  timeout?: number;
  json?: boolean;
}

export default async function snapshotRestore(env: string, name: string, opts: Options): Promise<void> {
  const ctx = cliContext();
  let fromOther = opts.fromOther === true;
  // Another environment's data replacing this one's: on a terminal, asked (as destroy asks);
  // elsewhere refused by the core unless --from-other.
  const target = restoreTarget(ctx, { env, name, project: opts.project });
  if (target.other && !fromOther && process.stdin.isTTY) {
    if (!(await confirm(`Snapshot ${target.snapshot.name} was taken from ${target.snapshot.env}. Replace the volumes and datasets of ${target.env.name} with ${target.snapshot.env}'s?`))) {
      throw new CiloError('NOT_CONFIRMED', 'Nothing was restored.', { exitCode: 1 });
    }
    fromOther = true;
  }
  const r = await restoreSnapshot(ctx, { env, name, project: opts.project, fromOther, timeoutSeconds: opts.timeout });
  if (opts.json) printResult(r);
  else out(`Environment ${r.env} is back to snapshot ${r.snapshot}${r.from !== r.env ? ` (of ${r.from})` : ''}: ${r.volumes.length} volume(s) (${r.method}), ${r.datasets.length} dataset(s); started again: ${r.started.join(', ') || 'none'}.`);
}
