import { liveView } from '../../core/environments/environment-view.js';
import { manifestOfEnvironment } from '../../core/agents/manifest.js';
import { upEnvironment } from '../../core/environments/up.js';
import { printServices } from '../output/env-view.js';
import { cliContext } from '../output/context.js';
import { composeEcho, out, printResult, recordWarning } from '../output/print.js';
import { createProgressView } from '../output/progress-view.js';
import { workspaceFlag } from '../options.js';

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
  inPlace?: boolean;
  copy?: boolean;
  /** `--wait-for-capacity` alone is true: the default wait. */
  waitForCapacity?: number | true;
  /** `--idle-pause DURATION` (checked by up before anything is made). */
  idlePause?: string;
}

/** How long `--wait-for-capacity` without SECONDS waits for room. */
const DEFAULT_CAPACITY_WAIT = 600;

export default async function up(env: string, opts: Options): Promise<void> {
  // Progress on stderr always (with --json too: stdout is the document alone): a live view on a
  // terminal, one plain line per step elsewhere (progress-view.ts).
  const view = createProgressView();
  const warn = (line: string): void => {
    recordWarning(line);
    view.warn(line);
  };
  const ctx = cliContext({ log: view.log, warn, progress: view.event });
  const showCompose = composeEcho() ? view.compose : undefined;
  const r = await upEnvironment(ctx, { env, ...opts, profiles: opts.profile, workspace: workspaceFlag(opts), timeoutSeconds: opts.timeout, waitForCapacity: opts.waitForCapacity === true ? DEFAULT_CAPACITY_WAIT : opts.waitForCapacity, onComposeOutput: showCompose }).finally(() => view.close());
  if (opts.json) {
    printResult(await manifestOfEnvironment(ctx, r.env, { timings: r.timings, showSecrets: opts.showSecrets }));
    return;
  }
  const liveState = await liveView(ctx, r.env);
  out(`Environment ${liveState.name} is up${liveState.url ? `: ${liveState.url}` : '.'}`);
  printServices(liveState);
}
