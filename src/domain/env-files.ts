/**
 * Rules for a project's env files (`.cilo/config.yml` `env:`), applied to a workspace: which
 * files the copy policy removes, and how a render rule rewrites a file. Pure: paths and text in,
 * paths and text out.
 *
 * Env files are `.env`, `.env.*` and `*.env` at any depth. `copy_mode`: `all` (default) keeps
 * them, `none` removes them, `allowlist` keeps only those matching `copy`. `ignore` removes any
 * file it matches, env file or not. A pattern without `/` matches a file's name at any depth
 * (`*.env`); one with `/` matches its path from the project root (`config/*.env`).
 */
import { posix } from 'node:path';
import type { ProjectConfig } from './project-config.js';
import { CiloError } from '../errors.js';
import { compileGlob } from './glob.js';
import { expandTokens, type TokenContext } from './run-vars.js';

export type EnvConfig = NonNullable<ProjectConfig['env']>;
export type RenderRule = NonNullable<EnvConfig['render']>[number];

export function isEnvFileName(name: string): boolean {
  return name === '.env' || name.startsWith('.env.') || (name.endsWith('.env') && name.length > 4);
}

function matcher(patterns: readonly string[]): (rel: string) => boolean {
  const compiled = patterns
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => ({ g: compileGlob(p), byName: !p.replace(/^\.\//, '').includes('/') }));
  return (rel) => compiled.some(({ g, byName }) => g.matches(rel) || (byName && g.matches(posix.basename(rel))));
}

/** True when the policy keeps every file, so the workspace need not be walked. */
export function copyPolicyKeepsAll(cfg: EnvConfig | undefined): boolean {
  return (cfg?.copy_mode ?? 'all') === 'all' && (cfg?.ignore ?? []).length === 0;
}

/** The files (relative, `/`-separated) the policy removes from a workspace, in input order. */
export function filesToRemove(files: readonly string[], cfg: EnvConfig | undefined): string[] {
  if (copyPolicyKeepsAll(cfg)) return [];
  const mode = cfg?.copy_mode ?? 'all';
  const ignored = matcher(cfg?.ignore ?? []);
  const allowed = matcher(cfg?.copy ?? []);
  return files.filter((rel) => {
    if (ignored(rel)) return true;
    if (!isEnvFileName(posix.basename(rel))) return false;
    if (mode === 'none') return true;
    if (mode === 'allowlist') return !allowed(rel);
    return false;
  });
}

/**
 * A render rule's file as a clean relative path inside the workspace; rendering never touches
 * anything outside it (the project's own files are never modified).
 */
export function renderTarget(file: string, index: number): string {
  const rel = posix.normalize(file.trim().replace(/\\/g, '/')).replace(/^\.\//, '');
  if (rel === '' || rel === '.' || posix.isAbsolute(rel) || rel === '..' || rel.startsWith('../')) {
    throw new CiloError('CONFIG_INVALID', `.cilo/config.yml: key "env.render.${index}.file" must be a path inside the project, not "${file}".`, {
      hint: 'Give the env file relative to the project root, for example ".env".',
    });
  }
  return rel;
}

/** Applies one rule: each `replace` (tokens expanded in `from` and `to`), then the tokens if `tokens: true`. */
export function renderText(content: string, rule: RenderRule, ctx: TokenContext): string {
  let out = content;
  for (const r of rule.replace ?? []) {
    const from = expandTokens(r.from, ctx);
    if (from === '') continue;
    out = out.split(from).join(expandTokens(r.to, ctx));
  }
  if (rule.tokens) out = expandTokens(out, ctx);
  return out;
}
