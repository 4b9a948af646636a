import { composeForEnv } from '../../core/environments/passthrough.js';
import { cliContext } from '../output/context.js';

export default async function compose(env: string, args: string[], opts: { project?: string }): Promise<number> {
  return composeForEnv(cliContext(), env, args.length > 0 ? args : ['ps'], opts.project);
}
