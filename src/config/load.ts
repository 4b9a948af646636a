import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CiloError } from '../errors.js';
import type { ProjectConfig } from '../domain/project-config.js';
import { ProjectConfigSchema, describeIssue } from './schema.js';

export const CONFIG_RELATIVE_PATH = join('.cilo', 'config.yml');

const KNOWN_KEYS = Object.keys(ProjectConfigSchema.entries);

/** Reads and validates `<dir>/.cilo/config.yml`; a missing file is an empty config. */
export function loadProjectConfig(dir: string): ProjectConfig {
  const file = join(dir, CONFIG_RELATIVE_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e);
    throw new CiloError('CONFIG_INVALID', `${file} is not valid YAML: ${msg}`, { hint: 'Fix the YAML syntax at the line shown.' });
  }
  if (data === null || data === undefined) return {};
  const r = v.safeParse(ProjectConfigSchema, data);
  if (r.success) return r.output;
  const issue = r.issues[0];
  if (!issue) throw new CiloError('CONFIG_INVALID', `${file} is invalid.`);
  const { key, expected, siblings } = describeIssue(issue);
  if (expected === 'no such key') {
    const last = key.split('.').pop() ?? key;
    const close = siblings.find((s) => s.startsWith(last.slice(0, 4)) || last.startsWith(s.slice(0, 4)));
    throw new CiloError('CONFIG_INVALID', `${file}: unknown key "${key}".`, {
      hint: `${close ? `Did you mean "${close}"? ` : ''}Allowed here: ${(siblings.length ? siblings : KNOWN_KEYS).join(', ')}.`,
    });
  }
  throw new CiloError('CONFIG_INVALID', `${file}: key "${key || '(top level)'}" must be ${expected}.`, {
    hint: 'Fix the value in the config file (see `cilo config --help`).',
  });
}
