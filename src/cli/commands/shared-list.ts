import { listShared } from '../../core/shared-view.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printTable } from '../output/print.js';
import { formatSize } from '../output/size.js';

export default async function sharedList(opts: { project?: string; json?: boolean }): Promise<void> {
  const views = await listShared(cliContext(), opts.project);
  if (opts.json) {
    printJson({ shared_services: views });
    return;
  }
  if (views.length === 0) {
    out('No shared services. Label a service `cilo.share: "true"` or use `cilo up <env> --shared SERVICE`.');
    return;
  }
  printTable(
    ['PROJECT', 'SERVICE', 'CONTAINER', 'STATE', 'USERS', 'GRACE UNTIL', 'HASH', 'DATASETS'],
    // A remote host's shared container is named like this machine's: the host tells them apart.
    views.map((v) => [v.project, v.service, v.host ? `${v.container} (host ${v.host})` : v.container, v.state, v.users.join(',') || '-', v.grace_until ?? '-', v.config_hash, v.datasets.map((d) => `${d.env}:${d.name} (${formatSize(d.size, d.unit)})`).join(', ') || '-']),
  );
}
