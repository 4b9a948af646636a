import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob, compileGlobs } from './glob.js';

test('matches *, ? and ** anchored at the root', () => {
  const pem = compileGlob('secrets/*.pem');
  assert.equal(pem.matches('secrets/a.pem'), true);
  assert.equal(pem.matches('secrets/.hidden.pem'), true);
  assert.equal(pem.matches('secrets/sub/a.pem'), false);
  assert.equal(pem.matches('other/secrets/a.pem'), false);

  const cfg = compileGlob('.config/**');
  assert.equal(cfg.matches('.config'), true, '** matches zero segments');
  assert.equal(cfg.matches('.config/nvim/init.lua'), true);
  assert.equal(cfg.matches('.configx/a'), false);

  const any = compileGlob('**/.cache/keep-?.txt');
  assert.equal(any.matches('.cache/keep-1.txt'), true);
  assert.equal(any.matches('a/b/.cache/keep-2.txt'), true);
  assert.equal(any.matches('a/b/.cache/keep-10.txt'), false);

  assert.equal(compileGlob('./.vscode/').matches('.vscode'), true, 'leading ./ and trailing / are ignored');
  assert.equal(compileGlob('a+b(1).txt').matches('a+b(1).txt'), true, 'regexp characters are literal');
  assert.equal(compileGlob('a+b(1).txt').matches('aab(1)xtxt'), false);
});

test('tells whether a directory is worth reading for a pattern', () => {
  const g = compileGlob('.venv/lib/*/site.cfg');
  assert.equal(g.couldMatchInside('.venv'), true);
  assert.equal(g.couldMatchInside('.venv/lib/python3'), true);
  assert.equal(g.couldMatchInside('.venv/bin'), false);
  assert.equal(g.couldMatchInside('.venv/lib/python3/site.cfg'), false, 'the pattern ends there');
  assert.equal(compileGlob('**/x').couldMatchInside('any/where'), true);
  assert.equal(compileGlob('.vscode').couldMatchInside('.vscode'), false);

  const many = compileGlobs(['.a/x', '.b/**']);
  assert.equal(many.matches('.b/deep/file'), true);
  assert.equal(many.couldMatchInside('.a'), true);
  assert.equal(many.couldMatchInside('.c'), false);
  assert.equal(compileGlobs([]).matches('anything'), false);
});
