import { assertService, logsOfEnvironment } from '../../core/environments/passthrough.js';
import { cliContext } from '../output/context.js';

interface Options {
  follow?: boolean;
  tail?: number;
  project?: string;
}

export default async function logs(env: string, service: string | undefined, opts: Options): Promise<number> {
  const ctx = cliContext();
  if (service) assertService(ctx, env, service);
  const args = ['logs'];
  if (opts.follow) args.push('--follow');
  if (opts.tail !== undefined) args.push('--tail', String(opts.tail));
  if (service) args.push(service);
  // compose marks every line with terminal codes (ESC[2K), even into a pipe: a reader that is not a terminal gets plain text.
  return logsOfEnvironment(ctx, env, args, { project: opts.project, follow: opts.follow, plainStdout: !process.stdout.isTTY });
}
