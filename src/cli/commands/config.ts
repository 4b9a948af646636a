import { stringify } from 'yaml';
import { effectiveConfig } from '../../core/project-config.js';
import { out, printJson, printTable, warn } from '../output/print.js';

interface Options {
  from?: string;
  project?: string;
  format?: 'table' | 'yaml' | 'json';
  json?: boolean;
}

const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.join(', '));

export default async function config(opts: Options): Promise<void> {
  const c = effectiveConfig({ dir: opts.from, project: opts.project, warn });
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (format === 'json') {
    printJson(c);
    return;
  }
  if (format === 'yaml') {
    process.stdout.write(stringify(c, { lineWidth: 0 }));
    return;
  }
  printTable(
    ['KEY', 'VALUE'],
    [
      ['project', c.project],
      ['directory', c.dir],
      ['config file', `${c.config_file}${c.config_exists ? '' : ' (none: defaults)'}`],
      ['compose_files', `${list(c.compose_files)} (${c.compose_files_source})`],
      ['env_files', list(c.env_files)],
      ['dns_suffix', c.dns_suffix],
      ['default_environment', c.default_environment ?? '-'],
      ['default_ingress_service', c.default_ingress_service ?? '-'],
      ['hostnames', list(c.hostnames)],
      ['copy_dot_dirs', list(c.copy_dot_dirs)],
      ['ignore_dot_dirs', list(c.ignore_dot_dirs)],
      ['shared_grace_period', c.shared_grace_period === null ? '-' : String(c.shared_grace_period)],
      ['env.copy_mode', c.env.copy_mode],
      ['env.copy', list(c.env.copy)],
      ['env.ignore', list(c.env.ignore)],
      ['env.init_hook', c.env.init_hook ?? '-'],
      ['env.render', c.env.render.length === 0 ? '-' : c.env.render.map((r) => `${r.file}${r.tokens ? ' (tokens)' : ''}${r.replace.length ? ` (${r.replace.length} replace)` : ''}`).join(', ')],
    ],
  );
}
