import { downEnvironment } from '../../core/down.js';
import { cliContext, out } from '../output/print.js';

export default async function down(env: string, opts: { project?: string }): Promise<void> {
  const r = await downEnvironment(cliContext(), { env, project: opts.project });
  out(`Environment ${r.name} is stopped; its containers, workspace, network and volumes are kept (\`cilo up ${r.name}\` starts it again).`);
}
