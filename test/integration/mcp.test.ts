/**
 * `cilo mcp` driven end to end by the MCP SDK's own client over stdio: the tools, validation and
 * failures as tool errors, up returning a manifest whose URLs answer, exec/logs with caps and
 * timeouts, destroy only when allowed and confirmed, and stdout holding nothing but JSON-RPC.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { validate } from '../support/json-schema.js';
import { CLI, copyFixture, ensureFixtureImage, makeHome, ROOT, tearDown, uid, waitFor, type TestHome } from './helpers.js';

const schema = JSON.parse(readFileSync(`${ROOT}/docs/manifest.schema.json`, 'utf8')) as Record<string, unknown>;

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

function body(r: ToolResult): Record<string, unknown> {
  return JSON.parse(r.content[0]?.text ?? 'null') as Record<string, unknown>;
}

interface Session {
  client: Client;
  /** Transport errors: a line on stdout that is not JSON-RPC shows up here. */
  errors: Error[];
  stderr: () => string;
  close: () => Promise<void>;
}

async function connect(h: TestHome, cwd: string, args: string[] = []): Promise<Session> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', ...args], cwd, env: h.env as Record<string, string>, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const errors: Error[] = [];
  const client = new Client({ name: 'cilo-test', version: '1.0.0' });
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return { client, errors, stderr: () => stderr, close: () => client.close() };
}

const call = (s: Session, name: string, args: Record<string, unknown>, opts: { onprogress?: (p: { progress: number; message?: string }) => void } = {}): Promise<ToolResult> =>
  s.client.callTool({ name, arguments: args }, undefined, { timeout: 240_000, ...opts }) as Promise<ToolResult>;

before(() => ensureFixtureImage());

describe('cilo mcp', () => {
  let h: TestHome;
  let dir: string;
  let s: Session;
  const project = uid('mcp');
  before(async () => {
    h = makeHome();
    dir = copyFixture('mcp-web', { '.cilo/config.yml': `project: ${project}\n` });
    s = await connect(h, dir);
  });
  after(async () => {
    await s?.close().catch(() => undefined);
    await tearDown(h, project, dir);
  });

  test('lists its tools; destroy is absent without --allow-destroy', async () => {
    const { tools } = await s.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['down', 'exec', 'list_environments', 'logs', 'status', 'up', 'urls']);
    const exec = tools.find((t) => t.name === 'exec');
    assert.equal((exec?.inputSchema.properties as Record<string, { type?: string }>).argv?.type, 'array');
  });

  test('invalid input and cilo failures come back as tool errors, not protocol errors', async () => {
    const bad = await call(s, 'exec', { env: 'm1', service: 'web', argv: 'ls -l' });
    assert.equal(bad.isError, true);
    assert.match(bad.content[0]?.text ?? '', /argv/);
    const missing = await call(s, 'status', { env: 'nosuch' });
    assert.equal(missing.isError, true);
    const doc = body(missing);
    assert.deepEqual([doc.ok, doc.code], [false, 'ENV_NOT_FOUND']);
    assert.match(String(doc.hint), /cilo list/);
  });

  test('up returns a manifest whose URLs answer, with progress notifications', async () => {
    const progress: string[] = [];
    const r = await call(s, 'up', { env: 'm1' }, { onprogress: (p) => progress.push(p.message ?? '') });
    assert.notEqual(r.isError, true, r.content[0]?.text);
    const m = r.structuredContent as { env: string; services: { name: string; ip_url: string; environment: Record<string, string> }[] };
    assert.deepEqual(validate(schema, m), []);
    assert.equal(m.env, 'm1');
    assert.ok(progress.some((l) => /Starting|Waiting/.test(l)), `progress: ${progress.join(' | ')}`);
    const web = m.services.find((x) => x.name === 'web');
    assert.equal(web?.environment.DATABASE_URL, 'postgres://app:***@db:5432/app');
    const page = await fetch(`${web?.ip_url}/index.html`);
    assert.equal((await page.text()).trim(), 'hello-mcp');

    const list = body(await call(s, 'list_environments', {}));
    assert.deepEqual((list.environments as { name: string }[]).map((e) => e.name), ['m1']);
    const urls = body(await call(s, 'urls', { env: 'm1' }));
    assert.equal(urls.base_url, `http://${project}.m1.test`);
    assert.equal((urls.urls as { http: string }).http, urls.url, 'urls by scheme beside url (issue #25)');
    assert.ok(urls.routing === 'direct' || urls.routing === 'router');
  });

  test('exec returns exit code and output, capped, and stops at the timeout; logs keep the tail', async () => {
    const r = body(await call(s, 'exec', { env: 'm1', service: 'web', argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }));
    assert.deepEqual([r.exit_code, String(r.stdout).trim(), String(r.stderr).trim(), r.timed_out], [3, 'out', 'err', false]);
    const big = body(await call(s, 'exec', { env: 'm1', service: 'web', argv: ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done'], max_bytes: 1024 }));
    assert.ok(String(big.stdout).length <= 1024);
    assert.match(String(big.stdout), /line-2999\n$/);
    assert.ok(Number(big.truncated_bytes) > 0);
    const slow = body(await call(s, 'exec', { env: 'm1', service: 'web', argv: ['sleep', '30'], timeout_seconds: 1 }));
    assert.deepEqual([slow.timed_out, slow.exit_code], [true, null]);
    const logs = body(await call(s, 'logs', { env: 'm1', service: 'web', tail: 50 }));
    assert.match(String(logs.logs), /started-web/);
    const shared = await call(s, 'exec', { env: 'm1', service: 'nosuch', argv: ['true'] });
    assert.equal(body(shared).code, 'SERVICE_NOT_FOUND');
  });

  test('down with pause, then the server refuses what is out of its project', async () => {
    const r = body(await call(s, 'down', { env: 'm1', pause: true }));
    assert.equal(r.status, 'paused');
    const other = await call(s, 'status', { env: 'm1', show_secrets: true });
    assert.equal(body(other).status, 'paused');
    assert.deepEqual(s.errors, [], 'every line on stdout was JSON-RPC');
  });

  test('destroy with --allow-destroy only when confirm repeats the name', async () => {
    const d = await connect(h, dir, ['--allow-destroy']);
    try {
      const { tools } = await d.client.listTools();
      assert.ok(tools.some((t) => t.name === 'destroy'));
      const refused = await call(d, 'destroy', { env: 'm1', confirm: 'm2' });
      assert.equal(body(refused).code, 'NOT_CONFIRMED');
      const ok = body(await call(d, 'destroy', { env: 'm1', confirm: 'm1' }));
      assert.equal(ok.destroyed, true);
      const gone = await call(d, 'status', { env: 'm1' });
      assert.equal(body(gone).code, 'ENV_NOT_FOUND');
    } finally {
      await d.close();
    }
  });

  test('stdout holds nothing but JSON-RPC messages, also when a call fails', async () => {
    const child = spawn(process.execPath, [CLI, 'mcp'], { cwd: dir, env: h.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const send = (m: unknown): boolean => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'up', arguments: { env: 'BAD NAME!' } } });
    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'logs', arguments: { env: 'nosuch' } } });
    await waitFor(() => /"id":3/.test(out), { what: 'the reply to request 3', deadlineMs: 60_000 });
    child.stdin.end();
    await new Promise((r) => child.on('close', r));
    const lines = out.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 3, out);
    for (const l of lines) assert.equal((JSON.parse(l) as { jsonrpc: string }).jsonrpc, '2.0');
    const byId = Object.fromEntries(lines.map((l) => JSON.parse(l) as { id: number; result?: ToolResult }).map((m) => [m.id, m]));
    assert.equal(byId[2]?.result?.isError, true);
    assert.equal(body(byId[2]!.result!).code, 'INVALID_NAME');
    assert.equal(body(byId[3]!.result!).code, 'ENV_NOT_FOUND');
  });
});

test('cilo mcp --print-config names the project for Claude Code, Cursor and .mcp.json; outside a project it refuses', async () => {
  const h = makeHome();
  const project = uid('mcpc');
  const dir = copyFixture('app-sleep', { '.cilo/config.yml': `project: ${project}\n` });
  try {
    const r = await h.cli(['mcp', '--print-config'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`claude mcp add cilo -- cilo mcp --project ${project}`));
    assert.match(r.stdout, /\.cursor\/mcp\.json/);
    assert.match(r.stdout, /"mcpServers"/);
    const outside = await h.cli(['mcp'], { cwd: '/' });
    assert.equal(outside.code, 2);
    assert.match(outside.stderr, /--project/);
  } finally {
    await tearDown(h, project, dir);
  }
});
