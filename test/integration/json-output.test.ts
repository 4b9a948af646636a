/**
 * Output for programs (#27, "Output and progress"): every command that changes something prints
 * one JSON document with --json (down and destroy too) carrying the warnings it wrote, and
 * `cilo logs` into a pipe is plain text, without compose's ESC[2K before every line.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate } from '../support/json-schema.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, ROOT, tearDown, uid, waitFor, type TestHome } from './helpers.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'docs/manifest.schema.json'), 'utf8')) as Record<string, unknown>;
const ESC = '\u001b';

before(() => ensureFixtureImage());

describe('--json documents and plain logs', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('json');
  before(() => {
    h = makeHome();
    // ui-ticker: one service printing a marker line, then "tick" every second. The render rule
    // names an env file the project does not have: every up warns about it.
    dir = copyFixture('ui-ticker', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env.local\n      tokens: true\n` });
  });
  after(async () => tearDown(h, project, dir));

  test('up --json carries the warnings of the up in its manifest (and still on stderr)', async () => {
    const r = await h.cli(['up', 'e1', '--json', '--timeout', '90'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { env: string; warnings: string[] };
    assert.deepEqual(validate(schema, m), []);
    assert.equal(m.env, 'e1');
    assert.ok(Array.isArray(m.warnings), `a warnings list: ${r.stdout}`);
    const rendered = m.warnings.find((w) => w.includes('.env.local named by a render rule does not exist'));
    assert.ok(rendered, `the render warning is in the document: ${JSON.stringify(m.warnings)}`);
    assert.ok(r.stderr.includes(`warning: ${rendered}`), r.stderr);
  });

  test('cilo logs into a pipe is plain text: no terminal control sequences', async () => {
    const r = await waitFor(
      async () => {
        const logs = await h.cli(['logs', 'e1']);
        return logs.stdout.includes('tick') && logs;
      },
      { what: 'the service to print a line', deadlineMs: 60_000, intervalMs: 500 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^app-1 +\| marker-/m, 'compose\'s own prefix stays, only the codes go');
    assert.ok(!r.stdout.includes(ESC), JSON.stringify(r.stdout.slice(0, 200)));

    // Followed, the lines come through the filter as they are written.
    const child = spawn(process.execPath, [CLI, 'logs', 'e1', '-f', '--tail', '1'], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    child.stdout.on('data', (c: Buffer) => (followed += c.toString()));
    try {
      await waitFor(() => (followed.match(/tick/g) ?? []).length >= 2, { what: '`cilo logs -f` to print new lines', deadlineMs: 60_000, intervalMs: 200 });
    } finally {
      child.kill('SIGTERM');
    }
    assert.ok(!followed.includes(ESC), JSON.stringify(followed.slice(0, 200)));
  });

  test('down --json says what it stopped', async () => {
    const r = await h.cli(['down', 'e1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { env: 'e1', project, status: 'stopped', services: ['app'], released_shared: [], warnings: [] });
  });

  test('destroy --json says what it destroyed; with nothing to destroy, an empty list', async () => {
    const workspace = (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, { workspace: string }> }).environments.e1?.workspace;
    const r = await h.cli(['destroy', 'e1', '--force', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { destroyed: [{ env: 'e1', project, workspace, workspace_kept: false }], warnings: [] });
    assert.ok(workspace && !existsSync(workspace));

    const none = await h.cli(['destroy', '--all', '--project', project, '--force', '--json']);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(JSON.parse(none.stdout), { destroyed: [], warnings: [] });
  });

  test('shared stop takes --json: its failure is the error document', async () => {
    const r = await h.cli(['shared', 'stop', 'nosuch', '--project', project, '--json']);
    assert.notEqual(r.code, 0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; code: string; message: string };
    assert.equal(doc.ok, false);
    assert.notEqual(doc.code, 'USAGE', `--json is one of its options: ${r.stdout}`);
  });
});
