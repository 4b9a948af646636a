import { diffEnvironment, mergeEnvironment } from '../../core/diff.js';
import { cliContext } from '../output/context.js';
import { info, out, printJson } from '../output/print.js';

interface Options {
  project?: string;
  json?: boolean;
  ffOnly?: boolean;
}

export async function diff(env: string, opts: Options): Promise<void> {
  const r = await diffEnvironment(cliContext(), { env, project: opts.project });
  if (opts.json) {
    printJson(r);
    return;
  }
  out(`Environment ${r.env}: ${r.workspace}`);
  out(`Source:      ${r.source}`);
  if (r.kind === 'git') {
    out('');
    if (r.commits.length === 0) out(`No commits in the workspace${r.branch ? ` (branch ${r.branch})` : ''} that the source does not have.`);
    else {
      out(`${r.commits.length} commit(s) in the workspace${r.branch ? ` (branch ${r.branch})` : ''} that the source${r.source_branch ? ` (branch ${r.source_branch})` : ''} does not have:`);
      for (const c of r.commits) out(`  ${c.sha.slice(0, 12)} ${c.subject}`);
    }
    if (r.behind > 0) out(`The source has ${r.behind} commit(s) the workspace does not have.`);
    out('');
    if (r.uncommitted.length === 0) out('No uncommitted changes in the workspace.');
    else {
      out(`${r.uncommitted.length} uncommitted change(s) in the workspace:`);
      for (const e of r.uncommitted) out(`  ${e.status} ${e.from ? `${e.from} -> ` : ''}${e.path}`);
      if (r.stat) out(r.stat.replace(/^/gm, '  '));
    }
    if (r.commits.length > 0) {
      out('');
      out(`Run \`cilo merge ${r.env}\` to bring the commits into the source.`);
    }
    return;
  }
  const total = r.added.length + r.changed.length + r.removed.length;
  out('');
  if (total === 0) out('No files differ from the source.');
  else {
    out(`${total} file(s) differ from the source:`);
    for (const f of r.changed) out(`  M ${f}`);
    for (const f of r.added) out(`  A ${f}`);
    for (const f of r.removed) out(`  D ${f}`);
  }
  if (r.env_files_skipped.length > 0) out(`(${r.env_files_skipped.length} env file(s) handled by the env settings of .cilo/config.yml are not compared.)`);
}

export async function merge(env: string, opts: Options): Promise<void> {
  const r = await mergeEnvironment(cliContext(), { env, project: opts.project, ffOnly: opts.ffOnly });
  if (opts.json) {
    printJson(r);
    return;
  }
  const from = `environment ${r.env}${r.branch ? ` (branch ${r.branch})` : ''}`;
  const into = `${r.source}${r.source_branch ? ` (branch ${r.source_branch})` : ''}`;
  if (r.result === 'up-to-date') out(`Nothing to merge: ${into} already has every commit of ${from}.`);
  else out(`Merged ${r.commits} commit(s) from ${from} into ${into}: ${r.result === 'fast-forward' ? 'fast-forward' : 'merge commit'} ${r.head?.slice(0, 12) ?? ''}.`);
  if (r.uncommitted > 0) info(`note: ${r.uncommitted} uncommitted change(s) in the workspace were not merged; commit them there and merge again.`);
}
