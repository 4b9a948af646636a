/**
 * Failures that used to vanish (the architecture issue): an invalid project config under
 * `list`, and a damaged env-file record, are reported with the way out instead of being taken
 * as "nothing there".
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

before(() => ensureFixtureImage());

describe('list in a project whose .cilo/config.yml is invalid', () => {
  let h: TestHome;
  let other: string;
  let bad: string;
  const project = uid('lst');
  before(async () => {
    h = makeHome();
    other = copyFixture('app-sleep');
    bad = copyFixture('bad-config/unknown-key');
    const made = await h.cli(['create', 'l1', '--project', project], { cwd: other });
    assert.equal(made.code, 0, made.stderr);
  });
  after(async () => tearDown(h, project, other, bad));

  test('fails naming the file and the key, instead of listing every project', async () => {
    const r = await h.cli(['list'], { cwd: bad });
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stdout, '', 'no environments listed');
    assert.match(r.stderr, /config\.yml: unknown key "compose_file"/);
    assert.match(r.stderr, /Did you mean "compose_files"\?/);
  });

  test('with --json the failure is one JSON document on stdout', async () => {
    const r = await h.cli(['list', '--json'], { cwd: bad });
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; code: string; message: string };
    assert.equal(doc.ok, false);
    assert.equal(doc.code, 'CONFIG_INVALID');
    assert.match(doc.message, /unknown key "compose_file"/);
  });

  test('elsewhere, list still lists', async () => {
    const r = await h.cli(['list', '--all', '--json'], { cwd: '/' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { name: string }[]).map((e) => e.name), ['l1']);
  });
});

describe('a damaged env-file record', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('rec');
  const record = (): string => join(h.home, 'generated', project, 'e1', 'env-files', 'state.json');
  const workspace = (): string => (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { workspace: string }> }).environments.e1!.workspace;
  before(async () => {
    h = makeHome();
    dir = copyFixture('env-files');
    const up = await h.cli(['up', 'e1', '--project', project, '--timeout', '60'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => tearDown(h, project, dir));

  test('stops the next up with the file named and the way out; the init hook does not run again', async () => {
    assert.ok(existsSync(record()), 'the first up recorded what it rendered');
    const hookRuns = (): number => readFileSync(join(workspace(), 'hook.log'), 'utf8').split('\n').filter((l) => l === 'ran').length;
    assert.equal(hookRuns(), 1);
    writeFileSync(record(), '{"files": ["not", "a", "map"]');
    const r = await h.cli(['up', 'e1', '--timeout', '60']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /env-file record .*state\.json of environment "e1" is damaged/);
    assert.match(r.stderr, /hint: Delete .*state\.json to start over/);
    assert.equal(hookRuns(), 1, 'nothing was rendered over or run again');

    rmSync(record());
    const again = await h.cli(['up', 'e1', '--timeout', '60']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(hookRuns(), 2, 'starting over runs the init hook again, as the hint says');
  });
});
