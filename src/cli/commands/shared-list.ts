import { sharedLeftovers, type SharedLeftover } from '../../core/shared/shared-leftovers.js';
import { listShared } from '../../core/shared/shared-view.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printTable } from '../output/print.js';
import { formatSize } from '../output/size.js';

export default async function sharedList(opts: { project?: string; json?: boolean }): Promise<void> {
  const ctx = cliContext();
  const views = await listShared(ctx, opts.project);
  // Volumes and templates nothing uses any more (`cilo shared rm --unused` removes them).
  const unused = (await sharedLeftovers(ctx, { project: opts.project })).filter((l) => l.in_use === null);
  if (opts.json) {
    printJson({ shared_services: views, unused: unused.map(({ kind, project, service, name }) => ({ kind, project, service, name })) });
    return;
  }
  printUnused(unused);
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

function printUnused(unused: SharedLeftover[]): void {
  if (unused.length === 0) return;
  out('Unused (nothing uses them any more; `cilo shared rm --unused` removes them):');
  printTable(['PROJECT', 'SERVICE', 'KIND', 'NAME'], unused.map((l) => [l.project, l.service, l.kind, l.name]));
  out();
}
