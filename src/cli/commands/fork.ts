import { forkEnvironment } from '../../core/copies/fork.js';
import { CiloError } from '../../errors.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface Options {
  fromSnapshot?: string;
  project?: string;
  up?: boolean;
  json?: boolean;
}

export default async function fork(first: string, second: string | undefined, opts: Options): Promise<void> {
  if (opts.fromSnapshot ? second !== undefined : second === undefined) {
    throw new CiloError('USAGE', opts.fromSnapshot ? 'With --from-snapshot, fork takes only the new environment\'s name.' : 'Fork needs the environment to copy and the new name.', {
      exitCode: 2,
      hint: 'Run `cilo fork <src> <new>` or `cilo fork --from-snapshot <name> <new>`.',
    });
  }
  const r = await forkEnvironment(cliContext(), { from: opts.fromSnapshot ? undefined : first, env: second ?? first, fromSnapshot: opts.fromSnapshot, project: opts.project, up: opts.up });
  if (opts.json) {
    const { env, up, ...rest } = r;
    printResult({ environment: env, ...rest, started: up !== null });
    return;
  }
  const source = r.snapshot ? `snapshot ${r.snapshot} of ${r.from}` : r.from;
  out(`Forked ${source} into ${r.env.name} (subnet ${r.env.subnet}, workspace ${r.env.workspace}, ${r.workspace.files} files, ${r.workspace.strategy}).`);
  for (const v of r.volumes) out(`  volume ${v.volume}: ${v.method} in ${(v.ms / 1000).toFixed(2)} s`);
  if (r.volumes.length > 0 && !r.snapshot) out(`  ${r.from} was frozen for ${(r.frozen_ms / 1000).toFixed(2)} s`);
  for (const d of r.datasets) out(`  dataset ${d.service}: ${d.from} -> ${d.name}: ${d.method} in ${(d.ms / 1000).toFixed(2)} s`);
  if (!r.up) out(`Start it with \`cilo up ${r.env.name}\`.`);
  else out(`Environment ${r.env.name} is up.`);
}
