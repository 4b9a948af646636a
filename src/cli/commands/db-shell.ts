import { runDbClient } from '../../core/datasets/db-client.js';
import { cliContext } from '../output/context.js';

export default async function dbShell(env: string, service: string | undefined, opts: { project?: string }): Promise<number> {
  // Without a terminal on stdin (`echo 'select 1' | cilo db shell ...`), the client reads the pipe.
  return runDbClient(cliContext(), { env, service, project: opts.project, action: 'shell', tty: process.stdin.isTTY === true });
}
