import { findEnv } from '../../core/environments/lookup.js';
import { readState } from '../../state/store.js';
import { out } from '../output/print.js';

export default async function path(env: string, opts: { project?: string }): Promise<void> {
  out(findEnv(readState(), env, opts.project).workspace);
}
