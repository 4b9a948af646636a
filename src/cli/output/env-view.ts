import type { EnvView } from '../../core/environments/environment-view.js';
import { problemsText } from '../../domain/liveness.js';
import { out, table } from './print.js';

/** `degraded: api exited with code 1`, or the status alone. */
export function statusText(view: Pick<EnvView, 'status' | 'problems'>): string {
  return view.problems.length > 0 ? `${view.status}: ${problemsText(view.problems)}` : view.status;
}

export function printServices(view: EnvView): void {
  // A scaled service shows every replica's address and state, in replica order.
  const ip = (s: EnvView['services'][number]): string => (s.replicas ? s.replicas.map((r) => r.ip || '-').join(',') : s.ip);
  const state = (s: EnvView['services'][number]): string => (s.replicas && new Set(s.replicas.map((r) => r.state)).size > 1 ? s.replicas.map((r) => r.state).join(',') : s.state);
  out(table(['NAME', 'TYPE', 'IP', 'URL', 'STATE'], view.services.map((s) => [s.name, s.type, ip(s), s.url, state(s)])));
}

export function printStatus(view: EnvView): void {
  out(`Environment: ${view.name}`);
  out(`Project:     ${view.project}`);
  out(`Status:      ${statusText(view)}`);
  if (view.host) out(`Host:        ${view.host}`);
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
