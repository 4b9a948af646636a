import { dashboardScope } from '../../core/dashboard/dashboard.js';
import { dashboardStatus, openInBrowser, serveDashboard, startDashboardInBackground, stopDashboard } from '../../core/dashboard/serve.js';
import type { CoreContext } from '../../core/context.js';
import { usageError } from '../../errors.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printResult, warn } from '../output/print.js';

interface Options {
  port?: number;
  open?: boolean;
  project?: string;
  all?: boolean;
  detach?: boolean;
  json?: boolean;
  /** Set by `--detach` on the background process it starts. */
  instance?: string;
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function openOrSay(ctx: CoreContext, url: string): Promise<void> {
  if (!(await openInBrowser(ctx, url))) warn('Could not start a browser (xdg-open/open); open the URL yourself.');
}

export default async function ui(opts: Options): Promise<void> {
  if (opts.port !== undefined && opts.port > 65535) throw usageError(`--port ${opts.port} is not a TCP port.`, 'Pass a port from 1 to 65535, or leave --port out to use a free one.');
  const ctx = cliContext();
  // The scope is settled here, so a background server does not depend on its working directory.
  const scope = await dashboardScope({ project: opts.project, all: opts.all, cwd: process.cwd() });
  if (opts.detach) {
    const r = await startDashboardInBackground(ctx, scope, { port: opts.port });
    // Under --json the browser is opened first: a failure to is a warning of the document.
    if (opts.json) {
      if (opts.open) await openOrSay(ctx, r.instance.url);
      printResult({ started: r.started, pid: r.instance.pid, port: r.instance.port, url: r.instance.url, log: r.log });
      return;
    }
    out(`cilo ui ${r.started ? 'started' : 'already running'} (pid ${r.instance.pid}): ${r.instance.url}\nStop it with \`cilo ui stop\`.`);
    if (opts.open) await openOrSay(ctx, r.instance.url);
    return;
  }
  const server = await serveDashboard(ctx, scope, { port: opts.port ?? 0, instance: opts.instance });
  if (opts.json) {
    if (opts.open) await openOrSay(ctx, server.url);
    printResult({ pid: process.pid, port: server.port, url: server.url });
  } else {
    out(`cilo ui: ${server.url}\n(${scope.project ? `project ${scope.project}` : 'all projects'}; Ctrl-C stops it)`);
    if (opts.open) await openOrSay(ctx, server.url);
  }
  await untilSignal();
  await server.close();
}

export async function stop(opts: { json?: boolean }): Promise<void> {
  const r = await stopDashboard(cliContext());
  if (opts.json) printResult(r);
  else out(r.stopped ? `cilo ui stopped (pid ${r.pid}).` : 'cilo ui was not running.');
}

export async function status(opts: { json?: boolean }): Promise<number> {
  const running = await dashboardStatus(cliContext());
  const inst = running?.instance;
  if (opts.json) printJson(inst ? { running: true, pid: inst.pid, port: inst.port, url: inst.url, project: inst.project, log: running?.log } : { running: false });
  else out(inst ? `cilo ui runs (pid ${inst.pid}, ${inst.project ? `project ${inst.project}` : 'all projects'}): ${inst.url}` : 'cilo ui is not running in the background.');
  return inst ? 0 : 1;
}
