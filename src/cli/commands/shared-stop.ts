import { stopShared } from '../../core/shared.js';
import { sharedProjectOf } from '../../core/shared-view.js';
import { cliContext } from '../output/context.js';
import { out } from '../output/print.js';

export default async function sharedStop(service: string, opts: { project?: string; force?: boolean }): Promise<void> {
  const ctx = cliContext();
  const project = sharedProjectOf(ctx, service, opts.project);
  const r = await stopShared(ctx, { service, project, force: opts.force });
  out(`Stopped shared service ${service} of project ${project}${r.detached.length ? `; detached from ${r.detached.join(', ')}` : ''}. Its volumes are kept.`);
}
