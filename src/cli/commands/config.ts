import { Document } from 'yaml';
import type { ProjectConfig } from '../../domain/project-config.js';
import { effectiveConfig, type EffectiveConfig } from '../../core/project/project-config.js';
import { outText, printJson, printTable, warn } from '../output/print.js';

interface Options {
  from?: string;
  project?: string;
  format?: 'table' | 'yaml' | 'json';
  json?: boolean;
}

const list = (xs: readonly string[]): string => (xs.length === 0 ? '-' : xs.join(', '));

/**
 * The effective configuration as a `.cilo/config.yml` that cilo accepts: its own keys only, unset
 * ones left out (the validator refuses null), where it was read from as a comment.
 */
function configFile(c: EffectiveConfig): Document {
  const file: ProjectConfig = { project: c.project, compose_files: c.compose_files };
  if (c.env_files.length > 0) file.env_files = c.env_files;
  file.dns_suffix = c.dns_suffix;
  if (c.default_environment !== null) file.default_environment = c.default_environment;
  if (c.default_ingress_service !== null) file.default_ingress_service = c.default_ingress_service;
  if (c.hostnames.length > 0) file.hostnames = c.hostnames;
  if (c.copy_dot_dirs.length > 0) file.copy_dot_dirs = c.copy_dot_dirs;
  if (c.ignore_dot_dirs.length > 0) file.ignore_dot_dirs = c.ignore_dot_dirs;
  if (c.shared_grace_period !== null) file.shared_grace_period = c.shared_grace_period;
  const { init_hook, ...env } = c.env;
  file.env = init_hook === null ? env : { ...env, init_hook };
  const doc = new Document(file);
  const source = c.config_exists ? `read from ${c.config_file}` : `defaults: ${c.config_file} does not exist`;
  doc.commentBefore = ` Effective cilo configuration of ${c.dir} (${source}; compose_files ${c.compose_files_source}).`;
  return doc;
}

export default async function config(opts: Options): Promise<void> {
  const c = effectiveConfig({ dir: opts.from, project: opts.project, warn });
  const format = opts.json ? 'json' : (opts.format ?? 'table');
  if (format === 'json') {
    printJson(c);
    return;
  }
  if (format === 'yaml') {
    outText(configFile(c).toString({ lineWidth: 0 }));
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
