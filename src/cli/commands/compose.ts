import { composeForEnv } from '../../core/environments/passthrough.js';
import { cliContext } from '../output/context.js';
import { takeComposeProject } from '../pass-through.js';

export default async function compose(env: string, args: string[], opts: { project?: string }): Promise<number> {
  // cilo's --project may also stand among compose's arguments, as the original's usage writes it.
  const own = takeComposeProject(args, opts.project);
  return composeForEnv(cliContext(), env, own.args.length > 0 ? own.args : ['ps'], own.project);
}
