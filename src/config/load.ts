import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CiloError } from '../errors.js';
import { ineffectiveKeys, type ProjectConfig } from '../domain/project-config.js';
import { ProjectConfigSchema, describeIssue } from './schema.js';

export const CONFIG_RELATIVE_PATH = join('.cilo', 'config.yml');

const KNOWN_KEYS = Object.keys(ProjectConfigSchema.entries);

/**
 * Keys already warned about by this process: a command that reads the config twice (the
 * project's, then the workspace copy's) says it once.
 */
const warned = new Set<string>();

/**
 * A key left empty (`environments:`) is unset, as the original cilo's YAML reader took it;
 * only mappings are walked (the top level and `env`).
 */
function dropNulls(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(data as Record<string, unknown>)) {
    if (val === null) continue;
    out[k] = k === 'env' ? dropNulls(val) : val;
  }
  return out;
}

/**
 * Reads and validates `<dir>/.cilo/config.yml`; a missing file is an empty config. Keys that
 * cilo accepts from the original but does not act on are told to `warn`, once per process.
 */
export function loadProjectConfig(dir: string, warn?: (line: string) => void): ProjectConfig {
  const config = readProjectConfig(dir);
  if (warn) {
    for (const { key, why } of ineffectiveKeys(config)) {
      if (warned.has(key)) continue;
      warned.add(key);
      warn(`${join(dir, CONFIG_RELATIVE_PATH)}: ${why}.`);
    }
  }
  return config;
}

function readProjectConfig(dir: string): ProjectConfig {
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
  const r = v.safeParse(ProjectConfigSchema, dropNulls(data));
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
