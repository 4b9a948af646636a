/**
 * Issue #26: a DNS query for a name of an environment the supervisor paused for being idle is
 * answered only once the environment runs again, and answers for other environments do not wait
 * for that wake. The pause is core's own (pauseIfIdle, with a 1 s idle pause in state), the
 * server the home's real `cilo dns` process that `up` started, the engine the real one.
 */
import { after, before, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveA, waitForAddresses } from '../support/dns-query.js';
import type { EnvironmentState } from '../../src/domain/state.js';
import { copyFixture, docker, editState, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

let h: TestHome;
let dir: string;
const project = uid('dw');

const envState = (env: string): EnvironmentState | undefined =>
  (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as { environments: Record<string, EnvironmentState> }).environments[env];
const ipOf = (env: string, service: string): string => envState(env)?.services[service]?.ip ?? '?';

/** The engine's state of each of the environment's containers (`paused` when frozen), by service. */
async function containerStates(env: string): Promise<Record<string, string>> {
  const list = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`] });
  const out: Record<string, string> = {};
  for (const c of list) out[c.Labels['com.docker.compose.service'] ?? '?'] = (await docker.inspectContainer(c.Id))?.State.Status ?? 'gone';
  return out;
}

before(async () => {
  ensureFixtureImage();
  h = makeHome();
  dir = copyFixture('web-db');
  for (const env of ['sleepy', 'other']) {
    const up = await h.cli(['up', env, '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
  }
  await waitForAddresses(h.dnsPort, 'web.other.test', [ipOf('other', 'web')], 'up');
});
after(() => tearDown(h, project, dir));

test('a DNS query for an idle-paused environment wakes it before the answer; another environment is answered meanwhile', async (t) => {
  const { defaultContext } = await import('../../src/default-context.js');
  const { ciloPaths } = await import('../../src/state/paths.js');
  const { pauseIfIdle } = await import('../../src/core/environments/idle.js');
  const ctx = defaultContext({ paths: ciloPaths(h.home) });

  // Idle for 1 s: the supervisor's own pause, under the environment's lock.
  await editState(h, (s) => {
    s.environments['sleepy']!.idle_pause_seconds = 1;
  });
  await waitFor(() => pauseIfIdle(ctx, 'sleepy'), { what: 'pauseIfIdle to pause sleepy once idle for 1 s', deadlineMs: 30_000, intervalMs: 200 });
  // Not again right after the wake (a supervisor that pauses idle environments runs in the server).
  await editState(h, (s) => {
    s.environments['sleepy']!.idle_pause_seconds = 3600;
  });
  assert.deepEqual([envState('sleepy')?.status, envState('sleepy')?.paused_by], ['paused', 'idle']);
  assert.deepEqual(await containerStates('sleepy'), { web: 'paused', db: 'paused' });

  // The sleeping environment's query, then queries for the other one in a loop until it is answered.
  let sleepyAnswered = false;
  let otherAnswersBefore = 0;
  let atAnswer: { status: string | undefined; containers: Record<string, string> } | undefined;
  const sleepy = resolveA(h.dnsPort, 'web.sleepy.test', { timeoutMs: 15_000 }).then(async (ips) => {
    sleepyAnswered = true;
    atAnswer = { status: envState('sleepy')?.status, containers: await containerStates('sleepy') };
    return ips;
  });
  const other = (async () => {
    while (!sleepyAnswered) {
      const ips = await resolveA(h.dnsPort, 'web.other.test');
      assert.deepEqual(ips, [ipOf('other', 'web')]);
      if (!sleepyAnswered) otherAnswersBefore += 1;
    }
  })();
  const ips = await sleepy;
  await other;

  assert.deepEqual(ips, [ipOf('sleepy', 'web')]);
  assert.deepEqual(atAnswer, { status: 'running', containers: { web: 'running', db: 'running' } }, 'running when its address was answered');
  assert.ok(otherAnswersBefore > 0, 'the other environment was answered while the sleeping one was being woken');
  const woken = envState('sleepy');
  assert.deepEqual([woken?.paused_by, woken?.paused_at], [undefined, undefined]);

  // Its names answer as a running environment's again, at once.
  assert.deepEqual(await resolveA(h.dnsPort, `${project}.sleepy.test`, { tcp: true }), [ipOf('sleepy', 'web')]);
  // The server's log names the wake and its reason.
  const log = await h.cli(['dns', 'logs']);
  const line = /wake of sleepy for web\.sleepy\.test: woke in \d+ ms.*/.exec(log.stdout);
  assert.ok(line, log.stdout);
  t.diagnostic(line[0]); // the first answer's extra time, for the curious (not asserted)

  // The server records queries as use where other processes see it: the activity file of `other`,
  // which nothing but its queries touched (waking touches sleepy's), is written within seconds.
  await waitFor(() => ctx.activity.last('other') !== null, { what: "other's activity file, written for its queries" });
});
