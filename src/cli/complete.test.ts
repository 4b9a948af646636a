import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeWords, type CompletionData } from './complete.js';

const data: CompletionData = {
  envs: () => ['agent-1', 'agent-2', 'pr-7'],
  services: (env) => (env === 'agent-1' ? ['api', 'db', 'web'] : []),
  shared: () => ['db'],
  projects: () => ['shop', 'shop', 'blog'],
};

test('command and subcommand names', () => {
  assert.deepEqual(completeWords(['st'], data), ['status']);
  assert.deepEqual(completeWords(['dns', ''], data), ['logs', 'setup', 'start', 'status', 'stop', 'uninstall']);
  assert.ok(!completeWords([''], data).includes('__complete'), 'hidden commands stay hidden');
});

test('environment names where a command takes <env>', () => {
  assert.deepEqual(completeWords(['status', ''], data), ['agent-1', 'agent-2', 'pr-7']);
  assert.deepEqual(completeWords(['up', '--build', 'ag'], data), ['agent-1', 'agent-2']);
  assert.deepEqual(completeWords(['hostnames', 'add', 'p'], data), ['pr-7']);
  assert.deepEqual(completeWords(['run', 'npm', ''], data), ['agent-1', 'agent-2', 'pr-7']);
});

test("service names of the environment typed before them", () => {
  assert.deepEqual(completeWords(['exec', 'agent-1', ''], data), ['api', 'db', 'web']);
  assert.deepEqual(completeWords(['logs', '--tail', '5', 'agent-1', 'w'], data), ['web']);
  assert.deepEqual(completeWords(['shared', 'stop', ''], data), ['db']);
});

test('options, option values and choices; nothing (file names) after the arguments', () => {
  assert.deepEqual(completeWords(['status', 'agent-1', '--'], data), ['--json', '--project', '--show-secrets']);
  assert.deepEqual(completeWords(['status', '--project', ''], data), ['blog', 'shop']);
  assert.deepEqual(completeWords(['list', '--format', ''], data), ['json', 'quiet', 'table']);
  assert.deepEqual(completeWords(['completion', ''], data), ['bash', 'fish', 'zsh']);
  assert.deepEqual(completeWords(['exec', 'agent-1', 'api', ''], data), []);
  assert.deepEqual(completeWords(['nosuch', ''], data), []);
});
