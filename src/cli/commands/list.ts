import { listEnvironments } from '../../core/environments/list.js';
import { cliContext } from '../output/context.js';
import { statusText } from '../output/env-view.js';
import { out, printJson, printTable } from '../output/print.js';

interface Options {
  all?: boolean;
  project?: string;
  format?: 'table' | 'json' | 'quiet';
  json?: boolean;
}

export default async function list(opts: Options): Promise<void> {
  const views = await listEnvironments(cliContext(), { all: opts.all, project: opts.project });
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (format === 'json') {
    // A top-level array, as the original printed it: `jq '.[].name'`.
    printJson(views);
    return;
  }
  if (format === 'quiet') {
    for (const v of views) out(v.name);
    return;
  }
  if (views.length === 0) {
    out('No environments. Create one with `cilo create <env>` or `cilo up <env>` in your project.');
    return;
  }
  printTable(
    ['NAME', 'PROJECT', 'STATUS', 'SUBNET', 'SERVICES', 'WORKSPACE', 'URL', 'CREATED'],
    views.map((v) => [v.name, v.project, statusText(v), v.subnet, String(v.services.length), v.workspace_mode, v.url ?? '-', v.created_at.slice(0, 19).replace('T', ' ')]),
  );
}
