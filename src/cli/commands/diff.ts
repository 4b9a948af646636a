import { diffEnvironment, mergeEnvironment, type DiffFormat, type DiffResult, type RepoDiff } from '../../core/environments/diff.js';
import { cliContext } from '../output/context.js';
import { info, out, outText, printJson, printResult } from '../output/print.js';

interface Options {
  project?: string;
  json?: boolean;
  ffOnly?: boolean;
  stat?: boolean;
  nameOnly?: boolean;
}

export async function diff(env: string, opts: Options): Promise<void> {
  const format: DiffFormat = opts.nameOnly ? 'name-only' : opts.stat ? 'stat' : 'patch';
  const r = await diffEnvironment(cliContext(), { env, project: opts.project, format });
  if (opts.json) {
    printJson(r);
    return;
  }
  // The short forms print what git's do, and nothing else: they are read by scripts.
  if (format === 'name-only') {
    for (const f of r.files) out(f);
    return;
  }
  if (format === 'stat') {
    if (r.stat) out(r.stat);
    return;
  }
  summarize(r);
  // `git apply` skips the summary above the first `diff --git` line.
  if (r.patch) {
    out('');
    outText(r.patch.endsWith('\n') ? r.patch : `${r.patch}\n`);
  }
}

function summarize(r: DiffResult): void {
  out(`Environment ${r.env}: ${r.workspace}`);
  out(`Source:      ${r.source}`);
  if (r.kind === 'git') {
    out('');
    if (r.repos[0]) summarizeRepo(r.repos[0]);
  } else {
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
  for (const repo of r.repos.filter((x) => x.path !== '.')) {
    out('');
    out(`Repository ${repo.path}:`);
    if (!repo.in_source) out('  The source has no repository there; not compared.');
    else summarizeRepo(repo, '  ');
  }
  if (r.repos.some((x) => x.commits.length > 0)) {
    out('');
    out(`Run \`cilo merge ${r.env}\` to bring the commits into the source.`);
  }
}

function summarizeRepo(r: RepoDiff, indent = ''): void {
  const branch = r.branch ? ` (branch ${r.branch})` : '';
  if (r.commits.length === 0) out(`${indent}No commits in the workspace${branch} that the source does not have.`);
  else {
    out(`${indent}${r.commits.length} commit(s) in the workspace${branch} that the source${r.source_branch ? ` (branch ${r.source_branch})` : ''} does not have:`);
    for (const c of r.commits) out(`${indent}  ${c.sha.slice(0, 12)} ${c.subject}`);
  }
  if (r.behind > 0) out(`${indent}The source has ${r.behind} commit(s) the workspace does not have.`);
  if (r.uncommitted.length === 0) out(`${indent}No uncommitted changes in the workspace.`);
  else {
    out(`${indent}${r.uncommitted.length} uncommitted change(s) in the workspace:`);
    for (const e of r.uncommitted) out(`${indent}  ${e.status} ${e.from ? `${e.from} -> ` : ''}${e.path}`);
  }
}

export async function merge(env: string, opts: Options): Promise<void> {
  const r = await mergeEnvironment(cliContext(), { env, project: opts.project, ffOnly: opts.ffOnly });
  if (opts.json) {
    printResult(r);
    return;
  }
  for (const repo of r.repos) {
    const from = `environment ${r.env}${repo.path === '.' ? '' : ` (${repo.path})`}${repo.branch ? ` (branch ${repo.branch})` : ''}`;
    const into = `${repo.source}${repo.source_branch ? ` (branch ${repo.source_branch})` : ''}`;
    if (repo.result === 'up-to-date') out(`Nothing to merge: ${into} already has every commit of ${from}.`);
    else out(`Merged ${repo.commits} commit(s) from ${from} into ${into}: ${repo.result === 'fast-forward' ? 'fast-forward' : 'merge commit'} ${repo.head?.slice(0, 12) ?? ''}.`);
  }
  if (r.uncommitted > 0) info(`note: ${r.uncommitted} uncommitted change(s) in the workspace were not merged; commit them there and merge again.`);
}
