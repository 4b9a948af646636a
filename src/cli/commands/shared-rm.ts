import { leftoversToRemove, removeSharedLeftover, type SharedLeftover } from '../../core/shared/shared-leftovers.js';
import { CiloError, usageError } from '../../errors.js';
import { confirm } from '../output/confirm.js';
import { cliContext } from '../output/context.js';
import { out, printResult, warn } from '../output/print.js';

interface Options {
  unused?: boolean;
  project?: string;
  force?: boolean;
  json?: boolean;
}

const describe = (l: SharedLeftover): string => `${l.kind} ${l.name} (shared ${l.service} of project ${l.project})`;

export default async function sharedRm(service: string | undefined, opts: Options): Promise<void> {
  if (!service && !opts.unused) throw usageError('Name the shared service whose volumes and templates to remove, or pass --unused.', 'For example `cilo shared rm db`, or `cilo shared rm --unused`.');
  if (service && opts.unused) throw usageError('Pass either a shared service or --unused, not both.');
  const ctx = cliContext();
  const items = await leftoversToRemove(ctx, { service, unused: opts.unused, project: opts.project });
  if (items.length === 0) {
    if (opts.json) printResult({ removed: [], failed: [] });
    else out('Nothing to remove: every shared volume and dataset template is in use.');
    return;
  }
  if (!opts.force) {
    if (!process.stdin.isTTY) {
      throw new CiloError('NOT_CONFIRMED', `Refusing to remove ${items.map(describe).join(', ')} without confirmation: there is no terminal to ask.`, { hint: 'Pass --force to remove them without asking.', exitCode: 2 });
    }
    if (!(await confirm(`Remove ${items.map(describe).join(', ')}? Their data is lost.`))) throw new CiloError('NOT_CONFIRMED', 'Nothing was removed.', { exitCode: 1 });
  }
  const removed: SharedLeftover[] = [];
  const failed: (SharedLeftover & { error: string })[] = [];
  for (const item of items) {
    try {
      await removeSharedLeftover(ctx, item);
      removed.push(item);
      if (!opts.json) out(`Removed ${describe(item)}.`);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      failed.push({ ...item, error });
      if (!opts.json) warn(`could not remove ${describe(item)}: ${error}`);
    }
  }
  if (opts.json) printResult({ removed, failed });
  if (failed.length > 0) process.exitCode = 1;
}
