import { defaultContext } from '../../core/context.js';
import { downEnvironment } from '../../core/down.js';
import { info, out } from '../output/print.js';

export default async function down(env: string, opts: { project?: string }): Promise<void> {
  const r = await downEnvironment(defaultContext({ log: info }), { env, project: opts.project });
  out(`Environment ${r.name} is stopped; its containers, workspace, network and volumes are kept (\`cilo up ${r.name}\` starts it again).`);
}
