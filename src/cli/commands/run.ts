import { runInEnvironment } from '../../core/environments/run.js';
import { cliContext } from '../output/context.js';
import { composeEcho, info } from '../output/print.js';

interface Options {
  from?: string;
  project?: string;
  up?: boolean;
  create?: boolean;
  autoName?: boolean;
  host?: string;
}

export default async function run(command: string, env: string, args: string[], opts: Options): Promise<number> {
  // cilo's own progress goes to stderr: the command's stdout stays the command's.
  const ctx = cliContext();
  const showCompose = composeEcho();
  return runInEnvironment(ctx, { command, env, args, from: opts.from, project: opts.project, up: opts.up, create: opts.create, onComposeOutput: showCompose,
    autoName: opts.autoName,
    host: opts.host,
    // The command's stdout is the command's: the chosen name goes to stderr.
    onEnvironment: opts.autoName ? (name) => info(`Environment: ${name}`) : undefined,
  });
}
