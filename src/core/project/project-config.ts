/**
 * `cilo setup` (write a project's `.cilo/config.yml`) and `cilo config` (show the effective
 * configuration: the file's values with the defaults cilo applies).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import * as v from 'valibot';
import { Document } from 'yaml';
import { CONFIG_RELATIVE_PATH } from '../../config/load.js';
import { ProjectConfigSchema } from '../../config/schema.js';
import { ineffectiveKeys, type ProjectConfig } from '../../domain/project-config.js';
import { isValidSuffix, normalizeSuffix, toValidName } from '../../domain/names.js';
import { CiloError } from '../../errors.js';
import type { State } from '../../domain/state.js';
import { readState } from '../../state/store.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { OVERRIDE_FILE_NAMES } from './compose-files.js';
import { COMPOSE_FILE_NAMES, environmentSuffix, resolveProject, resolveProjectDir } from './project.js';

/** The compose files compose itself would pick in `dir`: the first standard name, plus its override file. */
function detectComposeFiles(dir: string): string[] {
  const main = COMPOSE_FILE_NAMES.find((f) => existsSync(join(dir, f)));
  if (!main) return [];
  const override = OVERRIDE_FILE_NAMES.find((f) => existsSync(join(dir, f)));
  return override ? [main, override] : [main];
}

function validateSuffix(raw: string): string {
  const s = normalizeSuffix(raw);
  if (!isValidSuffix(s)) {
    throw new CiloError('USAGE', `Invalid DNS suffix "${raw}": it must be dot-separated labels of lowercase letters, digits and "-", such as ".test".`, {
      hint: 'Use a suffix reserved for local use, such as .test or .localhost.',
      exitCode: 2,
    });
  }
  return s;
}

/** A path given on the command line, as the config stores it: relative to the project, inside it. */
function projectRelative(dir: string, file: string, what: string): string {
  const abs = isAbsolute(file) ? file : resolve(dir, file);
  const rel = relative(dir, abs).split('\\').join('/');
  if (rel === '' || rel.startsWith('../') || rel === '..' || isAbsolute(rel)) {
    throw new CiloError('USAGE', `The ${what} ${file} is not inside the project directory ${dir}.`, { hint: 'Give a path inside the project: the workspace is a copy of it.', exitCode: 2 });
  }
  return rel;
}

export interface SetupInput {
  dir?: string | undefined;
  name?: string | undefined;
  compose?: string[] | undefined;
  envFile?: string[] | undefined;
  dnsSuffix?: string | undefined;
  defaultEnv?: string | undefined;
  force?: boolean | undefined;
  /** The original's `setup --build-tool`: accepted, not written (cilo always runs `docker compose`). */
  buildTool?: string | undefined;
}

export interface SetupResult {
  file: string;
  config: ProjectConfig;
  /** Env files that do not exist yet (an init_hook may write them). */
  missing_env_files: string[];
  replaced: boolean;
  /** What was accepted but has no effect (`--build-tool podman`), one sentence each. */
  warnings: string[];
}

/** Writes `.cilo/config.yml`; validates everything first, so a refusal writes nothing. */
export function setupProject(input: SetupInput): SetupResult {
  const dir = resolveProjectDir(input.dir);
  const file = join(dir, CONFIG_RELATIVE_PATH);
  const exists = existsSync(file);
  if (exists && !input.force) {
    throw new CiloError('CONFIG_EXISTS', `${file} already exists.`, { hint: 'Pass --force to replace it, or edit it by hand (`cilo config` shows it).' });
  }
  const project = toValidName(input.name ?? basename(dir), 'project');
  let compose: string[];
  if (input.compose && input.compose.length > 0) {
    compose = input.compose.map((f) => projectRelative(dir, f, 'compose file'));
    const missing = compose.filter((f) => !statSafe(join(dir, f)));
    if (missing.length > 0) {
      throw new CiloError('NO_COMPOSE_FILE', `The compose file ${missing.join(', ')} does not exist in ${dir}.`, { hint: 'Pass --compose with an existing file, or leave it out to detect compose.yaml and the like.', exitCode: 2 });
    }
  } else {
    compose = detectComposeFiles(dir);
    if (compose.length === 0) {
      throw new CiloError('NO_COMPOSE_FILE', `No compose file (${COMPOSE_FILE_NAMES.join(', ')}) in ${dir}.`, { hint: 'Run `cilo setup` in your compose project, or pass --compose FILE.', exitCode: 2 });
    }
  }
  const envFiles = (input.envFile ?? []).map((f) => projectRelative(dir, f, 'env file'));
  const config: ProjectConfig = { project, compose_files: compose };
  if (envFiles.length > 0) config.env_files = envFiles;
  if (input.dnsSuffix !== undefined) config.dns_suffix = validateSuffix(input.dnsSuffix);
  if (input.defaultEnv !== undefined) config.default_environment = toValidName(input.defaultEnv, 'environment');
  v.parse(ProjectConfigSchema, config);
  // The same rule as the config key: docker is what cilo does anyway, another tool is worth a word.
  const warnings = ineffectiveKeys({ build_tool: input.buildTool }).map(() => `cilo always runs \`docker compose\`, so "--build-tool ${input.buildTool ?? ''}" has no effect (nothing about it is written to ${CONFIG_RELATIVE_PATH}).`);

  const doc = new Document(config);
  doc.commentBefore = ' cilo project configuration (see `cilo config --help`). Written by `cilo setup`.';
  mkdirSync(join(dir, '.cilo'), { recursive: true });
  writeFileAtomic(file, doc.toString({ lineWidth: 0 }), 0o644);
  return { file, config, missing_env_files: envFiles.filter((f) => !statSafe(join(dir, f))), replaced: exists, warnings };
}

function statSafe(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface EffectiveConfig {
  dir: string;
  config_file: string;
  config_exists: boolean;
  project: string;
  compose_files: string[];
  /** `config` when listed in the file, `detected` when found by compose's own file names. */
  compose_files_source: 'config' | 'detected';
  env_files: string[];
  dns_suffix: string;
  default_environment: string | null;
  default_ingress_service: string | null;
  hostnames: string[];
  copy_dot_dirs: string[];
  ignore_dot_dirs: string[];
  shared_grace_period: number | string | null;
  env: {
    copy_mode: 'all' | 'none' | 'allowlist';
    copy: string[];
    ignore: string[];
    init_hook: string | null;
    render: { file: string; tokens: boolean; replace: { from: string; to: string }[] }[];
  };
}

/** The home's defaults for a project (`cilo init --dns-suffix`); none when its state cannot be read (config shows the file regardless). */
function homeDefaults(): Pick<State, 'dns_suffix'> {
  try {
    return readState();
  } catch {
    return {};
  }
}

/** The configuration cilo uses for the project in `dir` (validated; defaults filled in). */
export function effectiveConfig(input: { dir?: string | undefined; project?: string | undefined; warn?: ((line: string) => void) | undefined; home?: Pick<State, 'dns_suffix'> | undefined }): EffectiveConfig {
  const dir = resolveProjectDir(input.dir);
  const p = resolveProject(dir, input.project, input.warn);
  const c = p.config;
  const listed = c.compose_files && c.compose_files.length > 0;
  return {
    dir,
    config_file: join(dir, CONFIG_RELATIVE_PATH),
    config_exists: existsSync(join(dir, CONFIG_RELATIVE_PATH)),
    project: p.name,
    compose_files: listed ? (c.compose_files ?? []) : detectComposeFiles(dir),
    compose_files_source: listed ? 'config' : 'detected',
    env_files: c.env_files ?? [],
    dns_suffix: environmentSuffix(p, input.home ?? homeDefaults()),
    default_environment: c.default_environment ?? null,
    default_ingress_service: c.default_ingress_service ?? null,
    hostnames: c.hostnames ?? [],
    copy_dot_dirs: c.copy_dot_dirs ?? [],
    ignore_dot_dirs: c.ignore_dot_dirs ?? [],
    shared_grace_period: c.shared_grace_period ?? null,
    env: {
      copy_mode: c.env?.copy_mode ?? 'all',
      copy: c.env?.copy ?? [],
      ignore: c.env?.ignore ?? [],
      init_hook: c.env?.init_hook ?? null,
      render: (c.env?.render ?? []).map((r) => ({ file: r.file, tokens: r.tokens === true, replace: r.replace ?? [] })),
    },
  };
}
