/**
 * Requests through the loopback router and idle pause (issue #26), against the real engine and a
 * real Caddy (test/support/caddy-image.ts): a request by name to an idle-paused environment wakes
 * it and is answered (the request waits in the frozen container until cilo's DNS server, which
 * follows the router's log, thaws it); requests through the router are activity, so an
 * environment used only through it is not paused.
 *
 * The idle pause is given by `up --idle-pause` (which also makes the router tell cilo of each
 * request: only while an environment has an idle pause); the pause is the supervisor's, or core's
 * pauseIfIdle (the supervisor's own step) called here to not wait for its next tick: either way
 * the real one (containers frozen, state paused by 'idle').
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pauseIfIdle } from '../../src/core/environments/idle.js';
import { defaultContext } from '../../src/default-context.js';
import type { State } from '../../src/domain/state.js';
import { COMPOSE_PROJECT, composeProjectName } from '../../src/domain/names.js';
import { ciloPaths } from '../../src/state/paths.js';
import { CADDY_IMAGE, ensureCaddyImage } from '../support/caddy-image.js';
import { getByHost as get, getTlsByHost as getTls } from '../support/by-host.js';
import { copyFixture, docker, ensureFixtureImage, freeLoopbackPort, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';

let skip: string | undefined;
before(() => {
  ensureFixtureImage();
  skip = ensureCaddyImage();
});




const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('requests through the loopback router and idle pause', () => {
  let h: TestHome;
  let dir: string;
  let http = 0;
  let https = 0;
  const project = uid('rw');
  const env = 'w1';
  const host = `web.${env}.test`;

  function envState(): State['environments'][string] | undefined {
    return (JSON.parse(readFileSync(join(h.home, 'state.json'), 'utf8')) as State).environments[env];
  }

  /** Paused for being idle by core's pauseIfIdle (the supervisor's step), or by the supervisor itself, with its containers frozen. */
  async function idlePause(): Promise<void> {
    await waitFor(async () => envState()?.paused_by === 'idle' || ((await pauseIfIdle(core(), env)) && envState()?.paused_by === 'idle'), { what: `${env} to be paused for being idle`, intervalMs: 250 });
    assert.equal(envState()?.status, 'paused');
    const frozen = await containersPaused();
    assert.ok(frozen.length === 2 && frozen.every(Boolean), `its containers are paused: ${JSON.stringify(frozen)}`);
  }

  async function containersPaused(): Promise<boolean[]> {
    const found = await docker.listContainers({ label: [`${COMPOSE_PROJECT}=${composeProjectName(project, env)}`] }, true);
    return Promise.all(found.map(async (c) => (await docker.inspectContainer(c.Id))?.State.Status === 'paused'));
  }

  const core = () => defaultContext({ paths: ciloPaths(h.home) });

  before(async () => {
    if (skip) return;
    h = makeHome();
    h.env.CILO_ROUTER_IMAGE = CADDY_IMAGE;
    http = await freeLoopbackPort();
    https = await freeLoopbackPort();
    dir = copyFixture('router-web', { '.cilo/config.yml': `project: ${project}\nenv:\n  render:\n    - file: .env\n      tokens: true\n` });
    const init = await h.cli(['init', '--routing', 'router', '--router-http-port', String(http), '--router-https-port', String(https)]);
    assert.equal(init.code, 0, init.stderr);
    const up = await h.cli(['up', env, '--timeout', '90'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
  });
  after(async () => {
    if (h) await tearDown(h, project, dir);
  });

  test('a request by name to an idle-paused environment wakes it and gets the page', async (t) => {
    if (skip) return t.skip(skip);
    assert.deepEqual(await get(http, host, 10_000), { status: 200, body: `web-${env}` });
    const up = await h.cli(['up', env, '--idle-pause', '1s', '--timeout', '90'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    // Idle for a second, then paused by the supervisor's own step (or by the supervisor).
    await idlePause();

    const started = Date.now();
    const answer = await get(http, host, 60_000);
    t.diagnostic(`first request after the idle pause answered in ${Date.now() - started} ms`);
    assert.deepEqual(answer, { status: 200, body: `web-${env}` });
    // Recorded running just after the thaw that let the request through.
    await waitFor(() => envState()?.status === 'running', { what: `${env} to be recorded running` });
    assert.equal(envState()?.paused_by, undefined);
    assert.deepEqual(await containersPaused(), [false, false]);
    // The DNS server's log says why.
    const log = readFileSync(join(h.home, 'dns', 'dns.log'), 'utf8');
    assert.match(log, new RegExp(`Woke ${env} \\(2 container\\(s\\) thawed\\): a request through the router for ${host.replace(/\./g, '\\.')}`));
  });

  test('an HTTPS request by name wakes it too', async (t) => {
    if (skip) return t.skip(skip);
    const ca = readFileSync(join(h.home, 'ca', 'cilo-ca.crt'), 'utf8');
    await idlePause();
    const answer = await getTls(https, `api.${env}.test`, ca, 60_000);
    assert.deepEqual(answer, { status: 200, body: `api-${env}` });
    await waitFor(() => envState()?.status === 'running', { what: `${env} to be recorded running` });
    assert.deepEqual(await containersPaused(), [false, false]);
  });

  test('requests through the router are activity: an environment used only through it is not paused', async (t) => {
    if (skip) return t.skip(skip);
    const up = await h.cli(['up', env, '--idle-pause', '2s', '--timeout', '90'], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    const ctx = core();
    const since = Date.now();
    // 20 requests 300 ms apart (at least three times the idle pause in all), and nothing else.
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await get(http, host, 10_000), { status: 200, body: `web-${env}` });
      assert.equal(await pauseIfIdle(ctx, env), false, 'not idle while requests come');
      await pause(300);
    }
    assert.equal(envState()?.status, 'running');
    assert.ok((ctx.activity.last(env) ?? 0) >= since, 'the requests were recorded as its activity');
    // Once they stop, it is idle again.
    await waitFor(async () => envState()?.paused_by === 'idle' || ((await pauseIfIdle(ctx, env)) && envState()?.paused_by === 'idle'), { what: `${env} to be paused once the requests stop`, intervalMs: 250 });
  });
});
