import { liveView } from '../../core/environments/environment-view.js';
import { findEnvironment } from '../../core/environments/find.js';
import { manifestOfEnvironment } from '../../core/agents/manifest.js';
import { printStatus } from '../output/env-view.js';
import { cliContext } from '../output/context.js';
import { printJson } from '../output/print.js';

export default async function status(env: string, opts: { project?: string; json?: boolean; showSecrets?: boolean }): Promise<void> {
  const ctx = cliContext();
  const rec = findEnvironment(env, opts.project, ctx.paths);
  if (opts.json) printJson(await manifestOfEnvironment(ctx, rec, { showSecrets: opts.showSecrets }));
  else printStatus(await liveView(ctx, rec));
}
