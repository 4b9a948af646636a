/**
 * Issue 27, "agents": bad arguments to any tool of `cilo mcp` come back as a tool error carrying
 * cilo's failure document ({ok: false, code: "USAGE", message naming the argument, hint}), as the
 * README promises, not as the SDK's bare "MCP error -32602" text. Driven by the SDK's own client.
 */
import { after, before, describe, test } from '../support/bounded-test.js';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, copyFixture, makeHome, tearDown, uid, type TestHome } from './helpers.js';

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

interface Failure {
  ok: boolean;
  code: string;
  message: string;
  hint: string | null;
}

/** The failure document of a tool error; fails the test when the call did not fail so. */
function failureOf(r: ToolResult): Failure {
  assert.equal(r.isError, true, JSON.stringify(r));
  const text = r.content[0]?.text ?? '';
  let doc: Failure;
  try {
    doc = JSON.parse(text) as Failure;
  } catch {
    assert.fail(`not cilo's failure document: ${text}`);
  }
  assert.equal(doc.ok, false);
  return doc;
}

describe('cilo mcp: invalid arguments', () => {
  let h: TestHome;
  let dir: string;
  let client: Client;
  const project = uid('mcpa');
  const call = async (name: string, args: Record<string, unknown>): Promise<ToolResult> => (await client.callTool({ name, arguments: args })) as ToolResult;

  before(async () => {
    h = makeHome();
    dir = copyFixture('mcp-web', { '.cilo/config.yml': `project: ${project}\n` });
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--allow-destroy'], cwd: dir, env: h.env as Record<string, string>, stderr: 'pipe' });
    client = new Client({ name: 'cilo-test', version: '1.0.0' });
    await client.connect(transport);
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await tearDown(h, project, dir);
  });

  test('a value of the wrong type is USAGE naming the argument, with what it takes', async () => {
    const doc = failureOf(await call('exec', { env: 'm1', service: 'web', argv: 'ls -l' }));
    assert.equal(doc.code, 'USAGE');
    assert.match(doc.message, /The argument "argv" of the exec tool is invalid: .*expected array, received string/);
    assert.match(doc.hint ?? '', /^argv: program and arguments/);
    const range = failureOf(await call('logs', { env: 'm1', tail: 0 }));
    assert.equal(range.code, 'USAGE');
    assert.match(range.message, /"tail" of the logs tool is invalid: .*>=1/);
    const element = failureOf(await call('up', { env: 'm1', shared: ['db', 3] }));
    assert.match(element.message, /"shared\[1\]" of the up tool is invalid/);
  });

  test('a missing argument and one the tool does not take are named', async () => {
    const missing = failureOf(await call('up', {}));
    assert.equal(missing.code, 'USAGE');
    assert.equal(missing.message, 'The up tool needs the argument "env".');
    assert.match(missing.hint ?? '', /env: environment name/);
    const unknown = failureOf(await call('up', { env: 'm1', timeout: 600 }));
    assert.equal(unknown.code, 'USAGE');
    assert.equal(unknown.message, 'The up tool has no argument "timeout".');
    assert.match(unknown.hint ?? '', /timeout_seconds/);
  });

  test('every tool answers bad arguments with the failure document', async () => {
    const { tools } = await client.listTools();
    assert.ok(tools.length >= 8, tools.map((t) => t.name).join(', '));
    for (const t of tools) {
      const doc = failureOf(await call(t.name, { no_such_argument: true }));
      assert.equal(doc.code, 'USAGE', `${t.name}: ${doc.message}`);
      assert.match(doc.message, new RegExp(`\\b${t.name}\\b`), t.name);
      assert.ok(doc.hint, t.name);
    }
  });

  test('valid arguments still reach the tool; an unknown tool is a failure document too', async () => {
    const ok = await call('list_environments', {});
    assert.notEqual(ok.isError, true, ok.content[0]?.text);
    assert.deepEqual(JSON.parse(ok.content[0]?.text ?? 'null'), { environments: [] });
    const notFound = failureOf(await call('status', { env: 'nosuch' }));
    assert.equal(notFound.code, 'ENV_NOT_FOUND');
    const noTool = failureOf(await call('nosuch', {}));
    assert.equal(noTool.code, 'USAGE');
    assert.match(noTool.message, /no tool "nosuch"/);
  });
});
