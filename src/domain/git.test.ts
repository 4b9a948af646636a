import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStat, parseNumstatZ, parsePorcelainZ, relabelNoIndex } from './git.js';

test('porcelain -z: modified, untracked, renamed (with its origin), spaces in names', () => {
  const out = ' M src/app.sh\0?? new file.txt\0R  b.txt\0a.txt\0D  gone\0';
  assert.deepEqual(parsePorcelainZ(out), [
    { status: ' M', path: 'src/app.sh' },
    { status: '??', path: 'new file.txt' },
    { status: 'R ', path: 'b.txt', from: 'a.txt' },
    { status: 'D ', path: 'gone' },
  ]);
});

test('numstat -z: counts, binary files, renames', () => {
  const out = '2\t1\tREADME.md\x001\t0\tnew file.txt\x00-\t-\tlogo.png\x000\t0\t\x00old.sh\x00new.sh\x00';
  assert.deepEqual(parseNumstatZ(out), [
    { path: 'README.md', added: 2, deleted: 1 },
    { path: 'new file.txt', added: 1, deleted: 0 },
    { path: 'logo.png', added: null, deleted: null },
    { path: 'new.sh', from: 'old.sh', added: 0, deleted: 0 },
  ]);
});

test('stat: as git diff --stat prints it, with the graph scaled down for big changes', () => {
  assert.equal(
    formatStat(parseNumstatZ('2\t1\tREADME.md\x001\t0\tlib/x/a.txt\x00-\t-\tlogo.png\x00')),
    [' README.md   |   3 ++-', ' lib/x/a.txt |   1 +', ' logo.png    | Bin', ' 3 files changed, 3 insertions(+), 1 deletion(-)'].join('\n'),
  );
  assert.equal(formatStat([{ path: 'big', added: 200, deleted: 100 }], 30), ` big | 300 ${'+'.repeat(20)}${'-'.repeat(10)}\n 1 file changed, 200 insertions(+), 100 deletions(-)`);
  assert.equal(formatStat([{ path: 'gone', added: 0, deleted: 1 }]), ' gone | 1 -\n 1 file changed, 1 deletion(-)');
  assert.equal(formatStat([]), '');
});

test('a no-index diff relabelled as one inside a tree: headers only', () => {
  const out = ['diff --git a/tmp/s/d/f b/tmp/w/d/f', 'index 7898192..6178079 100644', '--- a/tmp/s/d/f', '+++ b/tmp/w/d/f', '@@ -1 +1 @@', '-a/tmp/s/d/f', '+b', ''].join('\n');
  assert.equal(relabelNoIndex(out, ['/tmp/s/d/f', '/tmp/w/d/f'], 'd/f'), ['diff --git a/d/f b/d/f', 'index 7898192..6178079 100644', '--- a/d/f', '+++ b/d/f', '@@ -1 +1 @@', '-a/tmp/s/d/f', '+b', ''].join('\n'));
  const added = ['diff --git a/tmp/w/g b/tmp/w/g', 'new file mode 100644', '--- /dev/null', '+++ b/tmp/w/g', '@@ -0,0 +1 @@', '+new', ''].join('\n');
  assert.equal(relabelNoIndex(added, ['/tmp/w/g'], 'g'), ['diff --git a/g b/g', 'new file mode 100644', '--- /dev/null', '+++ b/g', '@@ -0,0 +1 @@', '+new', ''].join('\n'));
});
