import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hookCommand, mergeClaudeHooks, parseWorktreeCreate, parseWorktreeRemove, worktreeCandidates } from './claude-hooks.js';

test('reads the create payload leniently: name, worktree_name or the last part of worktree_path', () => {
  assert.deepEqual(parseWorktreeCreate('{"session_id":"s1","cwd":"/repo","hook_event_name":"WorktreeCreate","name":"feat","extra":1}'), { name: 'feat', cwd: '/repo', sessionId: 's1', path: undefined });
  assert.equal(parseWorktreeCreate('{"worktree_path":"/r/w"}').path, '/r/w');
  assert.equal(parseWorktreeCreate('{"worktree_name":"w"}').name, 'w');
  assert.equal(parseWorktreeCreate('{"worktree_path":"/r/.claude/worktrees/abc/"}').name, 'abc');
  assert.equal(parseWorktreeCreate('').name, undefined);
  assert.throws(() => parseWorktreeCreate('nope'), /not JSON/);
  assert.throws(() => parseWorktreeCreate('[1]'), /not a JSON object/);
});

test('reads the remove payload: worktree_path, else path', () => {
  assert.equal(parseWorktreeRemove('{"worktree_path":"/a"}').path, '/a');
  assert.equal(parseWorktreeRemove('{"path":"/b","cwd":"/c"}').path, '/b');
});

test('merges both hooks into settings without disturbing others, idempotently', () => {
  const commands = { WorktreeCreate: hookCommand('cilo', 'WorktreeCreate'), WorktreeRemove: hookCommand('cilo', 'WorktreeRemove') };
  const mine = { permissions: { allow: ['Bash'] }, hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: 'echo hi' }] }] } };
  const first = mergeClaudeHooks(mine, commands);
  assert.deepEqual(first.added, ['WorktreeCreate', 'WorktreeRemove']);
  assert.deepEqual(first.settings.permissions, mine.permissions);
  const hooks = first.settings.hooks as Record<string, unknown>;
  assert.deepEqual(hooks.PreToolUse, mine.hooks.PreToolUse);
  assert.deepEqual(hooks.WorktreeCreate, [{ hooks: [{ type: 'command', command: 'cilo hook claude worktree-create' }] }]);
  const second = mergeClaudeHooks(first.settings, commands);
  assert.deepEqual(second.added, []);
  assert.deepEqual(second.settings, first.settings);
  assert.deepEqual(mergeClaudeHooks(undefined, commands).added.length, 2);
  assert.throws(() => mergeClaudeHooks([], commands), /JSON object/);
});

test('environment names from worktree names', async () => {
  const { envNameFromWorktree } = await import('./claude-hooks.js');
  assert.equal(envNameFromWorktree('Feature/Auth_Login', undefined), 'feature-auth-login');
  assert.equal(envNameFromWorktree('agent-a1b2.c3', undefined), 'agent-a1b2-c3');
  assert.equal(envNameFromWorktree(undefined, 'abcdef123456'), 'claude-abcdef12');
  assert.equal(envNameFromWorktree('***', undefined), 'claude');
  assert.equal(envNameFromWorktree('x'.repeat(80), undefined).length, 56);
});

test('installing again with other options updates cilo\'s hooks in place, keeping the rest of their entries (#27)', () => {
  const plain = { WorktreeCreate: hookCommand('cilo', 'WorktreeCreate'), WorktreeRemove: hookCommand('cilo', 'WorktreeRemove') };
  const withUp = { WorktreeCreate: hookCommand('/opt/cilo', 'WorktreeCreate', ['--up']), WorktreeRemove: hookCommand('/opt/cilo', 'WorktreeRemove') };
  const first = mergeClaudeHooks({ hooks: { WorktreeCreate: [{ hooks: [{ type: 'command', command: 'cilo hook claude worktree-create', timeout: 120 }, { type: 'command', command: 'echo other' }] }] } }, plain);
  assert.deepEqual(first.added, ['WorktreeRemove']);
  assert.deepEqual(first.updated, []);
  const second = mergeClaudeHooks(first.settings, withUp);
  assert.deepEqual(second.added, []);
  assert.deepEqual(second.updated, [
    { event: 'WorktreeCreate', from: 'cilo hook claude worktree-create', to: '/opt/cilo hook claude worktree-create --up' },
    { event: 'WorktreeRemove', from: 'cilo hook claude worktree-remove', to: '/opt/cilo hook claude worktree-remove' },
  ]);
  const hooks = second.settings.hooks as Record<string, unknown>;
  assert.deepEqual(hooks.WorktreeCreate, [{ hooks: [{ type: 'command', command: '/opt/cilo hook claude worktree-create --up', timeout: 120 }, { type: 'command', command: 'echo other' }] }]);
  assert.deepEqual(mergeClaudeHooks(second.settings, withUp).updated, [], 'as asked already: nothing to do');
});

test('a new git worktree goes where the payload says, else to .claude/worktrees/<name>, then <name>-2, -3... on branch worktree-<dir>', () => {
  const gen = worktreeCandidates('/repo', 'feat', undefined);
  const three = [gen.next().value, gen.next().value, gen.next().value];
  assert.deepEqual(three, [
    { path: '/repo/.claude/worktrees/feat', branch: 'worktree-feat' },
    { path: '/repo/.claude/worktrees/feat-2', branch: 'worktree-feat-2' },
    { path: '/repo/.claude/worktrees/feat-3', branch: 'worktree-feat-3' },
  ]);
  assert.deepEqual([...worktreeCandidates('/repo', 'feat', '/elsewhere/wt')], [{ path: '/elsewhere/wt', branch: 'worktree-wt' }], 'a path given is the only one tried');
});
