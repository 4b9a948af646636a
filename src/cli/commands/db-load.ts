import { runDbClient } from '../../core/datasets/db-client.js';
import { cliContext } from '../output/context.js';

export default async function dbLoad(env: string, service: string | undefined, opts: { project?: string }): Promise<number> {
  return runDbClient(cliContext(), { env, service, project: opts.project, action: 'load', tty: false });
}
