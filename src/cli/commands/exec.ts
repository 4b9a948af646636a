import { assertService, composeForEnv } from '../../core/passthrough.js';
import { cliContext } from '../output/context.js';

export default async function exec(env: string, service: string, command: string[], opts: { project?: string }): Promise<number> {
  const ctx = cliContext();
  assertService(ctx, env, service);
  // Without a terminal on stdin, compose must not try to allocate one.
  const args = ['exec', ...(process.stdin.isTTY ? [] : ['-T']), service, ...(command.length > 0 ? command : ['sh'])];
  return composeForEnv(ctx, env, args, opts.project);
}
