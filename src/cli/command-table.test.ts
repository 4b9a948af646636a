import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from './command-table.js';

/** Commands without --json, each for a reason: their stdout is another program's, or a protocol's, or a stream. */
const WITHOUT_JSON = new Map([
  ['logs', "compose's output"],
  ['exec', "the command's own output"],
  ['compose', "compose's own output"],
  ['path', 'one path, for $(cilo path env)'],
  ['run', "the program's own output"],
  ['dns logs', 'a log file, streamed'],
  ['dns serve', 'the server itself (hidden)'],
  ['mcp', 'stdout is the MCP protocol'],
  ['hook claude worktree-create', "Claude Code's hook protocol: the workspace path"],
  ['hook claude worktree-remove', "Claude Code's hook protocol"],
  ['db shell', "the database client's own output"],
  ['db dump', 'the dump itself, for > file'],
  ['db load', "the database client's own output"],
  ['completion', 'a shell script'],
  ['__complete', 'completion candidates (hidden)'],
]);

test('every command that runs accepts --json (or --format json), but for those whose stdout is not cilo\'s to shape', () => {
  const missing = COMMANDS.filter((d) => d.load && !WITHOUT_JSON.has(d.name) && !(d.options ?? []).some((o) => o.long === '--json')).map((d) => d.name);
  assert.deepEqual(missing, []);
  const stale = [...WITHOUT_JSON.keys()].filter((name) => !COMMANDS.some((d) => d.name === name));
  assert.deepEqual(stale, [], 'the exceptions name existing commands');
});
