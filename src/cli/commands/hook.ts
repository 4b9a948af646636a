import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { installClaudeHooks, worktreeCreate as createForWorktree, worktreeRemove as removeForWorktree } from '../../core/agents/claude-hooks.js';
import { cliContext } from '../output/context.js';
import { info, out, printResult } from '../output/print.js';

function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return Promise.resolve('');
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', rej);
  });
}

/** WorktreeCreate: stdout holds the workspace path and nothing else (Claude Code reads it). */
export async function worktreeCreate(opts: { up?: boolean }): Promise<void> {
  const r = await createForWorktree(cliContext(), { payload: await readStdin(), up: opts.up, fallbackDir: process.env.CLAUDE_PROJECT_DIR ?? process.cwd() });
  info(`cilo: environment ${r.env} made for this worktree.`);
  out(r.workspace);
}

/** WorktreeRemove: a refusal is told on stderr and exits 0, so Claude Code goes on. */
export async function worktreeRemove(opts: { force?: boolean }): Promise<void> {
  const r = await removeForWorktree(cliContext(), { payload: await readStdin(), force: opts.force });
  if (r.outcome === 'destroyed') info(`cilo: destroyed environment ${r.env}.`);
  else if (r.outcome === 'unknown') info(`cilo: no environment has the workspace ${r.path}; nothing to remove.`);
  else info(`cilo: kept environment ${r.env}: its workspace holds ${r.reason}. Bring it back with \`cilo merge ${r.env}\` (or look with \`cilo diff ${r.env}\`), then \`cilo destroy ${r.env}\`.`);
}

export async function install(opts: { user?: boolean; from?: string; up?: boolean; command: string; json?: boolean }): Promise<void> {
  const file = opts.user ? join(homedir(), '.claude', 'settings.json') : join(resolve(opts.from ?? process.cwd()), '.claude', 'settings.json');
  const r = installClaudeHooks({ file, cilo: opts.command, up: opts.up });
  if (opts.json) {
    printResult(r);
    return;
  }
  if (r.added.length > 0) out(`Added the ${r.added.join(' and ')} hook(s) to ${r.file}.`);
  for (const u of r.updated) out(`Updated the ${u.event} hook in ${r.file}: \`${u.from}\` is now \`${u.to}\`.`);
  if (r.added.length === 0 && r.updated.length === 0) out(`${r.file} already has cilo's worktree hooks, as asked.`);
}
