import { findEnvironment } from '../../core/environments/find.js';
import { out } from '../output/print.js';

export default async function path(env: string, opts: { project?: string }): Promise<void> {
  out(findEnvironment(env, opts.project).workspace);
}
