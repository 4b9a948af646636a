/**
 * Claude Code's worktree hooks as cilo reads and installs them. Pure: the payload arrives as
 * text, the settings file as a parsed value.
 *
 * Payloads (JSON on stdin) are read leniently, because Claude Code versions differ: the name of
 * a new worktree comes as `name` (what current versions send) or `worktree_name` (the
 * documented key), else the last part of `worktree_path`; the repository is `cwd`. The removed
 * worktree is `worktree_path` (or `path`). Unknown fields are ignored.
 */
import { CiloError } from '../errors.js';

export interface WorktreeCreatePayload {
  name: string | undefined;
  cwd: string | undefined;
  sessionId: string | undefined;
  /** Where the worktree should go, when the payload says. */
  path: string | undefined;
}

export interface WorktreeRemovePayload {
  path: string | undefined;
  cwd: string | undefined;
}

function parseObject(text: string, event: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new CiloError('USAGE', `The ${event} hook payload on stdin is not JSON.`, { hint: 'Claude Code sends the payload itself; to try the hook by hand pipe a JSON object such as {"name":"feature","cwd":"/path/to/repo"}.', exitCode: 2 });
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new CiloError('USAGE', `The ${event} hook payload on stdin is not a JSON object.`, { exitCode: 2 });
  }
  return data as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

export function parseWorktreeCreate(text: string): WorktreeCreatePayload {
  const o = parseObject(text, 'WorktreeCreate');
  const path = str(o.worktree_path);
  const fromPath = path?.replace(/\/+$/, '').split('/').pop();
  return { name: str(o.name) ?? str(o.worktree_name) ?? str(fromPath), cwd: str(o.cwd), sessionId: str(o.session_id), path: str(o.worktree_path) };
}

/**
 * Where `worktree-create` puts a git worktree and its branch: the payload's `worktree_path`
 * (the only candidate), else `<repo>/.claude/worktrees/<name>` (Claude Code's own place), then
 * `<name>-2`, `-3`... for the next free one. The branch is `worktree-<directory name>`.
 */
export function* worktreeCandidates(repoTop: string, name: string, given: string | undefined): Generator<{ path: string; branch: string }> {
  const branchOf = (dir: string): string => `worktree-${dir.replace(/\/+$/, '').split('/').pop() ?? name}`;
  if (given !== undefined) {
    yield { path: given, branch: branchOf(given) };
    return;
  }
  for (let n = 1; ; n++) {
    const dir = n === 1 ? name : `${name}-${n}`;
    yield { path: `${repoTop.replace(/\/+$/, '')}/.claude/worktrees/${dir}`, branch: `worktree-${dir}` };
  }
}

export function parseWorktreeRemove(text: string): WorktreeRemovePayload {
  const o = parseObject(text, 'WorktreeRemove');
  return { path: str(o.worktree_path) ?? str(o.path), cwd: str(o.cwd) };
}

/** Claude Code's settings.json `hooks` map: event -> [{ matcher?, hooks: [{ type, command, ... }] }]. */
interface HookCommand {
  type?: unknown;
  command?: unknown;
  [key: string]: unknown;
}
interface HookGroup {
  hooks?: HookCommand[];
  [key: string]: unknown;
}

export const CLAUDE_HOOK_EVENTS = { WorktreeCreate: 'worktree-create', WorktreeRemove: 'worktree-remove' } as const;

/** The command a hook entry runs: `<cilo> hook claude <event>`. */
export function hookCommand(cilo: string, event: keyof typeof CLAUDE_HOOK_EVENTS, extra: string[] = []): string {
  return [cilo, 'hook', 'claude', CLAUDE_HOOK_EVENTS[event], ...extra].join(' ');
}

/** A hook whose command the install replaced: the event and its command before and after. */
export interface HookUpdate {
  event: string;
  from: string;
  to: string;
}

/**
 * Settings with cilo's two worktree hooks as asked, everything else kept as it was. An event
 * without a `... hook claude <event>` command gets one; one whose command differs from the one
 * asked (installed without `--up`, or with another `--command`) has that command replaced, the
 * rest of its entry (a timeout, say) kept; one already as asked is left alone (idempotent).
 * Returns the new settings, the events added and the commands replaced.
 */
export function mergeClaudeHooks(settings: unknown, commands: Record<keyof typeof CLAUDE_HOOK_EVENTS, string>): { settings: Record<string, unknown>; added: string[]; updated: HookUpdate[] } {
  if (settings !== undefined && (settings === null || typeof settings !== 'object' || Array.isArray(settings))) {
    throw new CiloError('CONFIG_INVALID', 'The Claude Code settings file does not hold a JSON object.', { hint: 'Fix the file (it must be {...}), then run the install again.' });
  }
  const out: Record<string, unknown> = { ...((settings as Record<string, unknown> | undefined) ?? {}) };
  const rawHooks = out.hooks;
  if (rawHooks !== undefined && (rawHooks === null || typeof rawHooks !== 'object' || Array.isArray(rawHooks))) {
    throw new CiloError('CONFIG_INVALID', 'The "hooks" key of the Claude Code settings file is not an object.', { hint: 'Fix it (it must be {"EventName": [...]}), then run the install again.' });
  }
  const hooks: Record<string, unknown> = { ...((rawHooks as Record<string, unknown> | undefined) ?? {}) };
  const added: string[] = [];
  const updated: HookUpdate[] = [];
  for (const event of Object.keys(CLAUDE_HOOK_EVENTS) as (keyof typeof CLAUDE_HOOK_EVENTS)[]) {
    const groups = Array.isArray(hooks[event]) ? (hooks[event] as HookGroup[]) : [];
    const marker = `hook claude ${CLAUDE_HOOK_EVENTS[event]}`;
    const isCilo = (h: HookCommand | undefined): boolean => typeof h?.command === 'string' && h.command.includes(marker);
    const present = groups.some((g) => Array.isArray(g?.hooks) && g.hooks.some(isCilo));
    if (!present) {
      hooks[event] = [...groups, { hooks: [{ type: 'command', command: commands[event] }] }];
      added.push(event);
      continue;
    }
    hooks[event] = groups.map((g) => {
      if (!Array.isArray(g?.hooks) || !g.hooks.some(isCilo)) return g;
      return {
        ...g,
        hooks: g.hooks.map((h) => {
          if (!isCilo(h) || h.command === commands[event]) return h;
          updated.push({ event, from: String(h.command), to: commands[event] });
          return { ...h, command: commands[event] };
        }),
      };
    });
  }
  out.hooks = hooks;
  return { settings: out, added, updated };
}

/** An environment name from a worktree name: normalized, other characters as `-`, short enough for `-N`. */
export function envNameFromWorktree(raw: string | undefined, sessionId: string | undefined): string {
  const base = raw ?? (sessionId ? `claude-${sessionId.slice(0, 8)}` : 'claude');
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 56)
    .replace(/^-+|-+$/g, '');
  return name === '' ? 'claude' : name;
}
