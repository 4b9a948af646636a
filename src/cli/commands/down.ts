import { downEnvironment } from '../../core/environments/down.js';
import { cliContext } from '../output/context.js';
import { out } from '../output/print.js';

export default async function down(env: string, opts: { project?: string; pause?: boolean }): Promise<void> {
  const r = await downEnvironment(cliContext(), { env, project: opts.project, pause: opts.pause });
  if (r.status === 'paused') {
    out(`Environment ${r.name} is paused; its containers keep their memory and \`cilo up ${r.name}\` resumes them.`);
  } else {
    out(`Environment ${r.name} is stopped; its containers, workspace, network and volumes are kept (\`cilo up ${r.name}\` starts it again).`);
  }
}
