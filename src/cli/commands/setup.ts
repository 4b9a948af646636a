import { setupProject } from '../../core/project/project-config.js';
import { out, printResult, warn } from '../output/print.js';

interface Options {
  name?: string;
  compose?: string[];
  envFile?: string[];
  dnsSuffix?: string;
  defaultEnv?: string;
  force?: boolean;
  buildTool?: string;
  json?: boolean;
}

export default async function setup(opts: Options): Promise<void> {
  const r = setupProject({ name: opts.name, compose: opts.compose, envFile: opts.envFile, dnsSuffix: opts.dnsSuffix, defaultEnv: opts.defaultEnv, force: opts.force, buildTool: opts.buildTool });
  for (const w of r.warnings) warn(w);
  for (const f of r.missing_env_files) warn(`the env file ${f} does not exist yet; compose needs it by the time you run \`cilo up\`.`);
  if (opts.json) {
    printResult(r);
    return;
  }
  out(`${r.replaced ? 'Replaced' : 'Wrote'} ${r.file} for project ${r.config.project} (compose files: ${(r.config.compose_files ?? []).join(', ')}).`);
  out(`Next: \`cilo up <env>\` in this directory.`);
}
