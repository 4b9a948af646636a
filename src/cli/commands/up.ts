import { liveView } from '../../core/environments/environment-view.js';
import { manifestOfEnvironment } from '../../core/agents/manifest.js';
import { upEnvironment } from '../../core/environments/up.js';
import { printServices } from '../output/env-view.js';
import { cliContext } from '../output/context.js';
import { composeEcho, out, printResult } from '../output/print.js';

interface Options {
  from?: string;
  project?: string;
  build?: boolean;
  recreate?: boolean;
  timeout?: number;
  profile?: string[];
  autoName?: boolean;
  json?: boolean;
  showSecrets?: boolean;
  host?: string;
}

export default async function up(env: string, opts: Options): Promise<void> {
  const ctx = cliContext();
  const showCompose = composeEcho();
  const r = await upEnvironment(ctx, { env, ...opts, profiles: opts.profile, timeoutSeconds: opts.timeout, onComposeOutput: showCompose });
  if (opts.json) {
    printResult(await manifestOfEnvironment(ctx, r.env, { timings: r.timings, showSecrets: opts.showSecrets }));
    return;
  }
  const view = await liveView(ctx, r.env);
  out(`Environment ${view.name} is up${view.url ? `: ${view.url}` : '.'}`);
  printServices(view);
}
