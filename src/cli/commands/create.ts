import { createEnvironment } from '../../core/environments/create.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';
import { createProgress } from '../output/progress.js';
import { workspaceFlag } from '../options.js';

interface Options {
  from?: string;
  project?: string;
  empty?: boolean;
  include?: string[];
  autoName?: boolean;
  json?: boolean;
  host?: string;
  inPlace?: boolean;
  copy?: boolean;
}

export default async function create(env: string, opts: Options): Promise<void> {
  const progress = createProgress('Copying');
  const r = await createEnvironment(cliContext(), { env, ...opts, workspace: workspaceFlag(opts), onProgress: (d, t) => progress.update(d, t) }).finally(() => progress.done());
  if (opts.json) printResult({ environment: r.env, files: r.files, copy: r.strategy, ...(r.existing ? { existing: true } : {}) });
  else if (r.existing) out(`Environment ${r.env.name} of project ${r.env.project} was created by another cilo command meanwhile; it is in ${r.env.workspace}`);
  else if (r.env.workspace_mode === 'in-place') out(`Created environment ${r.env.name} of project ${r.env.project} (${r.env.host ? `host ${r.env.host}, ` : ''}subnet ${r.env.subnet}) in place on ${r.env.workspace}: nothing copied, edits there are live`);
  else out(`Created environment ${r.env.name} of project ${r.env.project} (${r.env.host ? `host ${r.env.host}, ` : ''}subnet ${r.env.subnet}, ${r.files} files copied) in ${r.env.workspace}`);
}
