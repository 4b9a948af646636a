import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CiloError } from '../../errors.js';
import { printResult, reportError, startCommand, warn } from './print.js';

/** Runs `fn` with stdout and stderr captured. */
function capture(fn: () => number | void): { code: number | void; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: fn(), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('under --json a failure is one document on stdout besides the sentence on stderr', () => {
  const expected = capture(() => reportError(new CiloError('ENV_NOT_FOUND', 'There is no environment named "x".'), { json: true }));
  assert.equal(expected.code, 1);
  assert.deepEqual(JSON.parse(expected.stdout), { ok: false, code: 'ENV_NOT_FOUND', message: 'There is no environment named "x".', hint: null });
  assert.equal(expected.stderr, 'cilo: There is no environment named "x".\n');

  const bug = capture(() => reportError(new TypeError('x is undefined'), { json: true }));
  assert.equal(bug.code, 1);
  const doc = JSON.parse(bug.stdout) as { code: string; message: string; hint: string };
  assert.deepEqual([doc.code, doc.message], ['INTERNAL', 'internal error: x is undefined']);
  assert.match(doc.hint, /bug in cilo/);

  const fs = capture(() => reportError(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/x' }), { json: true }));
  assert.deepEqual(JSON.parse(fs.stdout), { ok: false, code: 'FS', message: 'Permission denied (/x).', hint: null });

  assert.equal(capture(() => reportError(new CiloError('USAGE', 'Bad.'))).stdout, '', 'nothing on stdout without --json');
});

test("a changing command's document carries the warnings it wrote, which stay on stderr too", () => {
  startCommand();
  const plain = capture(() => printResult({ env: 'a' }));
  assert.deepEqual(JSON.parse(plain.stdout), { env: 'a', warnings: [] }, 'an empty list when there is none');

  const warned = capture(() => {
    warn('the env file .env.local named by a render rule does not exist in a; skipped');
    printResult({ env: 'a', warnings: ['its own'] });
  });
  assert.equal(warned.stderr, 'warning: the env file .env.local named by a render rule does not exist in a; skipped\n');
  assert.deepEqual(JSON.parse(warned.stdout), { env: 'a', warnings: ['its own', 'the env file .env.local named by a render rule does not exist in a; skipped'] });

  const failed = capture(() => reportError(new CiloError('ENV_NOT_FOUND', 'Gone.'), { json: true }));
  assert.deepEqual(JSON.parse(failed.stdout), { ok: false, code: 'ENV_NOT_FOUND', message: 'Gone.', hint: null, warnings: ['the env file .env.local named by a render rule does not exist in a; skipped'] });

  startCommand();
  assert.deepEqual(JSON.parse(capture(() => printResult({})).stdout), { warnings: [] }, 'the next command starts with none');
});
