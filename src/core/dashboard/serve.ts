/**
 * `cilo ui`: the dashboard's server (core/ports.ts `DashboardServer`), fed by `dashboard()`,
 * in this process or in the background for this home.
 */
import type { UiInstance, UiStartResult, UiStopResult } from '../../ui/daemon.js';
import { isoNow, type CoreContext } from '../context.js';
import { dashboard, type DashboardScope } from './dashboard.js';

/** Starts `cilo ui` in the background for `scope` (a server already running for this home is kept). */
export function startDashboardInBackground(ctx: CoreContext, scope: DashboardScope, opts: { port?: number | undefined }): Promise<UiStartResult> {
  const args = [...(opts.port !== undefined ? ['--port', String(opts.port)] : []), ...(scope.project !== undefined ? ['--project', scope.project] : ['--all'])];
  return ctx.dashboard.startBackground(args);
}

export interface ServedDashboard {
  port: number;
  url: string;
  /** Stops the server (and removes the home's record of it, when this process is the background server). */
  close(): Promise<void>;
}

/**
 * Serves the dashboard of `scope` from this process on `port` (0: a free one). `instance` is the
 * start token of a background server (`--detach` passes it): the server records itself then,
 * which is how the starting command knows it is up.
 */
export async function serveDashboard(ctx: CoreContext, scope: DashboardScope, opts: { port: number; instance?: string | undefined }): Promise<ServedDashboard> {
  const server = await ctx.dashboard.serve({ port: opts.port, backend: dashboard(ctx, scope), log: ctx.warn });
  if (opts.instance) {
    await ctx.dashboard.record({ pid: process.pid, port: server.port, url: server.url, project: scope.project ?? null, start_token: opts.instance, started_at: isoNow(ctx) });
  }
  return {
    port: server.port,
    url: server.url,
    close: async () => {
      await server.close();
      if (opts.instance) await ctx.dashboard.forget(process.pid);
    },
  };
}

export function stopDashboard(ctx: CoreContext): Promise<UiStopResult> {
  return ctx.dashboard.stopBackground();
}

/** The home's background server and its log file, or null when none runs. */
export async function dashboardStatus(ctx: CoreContext): Promise<{ instance: UiInstance; log: string } | null> {
  const instance = await ctx.dashboard.running();
  return instance ? { instance, log: await ctx.dashboard.logFile() } : null;
}

/** Opens `url` in the person's browser; false when none could be started. */
export function openInBrowser(ctx: CoreContext, url: string): Promise<boolean> {
  return ctx.dashboard.openBrowser(url);
}
