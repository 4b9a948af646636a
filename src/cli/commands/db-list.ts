import { listEnvironmentDatasets } from '../../core/datasets/db.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printTable } from '../output/print.js';
import { formatSize } from '../output/size.js';

export default async function dbList(env: string | undefined, opts: { project?: string; json?: boolean }): Promise<void> {
  const rows = await listEnvironmentDatasets(cliContext(), { env, project: opts.project });
  if (opts.json) {
    printJson({ datasets: rows });
    return;
  }
  if (rows.length === 0) {
    out('No private datasets. Label a shared service `cilo.share.isolate: database` (or `db-index` for redis) and run `cilo up`.');
    return;
  }
  // The host column only when some dataset is on a remote host's engine.
  const hosts = rows.some((r) => r.host !== undefined);
  printTable(
    ['ENV', ...(hosts ? ['HOST'] : []), 'SERVICE', 'ENGINE', 'KIND', 'NAME', 'TEMPLATE', 'SIZE', 'STATUS'],
    rows.map((r) => [r.env, ...(hosts ? [r.host ?? '-'] : []), r.service, r.engine, r.kind, r.name, r.template ?? '-', formatSize(r.size, r.unit), r.status]),
  );
}
