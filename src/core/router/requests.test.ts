import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { composeProjectName, COMPOSE_PROJECT } from '../../domain/names.js';
import { routerContainerName } from '../../domain/router-config.js';
import type { LogStreamOptions } from '../../domain/engine.js';
import { homeId } from '../../state/paths.js';
import { readState, withStateLock } from '../../state/store.js';
import { seedEnvironment, standInContext, type BoxState } from '../../../test/support/stand-in.js';
import type { Engine } from '../ports.js';
import { followRouterRequests, type RouterRequests } from './requests.js';

/** A log stream the test writes to and ends, as the Engine's follow of the router's log. */
interface Stream {
  id: string;
  opts: LogStreamOptions;
  write: (line: string) => void;
  end: () => void;
}

const line = (host: string, ts: number): string => JSON.stringify({ level: 'info', ts: ts / 1000, logger: 'http.log.access.cilo_request', msg: 'handled request', request: { method: 'GET', host }, status: 204 });

async function until<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never: ${what}`);
}

/**
 * A stand-in home whose Engine's log follow is a stream the test writes to, with the router's
 * container and environment e1 (project shop) and its web container in `webState`; the follower
 * is stopped and the home removed after the test.
 */
async function followerHome(t: TestContext, webState: BoxState) {
  const home = standInContext();
  const { ctx, local, cleanup } = home;
  const follower: { requests: RouterRequests | undefined } = { requests: undefined };
  // Followers stop (and wakes under way end) before the home goes.
  t.after(async () => {
    await follower.requests?.stop();
    cleanup();
  });
  const streams: Stream[] = [];
  const engine: Engine = local.docker;
  engine.streamLogs = (id, opts, onLine, signal) =>
    new Promise<void>((resolve) => {
      streams.push({ id, opts, write: onLine, end: resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  const router = routerContainerName(homeId(ctx.paths));
  const first = local.docker.addContainer({ name: router });
  await seedEnvironment(ctx, 'e1', { project: 'shop', status: 'running' });
  const web = local.docker.addContainer({ name: 'shop-e1-web', labels: { [COMPOSE_PROJECT]: composeProjectName('shop', 'e1') }, state: webState });
  /** Starts following, as the DNS server does. */
  const start = (): RouterRequests => (follower.requests = followRouterRequests(ctx));
  return { ...home, streams, router, first, web, start };
}

test('router requests: a request marks its environment used and wakes it if idle-paused; a router made again is followed again', async (t) => {
  const { ctx, local, clock, logs, streams, router, first, web, start } = await followerHome(t, 'paused');
  await seedEnvironment(ctx, 'e2', { project: 'shop', n: 2, status: 'running' });
  await withStateLock((s) => {
    s.routing = { mode: 'router', http_port: 80, https_port: 443 };
    const e1 = s.environments.e1;
    if (e1) Object.assign(e1, { status: 'paused', paused_by: 'idle', paused_at: new Date(clock.now() - 60_000).toISOString(), idle_pause_seconds: 30 });
  }, ctx.paths);

  const requests = start();
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  const s1 = await until(() => streams[0], 'the router followed');
  assert.equal(s1.id, first.id);
  assert.equal(s1.opts.follow, true);
  assert.equal(s1.opts.since, (clock.now() - 1000) / 1000, 'from a second before the follower started');

  // A request to a running environment: its activity, nothing woken.
  s1.write(line('api.e2.test:8080', clock.now()));
  assert.equal(ctx.activity.last('e2') !== null, true);
  // Other lines and names: nothing.
  s1.write('{"level":"info","logger":"http.log","msg":"server running"}');
  s1.write(line('example.com', clock.now()));
  assert.equal(ctx.activity.last('e1'), null);

  // A request to the idle-paused one wakes it.
  s1.write(line('Web.E1.test', clock.now()));
  await until(() => readState(ctx.paths).environments.e1?.status === 'running' || undefined, 'e1 woken');
  assert.equal(web.state, 'running');
  assert.equal(readState(ctx.paths).environments.e1?.paused_by, undefined);
  await until(() => logs.some((l) => l.includes('Woke e1 (1 container(s) thawed): a request through the router for web.e1.test')) || undefined, `the wake logged: ${logs.join('; ')}`);

  // Paused again before any tick: the state in hand still shows the pause it was woken from, so the request reads the state again.
  clock.advance(40_000);
  web.state = 'paused';
  await withStateLock((s) => {
    const e1 = s.environments.e1;
    if (e1) Object.assign(e1, { status: 'paused', paused_by: 'idle', paused_at: new Date(clock.now()).toISOString(), updated_at: new Date(clock.now()).toISOString() });
  }, ctx.paths);
  s1.write(line('web.e1.test', clock.now()));
  await until(() => (web.state === 'running' && readState(ctx.paths).environments.e1?.status === 'running') || undefined, 'e1 woken from its second pause');

  // The router is made again: its stream ends, and the next tick follows the new container from a second before.
  clock.advance(5000);
  await local.docker.removeContainer(first.id, { force: true });
  const second = local.docker.addContainer({ name: router });
  s1.end();
  await new Promise((r) => setTimeout(r, 10));
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  const s2 = await until(() => streams[1], 'the new router followed');
  assert.equal(s2.id, second.id);
  assert.equal(s2.opts.since, (clock.now() - 1000) / 1000);
  // A tick while it is followed attaches nothing more.
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(streams.length, 2);
});

test('router requests: a request seen before the state said paused wakes it at the next tick; none in direct mode', async (t) => {
  const { ctx, clock, logs, streams, web, start } = await followerHome(t, 'running');
  await withStateLock((s) => {
    s.routing = { mode: 'direct', http_port: 80, https_port: 443 };
  }, ctx.paths);
  const requests = start();
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(streams.length, 0, 'no router followed in direct mode');

  await withStateLock((s) => {
    s.routing = { mode: 'router', http_port: 80, https_port: 443 };
  }, ctx.paths);
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  const s1 = await until(() => streams[0], 'the router followed');
  // The request comes while the state in hand still says running; the pause is recorded after it.
  s1.write(line('web.e1.test', clock.now()));
  clock.advance(200);
  web.state = 'paused';
  await withStateLock((s) => {
    const e1 = s.environments.e1;
    if (e1) Object.assign(e1, { status: 'paused', paused_by: 'idle', paused_at: new Date(clock.now()).toISOString(), idle_pause_seconds: 30 });
  }, ctx.paths);
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  await until(() => readState(ctx.paths).environments.e1?.status === 'running' || undefined, 'e1 woken at the tick');
  assert.equal(web.state, 'running');
});

test('router requests: the first request after a quiet spell reads the state again shortly, and wakes an environment paused meanwhile without waiting for a tick', async (t) => {
  const { ctx, clock, logs, streams, web, start } = await followerHome(t, 'running');
  await withStateLock((s) => {
    s.routing = { mode: 'router', http_port: 80, https_port: 443 };
    const e1 = s.environments.e1;
    if (e1) Object.assign(e1, { idle_pause_seconds: 30, updated_at: new Date(clock.now() - 60_000).toISOString() });
  }, ctx.paths);
  const requests = start();
  requests.tick(readState(ctx.paths), (l) => logs.push(l));
  const s1 = await until(() => streams[0], 'the router followed');
  // Unused for 60 s with an idle pause of 30 s: the supervisor may be pausing it as the request comes.
  s1.write(line('web.e1.test', clock.now()));
  web.state = 'paused';
  await withStateLock((s) => {
    const e1 = s.environments.e1;
    if (e1) Object.assign(e1, { status: 'paused', paused_by: 'idle', paused_at: new Date(clock.now()).toISOString() });
  }, ctx.paths);
  // No tick: the recheck finds it.
  await until(() => web.state === 'running' || undefined, 'e1 thawed by the recheck');
});
