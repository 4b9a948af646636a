import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressView, type ViewStream } from './progress-view.js';

function fake(isTTY: boolean): ViewStream & { text: string } {
  const s = { isTTY, columns: 100, text: '', write: (c: string) => (s.text += c) };
  return s;
}

/** An up's events in order, as core sends them. */
function play(view: ReturnType<typeof createProgressView>, clock: { t: number }): void {
  view.log('Creating environment e1');
  view.event({ type: 'step-start', id: 1, label: 'Building template t1 of db (1 seed file, 20 MB)' });
  clock.t += 2000;
  view.event({ type: 'step-tick', id: 1, amount: { done: 5_000_000, total: 20_000_000, unit: 'bytes' } });
  clock.t += 1000;
  view.event({ type: 'step-end', id: 1, label: 'Template t1 of db built (1 seed file, 20 MB)', ms: 3000, ok: true });
  view.event({ type: 'step-start', id: 2, label: 'Starting 1 service(s) of e1' });
  view.event({ type: 'service', service: 'web', phase: 'creating' });
  clock.t += 500;
  view.event({ type: 'service', service: 'web', phase: 'health' });
  view.warn('something to know');
  view.event({ type: 'step-end', id: 2, label: 'Containers of e1 started: 1 service', ms: 500, ok: true });
  clock.t += 700;
  view.event({ type: 'service', service: 'web', phase: 'ready' });
  view.event({ type: 'service', service: 'web', phase: 'ready' });
  view.close();
}

test('piped: one plain line per step and per ready service, with durations, nothing else', () => {
  const s = fake(false);
  const clock = { t: 0 };
  play(createProgressView(s, () => clock.t), clock);
  assert.equal(
    s.text,
    [
      'Creating environment e1',
      'Template t1 of db built (1 seed file, 20 MB) (3.0 s)',
      'warning: something to know',
      'Containers of e1 started: 1 service (0.5 s)',
      'web ready (1.2 s)',
      '',
    ].join('\n'),
  );
});

test('on a terminal: the live block shows how far a long step is and each service\'s phase, and is erased at the end', () => {
  const s = fake(true);
  const clock = { t: 0 };
  play(createProgressView(s, () => clock.t), clock);
  assert.match(s.text, /Building template t1 of db \(1 seed file, 20 MB\): 5\.0 MB of 20 MB \(25%\) {2}2\.0 s/);
  assert.match(s.text, / {3}web {2}waiting for health {2}0\.5 s/);
  assert.match(s.text, /✔ Template t1 of db built \(1 seed file, 20 MB\) {2}3\.0 s/);
  assert.match(s.text, / {2}✔ web ready {2}1\.2 s/);
  assert.equal(s.text.match(/web ready/g)?.length, 1, 'said once');
  assert.ok(s.text.endsWith('\n'), 'nothing of the block is left');
});

test('a failed step and a failed service are said as such', () => {
  const s = fake(false);
  const view = createProgressView(s, () => 0);
  view.event({ type: 'step-start', id: 7, label: 'Waiting for the services of e1' });
  view.event({ type: 'service', service: 'api', phase: 'failed', detail: 'exited with code 3' });
  view.event({ type: 'step-end', id: 7, label: 'Waiting for the services of e1 failed', ms: 0, ok: false });
  view.close();
  assert.equal(s.text, 'api failed: exited with code 3 (0.0 s)\nWaiting for the services of e1 failed (0.0 s)\n');
});

test('on a narrow terminal a long step is cut in its label, never in how far it is or how long it takes', () => {
  const s = { isTTY: true, columns: 50, text: '', write: (c: string) => (s.text += c) };
  const clock = { t: 0 };
  const view = createProgressView(s, () => clock.t);
  view.event({ type: 'step-start', id: 1, label: 'Building template cilo_tpl_26cd49e80bee35ba of db (1 seed file, 29 MB)' });
  clock.t = 68_000;
  view.event({ type: 'step-tick', id: 1, amount: { done: 22_000_000, total: 29_000_000, unit: 'bytes' } });
  view.close();
  const drawn = s.text.split('\n').filter((l) => l.includes('22 MB'));
  assert.equal(drawn.length, 1);
  assert.match(drawn[0] ?? '', /…: 22 MB of 29 MB \(75%\) {2}1 min 8 s$/);
  assert.ok([...(drawn[0] ?? '').replace(/\u001b\[\d*[AJ]/g, '')].length <= 49);
});
