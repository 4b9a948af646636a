import { resetEnvironmentDatasets } from '../../core/datasets/db.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

export default async function dbReset(env: string, service: string | undefined, opts: { project?: string; json?: boolean }): Promise<void> {
  const reset = await resetEnvironmentDatasets(cliContext(), { env, service, project: opts.project });
  if (opts.json) printResult({ env, reset });
  else for (const r of reset) out(`Dataset ${r.name} of ${r.service} is back to ${r.template ? `the seed (${r.template})` : 'empty'}.`);
}
