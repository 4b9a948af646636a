/**
 * A project's env files in an environment's workspace (`.cilo/config.yml` `env:`): the copy
 * policy at create, then at every `up` (and `cilo run`) the init hook and the render rules,
 * before compose resolves the model so that rendered `.env` values reach its interpolation.
 *
 * Only the workspace is touched. Nothing here prints a file's content or a hook's output: they
 * may hold secrets. Progress names paths and counts only.
 *
 * The init hook runs on the environment's first `up` and again whenever its command changes in
 * the config (it typically fetches secrets: slow, and needing credentials, so not on every up).
 *
 * Rendering is idempotent: the text a rule is applied to is the file as it was before cilo
 * rendered it, kept next to the generated compose file (outside the workspace), so a `replace`
 * whose `to` contains its `from` is applied once. A file the hook has just rewritten is rendered
 * from its new text; a file edited by hand since cilo rendered it is left as it is (the edit
 * already holds rendered values, and rendering it again could apply a replace twice).
 */
import * as v from 'valibot';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProjectConfig } from '../../domain/project-config.js';
import { filesToRemove, copyPolicyKeepsAll, renderTarget, renderText, type EnvConfig, type RenderRule } from '../../domain/env-files.js';
import { runVariables } from '../../domain/run-vars.js';
import { CiloError } from '../../errors.js';
import { generatedComposePath, type CiloPaths } from '../../state/paths.js';
import type { EnvironmentState } from '../../domain/state.js';
import { writeFileAtomic } from '../../files/atomic.js';
import { isInPlace } from '../../domain/workspace-mode.js';
import type { CoreContext } from '../context.js';

const HOOK_TIMEOUT_MS = 10 * 60 * 1000;

/** Relative paths (`/`-separated) of the files and symlinks below `root`, not inside `.git` or `.cilo`. */
async function listWorkspaceFiles(root: string, skipDir: (rel: string, name: string) => boolean = (_r, n) => n === '.git' || n === '.cilo'): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!skipDir(r, e.name)) await walk(r);
      } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/** Removes the env files the project's copy policy excludes from a fresh workspace; returns them (relative paths). */
export async function applyEnvCopyPolicy(ctx: CoreContext, workspace: string, cfg: EnvConfig | undefined): Promise<string[]> {
  if (copyPolicyKeepsAll(cfg)) return [];
  const remove = filesToRemove(await listWorkspaceFiles(workspace), cfg);
  for (const rel of remove) await unlink(join(workspace, rel));
  if (remove.length > 0) ctx.log(`Left out ${remove.length} env file(s) by the env copy policy (copy_mode ${cfg?.copy_mode ?? 'all'})`);
  return remove;
}

const BookkeepingSchema = v.object({
  hook_sha: v.optional(v.string()),
  files: v.optional(v.record(v.string(), v.object({ original: v.string(), rendered_sha: v.string() })), {}),
});
type Bookkeeping = v.InferOutput<typeof BookkeepingSchema>;

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function bookkeepingDir(paths: CiloPaths, env: Pick<EnvironmentState, 'project' | 'name'>): string {
  // Next to the generated compose file: private to CILO_HOME, removed by `destroy`.
  return join(dirname(generatedComposePath(paths, env.project, env.name)), 'env-files');
}

/**
 * What was rendered, from which original. Missing means nothing was rendered yet; a file that
 * cannot be read or is not what cilo wrote is reported, never taken as empty (which would run
 * the init hook again and render over the user's edits).
 */
function readBookkeeping(dir: string, envName: string): Bookkeeping {
  const file = join(dir, 'state.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { files: {} };
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const r = v.safeParse(BookkeepingSchema, data);
  if (r.success) return r.output;
  throw new CiloError('STATE_CORRUPT', `The env-file record ${file} of environment "${envName}" is damaged, so cilo cannot tell rendered files from edited ones.`, {
    hint: `Delete ${file} to start over: the init_hook runs again and the render rules are applied to the files as they are now.`,
  });
}

function saveBookkeeping(dir: string, b: Bookkeeping): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(b, null, 2)}\n`);
}

async function runInitHook(ctx: CoreContext, env: EnvironmentState, hook: string): Promise<void> {
  ctx.log(`Running the env init_hook of ${env.project} in ${env.name} (its output is not shown)`);
  const r = await ctx.proc.runHidden('sh', ['-c', hook], { cwd: env.workspace, env: { ...process.env, ...runVariables(env) }, timeoutMs: HOOK_TIMEOUT_MS });
  if (r.code === 0) return;
  const how = r.timedOut ? `did not finish within ${HOOK_TIMEOUT_MS / 60000} minutes` : r.code !== null ? `failed with exit code ${r.code}` : `was killed by ${r.signal ?? 'a signal'}`;
  throw new CiloError('HOOK_FAILED', `The env init_hook of project "${env.project}" ${how} in environment "${env.name}"; its output is not shown because it may contain secrets.`, {
    hint: `Run the init_hook of .cilo/config.yml by hand in ${env.workspace} to see what goes wrong.`,
  });
}

/** Writes text to a workspace file; a symlink is replaced by a file, so its target (maybe the project's own file) is never written. */
function writeWorkspaceFile(path: string, text: string): void {
  if (lstatSync(path).isSymbolicLink()) {
    unlinkSync(path);
    writeFileSync(path, text, { mode: 0o600 });
  } else writeFileSync(path, text);
}

/** Runs the init hook if due, then applies the render rules. Idempotent. */
export async function prepareEnvFiles(ctx: CoreContext, env: EnvironmentState, config: ProjectConfig): Promise<void> {
  const cfg = config.env;
  const hook = cfg?.init_hook?.trim() ?? '';
  const rules = cfg?.render ?? [];
  if (hook === '' && rules.length === 0) return;
  // In place the workspace is the user's own tree: cilo neither runs the hook there nor rewrites its files.
  if (isInPlace(env)) {
    throw new CiloError('WORKSPACE', `Environment "${env.name}" runs in place on ${env.workspace}, and its .cilo/config.yml has an env ${rules.length > 0 ? 'render rule' : 'init_hook'}, which would rewrite files of that tree.`, {
      hint: `Remove env.${rules.length > 0 ? 'render' : 'init_hook'} from .cilo/config.yml, or make a copy-mode environment of the tree (\`cilo fork ${env.name} <new>\`).`,
    });
  }
  const dir = bookkeepingDir(ctx.paths, env);
  const book = readBookkeeping(dir, env.name);

  let hookRan = false;
  if (hook !== '' && book.hook_sha !== sha(hook)) {
    await runInitHook(ctx, env, hook);
    hookRan = true;
    book.hook_sha = sha(hook);
    saveBookkeeping(dir, book);
  }

  // Rules for one file are applied in order, to that file's text before rendering.
  const byFile = new Map<string, RenderRule[]>();
  rules.forEach((rule, i) => {
    const rel = renderTarget(rule.file, i);
    byFile.set(rel, [...(byFile.get(rel) ?? []), rule]);
  });
  const tokens = { project: env.project, env: env.name, suffix: env.dns_suffix };
  let rendered = 0;
  for (const [rel, fileRules] of byFile) {
    const path = join(env.workspace, rel);
    let current: string;
    try {
      current = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        ctx.warn(`the env file ${rel} named by a render rule does not exist in ${env.name}; skipped`);
        continue;
      }
      throw e;
    }
    const entry = book.files[rel];
    const originalPath = join(dir, 'originals', sha(rel));
    let pristine = current;
    if (entry && entry.rendered_sha === sha(current) && existsSync(originalPath)) pristine = readFileSync(originalPath, 'utf8');
    else if (entry && !hookRan) {
      ctx.log(`Left ${rel} of ${env.name} as it was edited after rendering`);
      continue;
    } else {
      mkdirSync(dirname(originalPath), { recursive: true, mode: 0o700 });
      writeFileAtomic(originalPath, current);
    }
    const out = fileRules.reduce((text, rule) => renderText(text, rule, tokens), pristine);
    if (out !== current) {
      writeWorkspaceFile(path, out);
      rendered++;
    }
    book.files[rel] = { original: sha(rel), rendered_sha: sha(out) };
  }
  saveBookkeeping(dir, book);
  if (rendered > 0) ctx.log(`Rendered ${rendered} env file(s) of ${env.name}`);
}
