/** cilo's --project among the arguments of `cilo compose` (#27, the original's usage). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { takeComposeProject } from './pass-through.js';

test("compose: cilo's --project is taken anywhere on the line, as the original's end-to-end test writes it", () => {
  assert.deepEqual(takeComposeProject(['ps', '--project', 'shop'], undefined), { args: ['ps'], project: 'shop' });
  assert.deepEqual(takeComposeProject(['logs', '--project=shop', '-f', 'api'], undefined), { args: ['logs', '-f', 'api'], project: 'shop' });
  assert.deepEqual(takeComposeProject(['ps', '--project', 'shop'], 'shop'), { args: ['ps'], project: 'shop' }, 'the same name twice is the same');
  assert.deepEqual(takeComposeProject(['exec', '--project', 'shop', '-T', 'api', 'ls'], undefined), { args: ['exec', '-T', 'api', 'ls'], project: 'shop' });
});

test("compose: compose's own -p/--project-name and --project-directory pass untouched", () => {
  const line = ['--project-directory', '/x', '-p', 'p1', '--project-name=p2', 'ps', '--project-name', 'p3'];
  assert.deepEqual(takeComposeProject(line, undefined), { args: line, project: undefined });
  assert.deepEqual(takeComposeProject(['--project-directory', '/x', 'ps', '--project', 'shop'], undefined), { args: ['--project-directory', '/x', 'ps'], project: 'shop' });
});

test("compose: the container's command of exec and run, and what follows --, are left alone", () => {
  assert.deepEqual(takeComposeProject(['exec', 'api', 'gcloud', '--project', 'x'], undefined), { args: ['exec', 'api', 'gcloud', '--project', 'x'], project: undefined });
  assert.deepEqual(takeComposeProject(['run', '--rm', 'app', '--project', 'x'], 'shop'), { args: ['run', '--rm', 'app', '--project', 'x'], project: 'shop' });
  assert.deepEqual(takeComposeProject(['-f', 'exec', 'ps', '--project', 'shop'], undefined), { args: ['-f', 'exec', 'ps'], project: 'shop' }, "a global option's value is not the command");
  assert.deepEqual(takeComposeProject(['ps', '--', '--project', 'x'], undefined), { args: ['ps', '--', '--project', 'x'], project: undefined });
});

test('compose: --project without a value, or with two different ones, is a usage error', () => {
  assert.throws(() => takeComposeProject(['ps', '--project'], undefined), (e: Error & { code?: string }) => e.code === 'USAGE' && /--project <name> needs a value/.test(e.message));
  assert.throws(() => takeComposeProject(['ps', '--project', 'b'], 'a'), /--project is given twice, as "a" and as "b"/);
});
