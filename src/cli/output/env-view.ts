import { formatIdlePause } from '../../domain/idle.js';
import type { EnvView } from '../../core/environments/environment-view.js';
import { problemsText } from '../../domain/liveness.js';
import { out, table } from './print.js';

/** `degraded: api exited with code 1`, or the status alone. */
export function statusText(view: Pick<EnvView, 'status' | 'problems' | 'paused_by' | 'paused_at'>): string {
  if (view.status === 'paused' && view.paused_by === 'idle') return `paused (idle)${sinceText(view.paused_at)}`;
  return view.problems.length > 0 ? `${view.status}: ${problemsText(view.problems)}` : view.status;
}

/** ` since 14:03` today, ` since 2026-12-06 14:03` before; empty without a time. Local time, as a person reads a clock. */
function sinceText(at: string | undefined): string {
  const when = at === undefined ? NaN : Date.parse(at);
  if (Number.isNaN(when)) return '';
  const d = new Date(when);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const now = new Date();
  const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return ` since ${day === today ? '' : `${day} `}${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function printServices(view: EnvView): void {
  // A scaled service shows every replica's address and state, in replica order.
  const ip = (s: EnvView['services'][number]): string => (s.replicas ? s.replicas.map((r) => r.ip || '-').join(',') : s.ip);
  const state = (s: EnvView['services'][number]): string => (s.replicas && new Set(s.replicas.map((r) => r.state)).size > 1 ? s.replicas.map((r) => r.state).join(',') : s.state);
  // Router mode: a service the router does not serve (a database) has no URL here; its ports on 127.0.0.1 say how to reach it.
  const url = (s: EnvView['services'][number]): string => (view.routing === 'router' && s.urls.http === null ? '-' : s.url);
  const ports = (s: EnvView['services'][number]): string => Object.entries(s.host_ports ?? {}).map(([inner, outer]) => `127.0.0.1:${outer}->${inner}`).join(', ') || '-';
  const withPorts = view.services.some((s) => s.host_ports !== undefined);
  const headers = ['NAME', 'TYPE', 'IP', 'URL', ...(withPorts ? ['HOST PORTS'] : []), 'STATE'];
  out(table(headers, view.services.map((s) => [s.name, s.type, ip(s), url(s), ...(withPorts ? [ports(s)] : []), state(s)])));
}

export function printStatus(view: EnvView): void {
  out(`Environment: ${view.name}`);
  out(`Project:     ${view.project}`);
  out(`Status:      ${statusText(view)}`);
  if (view.host) out(`Host:        ${view.host}`);
  if (view.idle_pause_seconds !== undefined) out(`Idle pause:  ${formatIdlePause(view.idle_pause_seconds)} (paused when unused that long; its next use wakes it)`);
  out(`Subnet:      ${view.subnet} (network ${view.network})`);
  if (view.url) out(`URL:         ${view.url}`);
  // Router mode: the same names over HTTPS too, through the router on 127.0.0.1.
  if (view.urls.https) out(`HTTPS:       ${view.urls.https}`);
  if (view.routing === 'router') out('Routing:     router (names answer 127.0.0.1 on this machine)');
  out(`Source:      ${view.source}`);
  out(`Workspace:   ${view.workspace}${view.workspace_mode === 'in-place' ? ' (in place: the source itself, edits are live)' : ' (copy)'}`);
  if (view.last_error) out(`Last error:  ${view.last_error}`);
  out('');
  if (view.services.length === 0) out('No services yet: run `cilo up ' + view.name + '`.');
  else printServices(view);
  for (const d of view.datasets ?? []) {
    out('');
    out(`Dataset of ${d.service} (${d.engine} ${d.kind}): ${d.name}${d.status === 'ready' ? '' : ` [${d.status}]`}`);
    for (const r of d.rewrites) out(`  ${r.service}.${r.variable}: ${r.from} → ${r.to}`);
  }
}
