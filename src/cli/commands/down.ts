import { downWithReport } from '../../core/environments/down.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

export default async function down(env: string, opts: { project?: string; pause?: boolean; json?: boolean }): Promise<void> {
  const { env: r, released_shared } = await downWithReport(cliContext(), { env, project: opts.project, pause: opts.pause });
  if (opts.json) {
    // What was stopped (or paused): the environment's own services; shared ones are released, not stopped.
    const services = Object.entries(r.services)
      .filter(([, s]) => s.type === 'isolated')
      .map(([name]) => name)
      .sort();
    printResult({ env: r.name, project: r.project, status: r.status, services, released_shared });
    return;
  }
  if (r.status === 'paused') {
    out(`Environment ${r.name} is paused; its containers keep their memory and \`cilo up ${r.name}\` resumes them.`);
  } else {
    out(`Environment ${r.name} is stopped; its containers, workspace, network and volumes are kept (\`cilo up ${r.name}\` starts it again).`);
  }
}
