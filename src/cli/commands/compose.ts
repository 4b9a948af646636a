import { defaultContext } from '../../core/context.js';
import { composeForEnv } from '../../core/passthrough.js';

export default async function compose(env: string, args: string[]): Promise<number> {
  return composeForEnv(defaultContext(), env, args.length > 0 ? args : ['ps']);
}
