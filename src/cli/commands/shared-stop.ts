import { stopShared } from '../../core/shared/shared.js';
import { sharedProjectOf } from '../../core/shared/shared-view.js';
import { knownHost } from '../../core/hosts/hosts.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

export default async function sharedStop(service: string, opts: { project?: string; force?: boolean; host?: string; json?: boolean }): Promise<void> {
  const ctx = cliContext();
  const project = sharedProjectOf(ctx, service, opts.project);
  const r = await stopShared(ctx, { service, project, force: opts.force, host: opts.host === undefined ? undefined : knownHost(ctx, opts.host) });
  if (opts.json) printResult({ service, project, host: opts.host ?? null, detached: r.detached });
  else out(`Stopped shared service ${service} of project ${project}${r.detached.length ? `; detached from ${r.detached.join(', ')}` : ''}. Its volumes are kept.`);
}
