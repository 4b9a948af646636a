import { destroyEnvironment, destroyPlan, destroyTargets } from '../../core/destroy.js';
import { CiloError, usageError } from '../../errors.js';
import { confirm } from '../output/confirm.js';
import { cliContext } from '../output/context.js';
import { out } from '../output/print.js';

interface Options {
  all?: boolean;
  project?: string;
  force?: boolean;
  keepWorkspace?: boolean;
  forget?: boolean;
}

export default async function destroy(env: string | undefined, opts: Options): Promise<void> {
  if (!env && !opts.all) throw usageError('Name the environment to destroy, or pass --all.', 'For example `cilo destroy agent-1`.');
  if (env && opts.all) throw usageError('Pass either an environment name or --all, not both.');
  const ctx = cliContext();
  const targets = destroyTargets(ctx, { env, all: opts.all, project: opts.project });
  if (targets.length === 0) {
    out('No environments to destroy.');
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
  for (const t of targets) {
    await destroyEnvironment(ctx, t, { keepWorkspace: opts.keepWorkspace, forget: opts.forget });
    out(`Destroyed environment ${t.name}${opts.keepWorkspace ? ` (workspace kept at ${t.workspace})` : ''}.`);
  }
}
