import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFixture, docker, ensureFixtureImage, makeHome, tearDown, uid, waitFor, type TestHome } from './helpers.js';
import { http, openEvents, signIn, startUi, type RunningUi } from './ui-helpers.js';

before(() => ensureFixtureImage());

/** Gone, or a zombie its new parent (this container's init) has not reaped yet. */
function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

interface Snapshot {
  environments: { name: string; status: string }[];
}

const statusOf = (env: string) => (data: unknown) => (data as Snapshot).environments.find((e) => e.name === env)?.status;

describe('cilo ui over HTTP', () => {
  let h: TestHome;
  let dir: string;
  let ui: RunningUi | undefined;
  let cookie = '';
  const project = uid('ui');
  const env = uid('e');

  before(async () => {
    h = makeHome();
    dir = copyFixture('ui-ticker');
    const up = await h.cli(['up', env, '--project', project], { cwd: dir });
    assert.equal(up.code, 0, up.stderr);
    ui = await startUi(h);
  });
  after(async () => {
    await ui?.stop();
    await tearDown(h, project, dir);
  });

  test('listens on 127.0.0.1 and serves the page with a strict policy and no CORS headers', async () => {
    const u = ui!;
    assert.match(u.url, new RegExp(`^http://127\\.0\\.0\\.1:${u.port}/#token=[A-Za-z0-9_-]{32}$`));
    const page = await http(u.port, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/app\.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    const preflight = await http(u.port, 'OPTIONS', '/api/env/x/down', { headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    for (const r of [page, preflight]) assert.equal(Object.keys(r.headers).filter((k) => k.startsWith('access-control-')).length, 0, 'no CORS header');
  });

  test('the token is traded for an HttpOnly, SameSite=Strict cookie; without it there is no data', async () => {
    const u = ui!;
    assert.equal((await http(u.port, 'GET', '/api/snapshot')).status, 401);
    const json = { 'content-type': 'application/json', origin: `http://127.0.0.1:${u.port}` };
    const wrong = await http(u.port, 'POST', '/api/session', { headers: json, body: JSON.stringify({ token: 'x'.repeat(32) }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const asForm = await http(u.port, 'POST', '/api/session', { headers: { ...json, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${u.token}` });
    assert.equal(asForm.status, 415, 'only a JSON body (a cross-site form cannot send one without a preflight)');
    cookie = await signIn(u);
    assert.match(cookie, new RegExp(`^cilo_ui_${u.port}=[A-Za-z0-9_-]+$`));
    const again = await http(u.port, 'POST', '/api/session', { headers: json, body: JSON.stringify({ token: u.token }) });
    const setCookie = (again.headers['set-cookie'] ?? [])[0] ?? '';
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    assert.ok(!setCookie.includes(u.token), 'the cookie is not the token');
    const snap = await http(u.port, 'GET', '/api/snapshot', { headers: { cookie } });
    assert.equal(snap.status, 200);
    assert.equal(statusOf(env)(JSON.parse(snap.body)), 'running');
    assert.equal((await http(u.port, 'GET', '/api/snapshot', { headers: { cookie: `${cookie}x` } })).status, 401);
  });

  test('a Host other than 127.0.0.1:PORT is refused, cookie or not (DNS rebinding)', async () => {
    const u = ui!;
    for (const host of ['evil.example', `evil.example:${u.port}`, `127.0.0.1:${u.port + 1}`, `10.0.0.1:${u.port}`]) {
      for (const path of ['/', '/api/snapshot']) {
        const r = await http(u.port, 'GET', path, { headers: { host, cookie } });
        assert.equal(r.status, 421, `${host} ${path}`);
      }
    }
    assert.equal((await http(u.port, 'GET', '/api/snapshot', { headers: { host: `localhost:${u.port}`, cookie } })).status, 200);
  });

  test('a POST from another Origin (or none) is refused and runs nothing', async () => {
    const u = ui!;
    for (const origin of ['http://evil.example', `http://127.0.0.1:${u.port + 1}`, 'null', undefined]) {
      const headers: Record<string, string> = { cookie, 'content-type': 'application/json', ...(origin ? { origin } : {}) };
      const r = await http(u.port, 'POST', `/api/env/${env}/down`, { headers, body: '{}' });
      assert.equal(r.status, 403, String(origin));
      assert.equal(Object.keys(r.headers).filter((k) => k.startsWith('access-control-')).length, 0);
    }
    const unsigned = await http(u.port, 'POST', `/api/env/${env}/down`, { headers: { origin: `http://127.0.0.1:${u.port}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unsigned.status, 401, 'the right Origin alone is not enough');
    const destroy = await http(u.port, 'POST', `/api/env/${env}/destroy`, { headers: { cookie, origin: `http://127.0.0.1:${u.port}`, 'content-type': 'application/json' }, body: JSON.stringify({ confirm: 'nope' }) });
    assert.equal(destroy.status, 400);
    assert.equal(JSON.parse(destroy.body).code, 'NOT_CONFIRMED');
    const running = await docker.listContainers({ label: [`com.docker.compose.project=cilo-${project}-${env}`], status: ['running'] });
    assert.equal(running.length, 1, 'nothing was stopped or destroyed');
  });

  test('logs stream a line the container printed, and the stream ends when the page goes', async () => {
    const u = ui!;
    const logs = await openEvents(u.port, `/api/env/${env}/logs?follow=1&tail=50`, cookie);
    const line = (await logs.next('line', (d) => /^marker-.*-started$/.test((d as { line: string }).line))) as { service: string };
    assert.equal(line.service, 'app');
    await logs.next('line', (d) => (d as { line: string }).line === 'tick');
    const during = JSON.parse((await http(u.port, 'GET', '/api/server', { headers: { cookie } })).body) as { log_streams: number };
    assert.equal(during.log_streams, 1);
    logs.close();
    await waitFor(
      async () => (JSON.parse((await http(u.port, 'GET', '/api/server', { headers: { cookie } })).body) as { log_streams: number }).log_streams === 0,
      { what: 'the log stream (and its Engine request) to end with the page', deadlineMs: 60_000, intervalMs: 100 },
    );
  });

  test('the event stream sends a new snapshot when the environment changes outside the page', async () => {
    const u = ui!;
    const events = await openEvents(u.port, '/api/events', cookie);
    try {
      await events.next('snapshot', (d) => statusOf(env)(d) === 'running');
      const down = await h.cli(['down', env]);
      assert.equal(down.code, 0, down.stderr);
      await events.next('snapshot', (d) => statusOf(env)(d) === 'stopped');
    } finally {
      events.close();
    }
  });
});

describe('cilo ui --detach', () => {
  let h: TestHome;
  before(() => {
    h = makeHome();
  });
  after(async () => {
    await h.cli(['ui', 'stop']);
    await h.cleanup();
  });

  test('runs in the background, prints the URL with its token, and `ui stop` ends it', async () => {
    const start = await h.cli(['ui', '--detach', '--all', '--json']);
    assert.equal(start.code, 0, start.stderr);
    const r = JSON.parse(start.stdout) as { started: boolean; pid: number; port: number; url: string };
    assert.equal(r.started, true);
    assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{32}$/);
    assert.equal((await http(r.port, 'GET', '/')).status, 200);
    const again = JSON.parse((await h.cli(['ui', '--detach', '--all', '--json'])).stdout) as { started: boolean; pid: number };
    assert.deepEqual([again.started, again.pid], [false, r.pid], 'one per home');
    const status = await h.cli(['ui', 'status']);
    assert.equal(status.code, 0);
    assert.ok(status.stdout.includes(r.url));
    const stop = await h.cli(['ui', 'stop', '--json']);
    assert.deepEqual(JSON.parse(stop.stdout), { stopped: true, pid: r.pid, warnings: [] });
    assert.ok(gone(r.pid), 'the process is gone');
    assert.equal((await h.cli(['ui', 'status'])).code, 1);
  });
});
