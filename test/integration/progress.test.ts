/**
 * Issue 27, "Output and progress": `up` shows its progress on stderr wherever stderr goes. Piped
 * (and with --json), one plain line per step with its duration, no escape codes; on a terminal
 * (a pseudo-terminal made by util-linux `script`), a live view with each service's phase. A
 * seed's template build says what it loaded. Assertions are about content, never durations.
 * Fixtures: test/fixtures/shared-db, test/fixtures/datasets-pg.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { ensureDbImages } from '../support/fixture-images.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, tearDown, uid, type TestHome } from './helpers.js';

/** A duration as the progress lines print it: "(0.4 s)", "(12 s)", "(2 min 28 s)". */
const D = String.raw`\((?:\d+ min )?\d+(?:\.\d)? s\)`;
const line = (text: string): RegExp => new RegExp(`^${text} ${D}$`, 'm');

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs the CLI under a pseudo-terminal (`script`), returning what the terminal showed. */
function onTerminal(h: TestHome, cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, CLI, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd, env: { ...h.env, COLUMNS: '120' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 128, output }));
  });
}

before(() => ensureFixtureImage());

describe('up: progress on stderr, piped and on a terminal', () => {
  let h: TestHome;
  let dir: string;
  const project = uid('pr');
  before(() => {
    h = makeHome();
    dir = copyFixture('shared-db');
  });
  after(() => tearDown(h, project, dir));

  test('piped: one plain line per step with its duration, each service ready, no escape codes', async () => {
    const r = await h.cli(['up', 'p1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Environment p1 is up/);
    const err = r.stderr;
    assert.doesNotMatch(err, /\u001b/, 'no escape codes when not on a terminal');
    assert.doesNotMatch(err, /\r/, 'no carriage returns when not on a terminal');
    assert.match(err, line(`Network cilo_${project}_p1 ready`));
    assert.match(err, line('Project copied and compose model resolved: 3 services, 1 shared'));
    assert.match(err, line('Shared service db created and ready'));
    assert.match(err, line('Containers of p1 started: 2 services'));
    assert.match(err, line('app ready'));
    assert.match(err, line('cache ready'));
    assert.match(err, line('Services of p1 ready'));
  });

  test('--json piped: stdout is the manifest alone, stderr has the step lines', async () => {
    const r = await h.cli(['up', 'p2', '--project', project, '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { schema: string; env: string };
    assert.equal(doc.schema, 'cilo.manifest/1');
    assert.equal(doc.env, 'p2');
    assert.doesNotMatch(r.stderr, /\u001b|\r/);
    assert.match(r.stderr, line('Shared service db ready'), 'the shared container of p1 is reused');
    assert.match(r.stderr, line('Containers of p2 started: 2 services'));
    assert.match(r.stderr, line('app ready'));
    assert.match(r.stderr, line('Services of p2 ready'));
  });

  test('an up of a running environment says its steps too', async () => {
    const r = await h.cli(['up', 'p1'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, line('Compose model resolved: 3 services, 1 shared'));
    assert.match(r.stderr, line('Services of p1 ready'));
  });

  test('on a terminal: a live view with each service\'s phase, then each step and service done', { skip: hasScript ? false : 'util-linux `script` is not installed' }, async () => {
    const r = await onTerminal(h, dir, ['up', 'p3', '--project', project]);
    assert.equal(r.code, 0, r.output);
    const out = r.output;
    assert.match(out, /\u001b\[\d+A/, 'the live block is redrawn in place');
    assert.match(out, /^ {3}app {2}(creating|created|starting|started)/m, 'a service on its way up, with its phase');
    assert.match(out, /✔ app ready {2}\d/, 'a ready service, with its elapsed time');
    assert.match(out, /✔ Containers of p3 started: 2 services {2}\d/);
    assert.match(out, /✔ Services of p3 ready {2}\d/);
    assert.match(out, /Environment p3 is up/);
  });
});

const dbSkip = ensureDbImages();

describe('up: a seed\'s template build says what it loaded', { skip: dbSkip }, () => {
  let h: TestHome;
  let dir: string;
  const project = uid('prd');
  before(() => {
    h = makeHome();
    dir = copyFixture('datasets-pg');
  });
  after(() => tearDown(h, project, dir));

  test('piped: the template built from its seed, with its size, and the dataset made from it, each with a duration', async () => {
    const r = await h.cli(['up', 'd1', '--project', project], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\u001b|\r/);
    assert.match(r.stderr, line(String.raw`Template \S+ of db built \(1 seed file, \d+(\.\d)? [kMG]?B\)`));
    assert.match(r.stderr, line(String.raw`Dataset ${project}_d1 of db ready \(from \S+\)`));
    assert.match(r.stderr, line('Shared service db created and ready'));
  });
});
