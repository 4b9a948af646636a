import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { CiloError } from '../errors.js';
import { startUiServer, type UiBackend } from './server.js';

/** A backend without Docker: records what the server asked of it. */
function standIn() {
  const calls: string[] = [];
  let logAborted: () => void = () => undefined;
  const aborted = new Promise<void>((r) => (logAborted = r));
  let change: () => void = () => undefined;
  const backend: UiBackend = {
    snapshot: async () => ({ environments: [], n: calls.length }),
    usage: async () => {
      calls.push('usage');
      return { environments: [{ name: 'a', usage: { memory_bytes: 1 } }], total: { containers: 1 } };
    },
    environment: async (name) => {
      throw new CiloError('ENV_NOT_FOUND', `There is no environment named "${name}".`);
    },
    action: async (action, name) => {
      calls.push(`${action} ${name}`);
      return { ok: true, message: 'done' };
    },
    destroyPlan: async (name) => ({ env: name, text: `Destroying ${name} removes it.` }),
    doctor: async () => {
      throw new Error('a bug');
    },
    logs: async (_name, _req, onLine, signal) => {
      onLine({ service: 'app', line: 'first' });
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      logAborted();
    },
    watch: (onChange) => {
      change = onChange;
    },
  };
  return { backend, calls, aborted, changed: () => change() };
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string; cookie?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

test('errors reach the page as JSON with a status by kind; a bug shows no details', async () => {
  const s = standIn();
  const server = await startUiServer({ port: 0, backend: s.backend, log: () => undefined });
  try {
    const post = { origin: `http://127.0.0.1:${server.port}`, 'content-type': 'application/json' };
    const { cookie } = await call(server.port, 'POST', '/api/session', post, JSON.stringify({ token: server.token }));
    assert.ok(cookie);
    const missing = await call(server.port, 'GET', '/api/env/nope', { cookie });
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).code, 'ENV_NOT_FOUND');
    const bug = await call(server.port, 'POST', '/api/doctor', { ...post, cookie }, '{}');
    assert.equal(bug.status, 500);
    assert.doesNotMatch(bug.body, /a bug/);
    const ok = await call(server.port, 'POST', '/api/env/a/pause', { ...post, cookie }, '{}');
    assert.equal(ok.status, 200);
    assert.deepEqual(s.calls, ['pause a']);
    assert.equal((await call(server.port, 'POST', '/api/env/a/explode', { ...post, cookie }, '{}')).status, 404);
  } finally {
    await server.close();
  }
});

test("closing a log stream aborts the backend's stream", async () => {
  const s = standIn();
  const server = await startUiServer({ port: 0, backend: s.backend });
  try {
    const post = { origin: `http://127.0.0.1:${server.port}`, 'content-type': 'application/json' };
    const { cookie } = await call(server.port, 'POST', '/api/session', post, JSON.stringify({ token: server.token }));
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/api/env/a/logs?follow=1', headers: { host: `127.0.0.1:${server.port}`, cookie: cookie ?? '' } }, (res) => {
        res.on('data', (c: Buffer) => {
          if (c.toString().includes('"first"')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      setTimeout(() => reject(new Error('no line')), 5000);
      req.end();
    });
    await s.aborted;
    await new Promise((r) => setImmediate(r)); // the server's bookkeeping after the backend returned
    assert.deepEqual(server.stats(), { event_streams: 0, log_streams: 0 });
  } finally {
    await server.close();
  }
});

test('usage has its own endpoint, behind the session like the rest, and does not ask for the snapshot', async () => {
  const s = standIn();
  const server = await startUiServer({ port: 0, backend: s.backend });
  try {
    assert.equal((await call(server.port, 'GET', '/api/usage')).status, 401);
    const post = { origin: `http://127.0.0.1:${server.port}`, 'content-type': 'application/json' };
    const { cookie } = await call(server.port, 'POST', '/api/session', post, JSON.stringify({ token: server.token }));
    const r = await call(server.port, 'GET', '/api/usage', { cookie: cookie ?? '' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { environments: [{ name: 'a', usage: { memory_bytes: 1 } }], total: { containers: 1 } });
    assert.deepEqual(s.calls, ['usage']);
  } finally {
    await server.close();
  }
});
