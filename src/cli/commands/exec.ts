import { assertService, execInEnvironment } from '../../core/environments/passthrough.js';
import { cliContext } from '../output/context.js';

interface Options {
  project?: string;
  tty?: boolean;
  interactive?: boolean;
}

export default async function exec(env: string, service: string, command: string[], opts: Options): Promise<number> {
  const ctx = cliContext();
  assertService(ctx, env, service);
  const args = ['exec'];
  // Without a terminal on stdin, compose must not try to allocate one.
  if (opts.tty === false || !process.stdin.isTTY) args.push('-T');
  if (opts.interactive === false) args.push('--interactive=false');
  args.push(service, ...(command.length > 0 ? command : ['sh']));
  // A use of the environment: an idle-paused one is woken first (issue #26).
  return execInEnvironment(ctx, env, args, opts.project, service);
}
