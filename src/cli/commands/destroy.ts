import { destroyEach, destroyPlan, destroyTargets } from '../../core/environments/destroy.js';
import { CiloError, usageError } from '../../errors.js';
import { confirm } from '../output/confirm.js';
import { cliContext } from '../output/context.js';
import { out, printResult, warn } from '../output/print.js';

interface Options {
  all?: boolean;
  project?: string;
  force?: boolean;
  keepWorkspace?: boolean;
  forget?: boolean;
  json?: boolean;
}

export default async function destroy(env: string | undefined, opts: Options): Promise<void> {
  if (!env && !opts.all) throw usageError('Name the environment to destroy, or pass --all.', 'For example `cilo destroy agent-1`.');
  if (env && opts.all) throw usageError('Pass either an environment name or --all, not both.');
  const ctx = cliContext();
  const targets = destroyTargets(ctx, { env, all: opts.all, project: opts.project });
  if (targets.length === 0) {
    if (opts.json) printResult({ destroyed: [] });
    else out('No environments to destroy.');
    return;
  }
  const names = targets.map((t) => t.name).join(', ');
  if (!opts.force) {
    if (!process.stdin.isTTY) {
      throw new CiloError('NOT_CONFIRMED', `Refusing to destroy ${names} without confirmation: there is no terminal to ask.`, { hint: 'Pass --force to destroy without asking.', exitCode: 2 });
    }
    // Exactly what goes and what stays (private datasets are dropped, shared services released), as the dashboard says it.
    const plans = await Promise.all(targets.map((t) => destroyPlan(ctx, t, { keepWorkspace: opts.keepWorkspace }).catch(() => undefined)));
    const fallback = opts.keepWorkspace ? 'containers, volumes, network and private datasets' : 'containers, volumes, network, workspace and private datasets';
    const what = plans.every((p) => p !== undefined) ? `${plans.map((p) => p.text).join('\n')}\n` : '';
    if (!(await confirm(what ? `${what}Destroy ${names}?` : `Destroy ${names} (${fallback})?`))) {
      throw new CiloError('NOT_CONFIRMED', 'Nothing was destroyed.', { exitCode: 1 });
    }
  }
  const destroyed: { env: string; project: string; workspace: string; workspace_kept: boolean }[] = [];
  const failures = await destroyEach(ctx, targets, { keepWorkspace: opts.keepWorkspace, forget: opts.forget }, (t) => {
    const inPlace = t.workspace_mode === 'in-place';
    destroyed.push({ env: t.name, project: t.project, workspace: t.workspace, workspace_kept: opts.keepWorkspace === true || inPlace });
    if (!opts.json) out(`Destroyed environment ${t.name}${inPlace ? ` (it ran in place: ${t.workspace} is left as it is)` : opts.keepWorkspace ? ` (workspace kept at ${t.workspace})` : ''}.`);
  });
  if (failures.length === 0) {
    if (opts.json) printResult({ destroyed });
    return;
  }
  // One environment asked for by name: its own error, as it is.
  if (!opts.all && failures[0]) throw failures[0].error;
  for (const f of failures) warn(`could not destroy ${f.env}: ${describe(f.error)}`);
  throw new CiloError('DESTROY_INCOMPLETE', `${failures.length} of ${targets.length} environments could not be destroyed: ${failures.map((f) => f.env).join(', ')} (each reason is above); the others were.`, {
    hint: 'Fix what each reason names (e.g. `--forget` for a host that does not answer) and run the command again; `cilo doctor` shows what is left.',
  });
}

function describe(e: unknown): string {
  if (e instanceof CiloError) return e.hint ? `${e.message} (${e.hint})` : e.message;
  return e instanceof Error ? e.message : String(e);
}
